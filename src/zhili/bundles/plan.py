"""A bundle loaded once into plain Python: matters, graph, situations, elements, materials.

`plan_load` runs a fixed number of queries whatever the size of the bundle
(prefetches, no per-matter round trips); everything else here is pure and
works on the loaded plan. Notice, form, submission and metrics all start here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from zhili.bundles import graph
from zhili.bundles.models import Bundle, BundleMatter, DataElement, Material, Matter, Situation
from zhili.core.errors import NotFound, invalid


@dataclass
class Plan:
    bundle: Bundle
    matters: list[Matter]  # in the bundle's order
    by_code: dict[str, Matter]
    deps: dict[str, set[str]]  # inside the bundle only
    situations: list[Situation]
    governed: dict[str, list[Situation]]  # matter code -> situations that decide it

    # --- situations ------------------------------------------------------------------------
    def answers_clean(self, answers: dict | None) -> dict[str, bool]:
        """Each situation's answer (its default when not given); 422 on unknown or non-yes/no."""
        answers = answers or {}
        if not isinstance(answers, dict):
            raise invalid("answers", _("must be an object of situation code to true/false"))
        codes = {s.code for s in self.situations}
        for key, value in answers.items():
            if key not in codes:
                raise invalid(f"answers.{key}", _("no such question in this bundle"))
            if not isinstance(value, bool):
                raise invalid(f"answers.{key}", _("must be true or false"))
        return {s.code: answers.get(s.code, s.default) for s in self.situations}

    def applicable(self, answers: dict[str, bool]) -> list[Matter]:
        return [m for m in self.matters
                if all(answers[s.code] == s.include_when for s in self.governed.get(m.code, ()))]

    # --- the union of what the applicable matters ask ----------------------------------------
    @staticmethod
    def elements(matters: list[Matter]) -> list[DataElement]:
        seen: dict[str, DataElement] = {}
        for m in matters:
            for e in m.elements.all():
                seen.setdefault(e.code, e)
        return list(seen.values())

    @staticmethod
    def outputs(matters: list[Matter]) -> set[str]:
        return {m.output_cert_type for m in matters if m.output_cert_type}

    @staticmethod
    def materials(matters: list[Matter]) -> list[tuple[Material, list[str]]]:
        """Each distinct material once, with the matters that need it."""
        seen: dict[str, tuple[Material, list[str]]] = {}
        for m in matters:
            for mat in m.materials.all():
                seen.setdefault(mat.code, (mat, []))[1].append(m.code)
        return list(seen.values())

    def produced(self, matters: list[Matter]) -> set[str]:
        """Materials issued on the way: every matter needing one comes after a matter issuing it."""
        deps = self.graph_of(matters)
        output = {m.code: m.output_cert_type for m in matters}
        ancestors: dict[str, set[str]] = {}
        for code in graph.topological(deps):
            ancestors[code] = set().union(*[{d} | ancestors[d] for d in deps[code]]) if deps[code] else set()
        return {mat.code for mat, needed_by in self.materials(matters)
                if mat.cert_type and all(any(output[a] == mat.cert_type for a in ancestors[m])
                                         for m in needed_by)}

    def graph_of(self, matters: list[Matter]) -> dict[str, set[str]]:
        return graph.restrict(self.deps, [m.code for m in matters])

    def critical_days(self, matters: list[Matter]) -> tuple[int, list[str]]:
        days, path = graph.critical_path(self.graph_of(matters),
                                         {m.code: m.promised_days for m in matters})
        return int(days), path


def _matters_qs():
    return Matter.objects.select_related("department").prefetch_related(
        "elements", "materials", Prefetch("depends_on", queryset=Matter.objects.only("id", "code")))


# Plans are read-only catalogue data: kept per process, keyed by the bundle's
# updated_at, which the importer and the admin bump on every catalogue change.
_CACHE: dict[int, tuple[object, Plan]] = {}


def plan_load(bundle: Bundle | str) -> Plan:
    """Load a published bundle (by object or code) with everything the pages need."""
    if isinstance(bundle, str):
        if not bundle:
            raise NotFound(_("No such bundle."))
        bundle = (Bundle.objects.select_related("lead_department")
                  .filter(code=bundle[:48], published=True).first())
        if bundle is None:
            raise NotFound(_("No such bundle."))
    cached = _CACHE.get(bundle.pk)
    if cached is not None and cached[0] == bundle.updated_at:
        return cached[1]
    plan = _plan_build(bundle)
    _CACHE[bundle.pk] = (bundle.updated_at, plan)
    return plan


def plan_forget() -> None:
    _CACHE.clear()


def _plan_build(bundle: Bundle) -> Plan:
    items = list(BundleMatter.objects.filter(bundle=bundle).prefetch_related(Prefetch("matter", queryset=_matters_qs())))
    matters = [i.matter for i in items]
    by_code = {m.code: m for m in matters}
    deps = {m.code: {d.code for d in m.depends_on.all() if d.code in by_code} for m in matters}
    situations = list(Situation.objects.filter(bundle=bundle).prefetch_related(
        Prefetch("matters", queryset=Matter.objects.only("id", "code"))))
    governed: dict[str, list[Situation]] = {}
    for s in situations:
        for m in s.matters.all():
            governed.setdefault(m.code, []).append(s)
    return Plan(bundle=bundle, matters=matters, by_code=by_code, deps=deps,
                situations=situations, governed=governed)
