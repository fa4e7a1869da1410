"""Errors of a service shown on a page: beside the input they concern, in words.

A service names the field it refuses in its own terms (`due_hours`,
`data.birth-date`, `file`); a page shows inputs with their own names and labels.
`form_errors` maps the one onto the other; whatever has no input on the page
goes under `GENERAL` and is shown at the top of the form, without the internal
name. Templates render a list with `{% field_errors errors "name" %}`
(core/templatetags/zhili_ui.py), the one partial every form uses.
"""

from __future__ import annotations

from collections.abc import Iterable

from zhili.core.errors import ApplicationError

GENERAL = "__all__"


def form_errors(exc: ApplicationError, names: Iterable[str], aliases: dict[str, str] | None = None,
                prefixes: dict[str, str] | None = None) -> dict[str, list[str]]:
    """{input name: [messages]} for the inputs in `names`; everything else under GENERAL.

    `aliases` maps a service's field name to an input name (`"file": "m-id-card"`);
    `prefixes` rewrites a leading part (`{"data.": "f-"}`: `data.birth-date` → `f-birth-date`).
    """
    names, aliases, prefixes = set(names), aliases or {}, prefixes or {}
    out: dict[str, list[str]] = {}
    for error in exc.errors:
        name = aliases.get(error.field, error.field)
        for old, new in prefixes.items():
            if name.startswith(old):
                name = new + name[len(old):]
                break
        out.setdefault(name if name in names else GENERAL, []).append(str(error.message))
    if not exc.errors:
        out.setdefault(GENERAL, []).append(str(exc.detail or exc.title))
    return out
