"""The JSON catalogue: check it (dry run) and import it (`zhili bundles import FILE --commit`).

A check reports unknown data elements, materials and departments, dependencies
on matters without an output, materials satisfied by a certificate type nobody
issues, and cycles; nothing is written unless it is clean and `commit` is set.
Importing is an upsert by code, so rerunning the same file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from zhili.accounts.models import Department
from zhili.audit.services import audit_record
from zhili.bundles import graph
from zhili.bundles.models import (
    Bundle,
    BundleMatter,
    DataElement,
    ElementKind,
    Material,
    Matter,
    Medium,
    Situation,
)

DEFAULT_PATH = Path(__file__).parent / "data" / "catalogue.json"


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        out = [f"{k}: {v}" for k, v in self.counts.items()]
        out += [f"ERROR {e}" for e in self.errors] + [f"warning {w}" for w in self.warnings]
        out.append("committed" if self.committed else "dry run: nothing written")
        return out


def _registry_types() -> set[str]:
    try:
        from zhili.registry.models import CERTIFICATE_TYPES
    except ImportError:  # pragma: no cover
        return set()
    return set(CERTIFICATE_TYPES)


def catalogue_check(doc: dict) -> Report:
    """Every problem of a catalogue document, without touching the database but for departments."""
    report = Report()
    if not isinstance(doc, dict):
        report.errors.append("the catalogue must be a JSON object")
        return report
    elements = {e.get("code"): e for e in doc.get("elements", []) if isinstance(e, dict)}
    materials = {m.get("code"): m for m in doc.get("materials", []) if isinstance(m, dict)}
    matters = {m.get("code"): m for m in doc.get("matters", []) if isinstance(m, dict)}
    bundles = [b for b in doc.get("bundles", []) if isinstance(b, dict)]
    known_depts = set(Department.objects.values_list("code", flat=True))
    known_depts |= {d[0] for d in doc.get("departments", []) if isinstance(d, list) and d}
    for code, e in elements.items():
        if e.get("kind", "text") not in ElementKind.values:
            report.errors.append(f"element {code}: unknown kind {e.get('kind')!r}")
        if e.get("choices_en") and len(e["choices_en"]) != len(e.get("choices", [])):
            report.errors.append(f"element {code}: choices_en must name each choice, in order")
        if e.get("dates", "any") not in ("any", "past", "future"):
            report.errors.append(f"element {code}: dates must be any, past or future")
    for code, m in materials.items():
        if m.get("medium", "electronic") not in Medium.values:
            report.errors.append(f"material {code}: unknown medium {m.get('medium')!r}")
    outputs = {m.get("output") for m in matters.values() if m.get("output")}
    for code, m in matters.items():
        if m.get("department") not in known_depts:
            report.errors.append(f"matter {code}: unknown department {m.get('department')!r}")
        for e in m.get("elements", []):
            if e not in elements:
                report.errors.append(f"matter {code}: unknown data element {e!r}")
        for mat in m.get("materials", []):
            if mat not in materials:
                report.errors.append(f"matter {code}: unknown material {mat!r}")
        for d in m.get("depends_on", []):
            if d not in matters:
                report.errors.append(f"matter {code}: depends on unknown matter {d!r}")
            elif not matters[d].get("output"):
                report.errors.append(f"matter {code}: depends on {d!r}, which has no output")
        try:
            if int(m.get("promised_days", 0)) > int(m.get("statutory_days", 0)):
                report.errors.append(f"matter {code}: promised limit exceeds the statutory one")
        except (TypeError, ValueError):
            report.errors.append(f"matter {code}: time limits must be whole days")
    issued = outputs | _registry_types()
    for code, mat in materials.items():
        if mat.get("cert_type") and mat["cert_type"] not in issued:
            report.warnings.append(f"material {code}: certificate type {mat['cert_type']!r} is issued "
                                   "by no matter and unknown to the registry (asked as an upload)")
    deps = {c: set(m.get("depends_on", [])) & set(matters) for c, m in matters.items()}
    cycle = graph.find_cycle(deps)
    if cycle:
        report.errors.append("dependency cycle: " + " → ".join(cycle))
    for b in bundles:
        code = b.get("code")
        if b.get("lead") not in known_depts:
            report.errors.append(f"bundle {code}: unknown lead department {b.get('lead')!r}")
        inside = set(b.get("matters", []))
        for mc in b.get("matters", []):
            if mc not in matters:
                report.errors.append(f"bundle {code}: unknown matter {mc!r}")
        for s in b.get("situations", []):
            for mc in s.get("matters", []):
                if mc not in inside:
                    report.errors.append(f"bundle {code}: situation {s.get('code')} names {mc!r}, "
                                         "not in the bundle")
    report.counts = {"elements": len(elements), "materials": len(materials),
                     "matters": len(matters), "bundles": len(bundles)}
    return report


def digest(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _upsert(model, rows: list[dict], key: str = "code") -> dict[str, object]:
    """Create the missing rows and update the rest in bulk; return every row by its key."""
    existing = {getattr(o, key): o for o in model.objects.filter(**{f"{key}__in": [r[key] for r in rows]})}
    create, update, fields = [], [], set()
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            create.append(model(**row))
        else:
            for name, value in row.items():
                setattr(obj, name, value)
            fields |= set(row) - {key}
            update.append(obj)
    if create:
        model.objects.bulk_create(create)
    if update and fields:
        model.objects.bulk_update(update, sorted(fields))
    return {getattr(o, key): o for o in model.objects.filter(**{f"{key}__in": [r[key] for r in rows]})}


def _set_m2m(field, owners: dict, wanted: dict[str, list], targets: dict) -> None:
    """Replace the rows of an M2M through table for these owners in two queries."""
    through = field.remote_field.through
    src = field.m2m_field_name() + "_id"
    dst = field.m2m_reverse_field_name() + "_id"
    through.objects.filter(**{f"{src}__in": [o.pk for o in owners.values()]}).delete()
    through.objects.bulk_create([
        through(**{src: owners[code].pk, dst: targets[t].pk})
        for code, items in wanted.items() for t in dict.fromkeys(items)])


def catalogue_import(*, actor, doc: dict, commit: bool = False) -> Report:
    """Check, then (with `commit`) upsert everything in one transaction, in bulk."""
    report = catalogue_check(doc)
    if not report.ok or not commit:
        return report
    now = timezone.now()
    with transaction.atomic():
        for code, name, name_en in doc.get("departments", []):
            Department.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
        depts = {d.code: d for d in Department.objects.all()}
        els = _upsert(DataElement, [{
            "code": e["code"], "label": e["label"], "label_en": e.get("label_en", ""),
            "kind": e.get("kind", "text"), "max_length": e.get("max_length", 64),
            "pattern": e.get("pattern", ""), "choices": e.get("choices", []),
            "choices_en": e.get("choices_en", []), "dates": e.get("dates", "any"),
            "source": e.get("source", "")} for e in doc.get("elements", [])])
        mats = _upsert(Material, [{
            "code": m["code"], "name": m["name"], "name_en": m.get("name_en", ""),
            "cert_type": m.get("cert_type", ""), "medium": m.get("medium", "electronic")}
            for m in doc.get("materials", [])])
        docs = doc.get("matters", [])
        matters = _upsert(Matter, [{
            "code": m["code"], "name": m["name"], "name_en": m.get("name_en", ""),
            "department": depts[m["department"]], "legal_basis": m.get("legal_basis", "")[:300],
            "legal_basis_en": m.get("legal_basis_en", "")[:300],
            "statutory_days": m["statutory_days"], "promised_days": m["promised_days"],
            "fee": m.get("fee", 0), "output_cert_type": m.get("output", ""),
            "trips_alone": m.get("trips_alone", 1), "online": m.get("online", True),
            "source": m.get("source", "")[:300], "assumed": m.get("assumed", "")[:300]} for m in docs])
        _set_m2m(Matter.elements.field, matters, {m["code"]: m.get("elements", []) for m in docs}, els)
        _set_m2m(Matter.materials.field, matters, {m["code"]: m.get("materials", []) for m in docs}, mats)
        _set_m2m(Matter.depends_on.field, matters, {m["code"]: m.get("depends_on", []) for m in docs},
                 matters)
        bdocs = doc.get("bundles", [])
        bundles = _upsert(Bundle, [{
            "code": b["code"], "name": b["name"], "name_en": b.get("name_en", ""),
            "life_event": b.get("life_event", "other"), "audience": b.get("audience", "person"),
            "description": b.get("description", ""), "description_en": b.get("description_en", ""),
            "lead_department": depts[b["lead"]],
            "source": b.get("source", "")[:300], "assumed": b.get("assumed", "")[:300],
            "updated_at": now} for b in bdocs])
        BundleMatter.objects.filter(bundle__in=list(bundles.values())).delete()
        BundleMatter.objects.bulk_create([
            BundleMatter(bundle=bundles[b["code"]], matter=matters[c], position=i)
            for b in bdocs for i, c in enumerate(dict.fromkeys(b.get("matters", [])))])
        # Situations are replaced whole: nothing else refers to them.
        Situation.objects.filter(bundle__in=list(bundles.values())).delete()
        situations = [Situation(bundle=bundles[b["code"]], code=s["code"], question=s["question"],
                                question_en=s.get("question_en", ""), default=s.get("default", True),
                                include_when=s.get("include_when", True), position=i)
                      for b in bdocs for i, s in enumerate(b.get("situations", []))]
        Situation.objects.bulk_create(situations)
        if situations and situations[0].pk is None:  # databases that return no ids
            situations = list(Situation.objects.filter(bundle__in=list(bundles.values())))
        by_key = {(s.bundle_id, s.code): s for s in situations}
        through = Situation.matters.through
        through.objects.bulk_create([
            through(situation_id=by_key[(bundles[b["code"]].pk, s["code"])].pk, matter_id=matters[c].pk)
            for b in bdocs for s in b.get("situations", []) for c in dict.fromkeys(s.get("matters", []))])
        audit_record(actor=actor, action="bundles.catalogue_import", object_type="bundles.catalogue",
                     object_id=digest(doc)[:16], detail=report.counts)
    report.committed = True
    return report


def catalogue_load_file(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
