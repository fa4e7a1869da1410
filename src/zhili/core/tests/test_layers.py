"""How the apps may depend on each other, checked on the source (no database).

Reads never import writes; tasks wrap writes without a cycle back; lower apps
never name higher ones; timelines are written only through `events.py`; an
area code is turned into a node in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # src/zhili


def _modules(*globs: str) -> list[Path]:
    found = sorted({p for g in globs for p in ROOT.glob(g)})
    return [p for p in found if "tests" not in p.relative_to(ROOT).parts
            and "migrations" not in p.relative_to(ROOT).parts]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _name(path: Path) -> str:
    return "zhili." + ".".join(path.relative_to(ROOT).with_suffix("").parts)


READS = _modules("*/selectors.py", "*/*/selectors.py", "*/figures.py", "governance/access.py",
                 "governance/ladder.py", "governance/attributes.py", "bundles/access.py")


@pytest.mark.parametrize("path", READS, ids=_name)
def test_reads_never_import_writes(path):
    writes = sorted(m for m in _imports(path) if ".services" in m)
    assert not writes, f"{_name(path)} imports {writes}"


@pytest.mark.parametrize("app", sorted(p.parent.name for p in ROOT.glob("*/tasks.py")))
def test_tasks_and_services_do_not_import_each_other_both_ways(app):
    services = [ROOT / app / "services.py", *(ROOT / app).glob("services/*.py")]
    services_import_tasks = any(f"zhili.{app}.tasks" in _imports(p) for p in services
                                if p.exists())
    tasks_import_services = any(m.startswith(f"zhili.{app}.services")
                                for m in _imports(ROOT / app / "tasks.py"))
    assert not (services_import_tasks and tasks_import_services)


def test_selectors_and_figures_are_no_cycle():
    assert not any(m.startswith("zhili.governance.figures")
                   for m in _imports(ROOT / "governance/selectors.py"))


@pytest.mark.parametrize("path", _modules("geo/**/*.py"), ids=_name)
def test_geo_does_not_import_accounts(path):
    assert not any(m.startswith("zhili.accounts") for m in _imports(path))


@pytest.mark.parametrize("path", _modules("governance/views/*.py"), ids=_name)
def test_governance_pages_do_not_reach_into_open311(path):
    assert not any(m.startswith("zhili.governance.open311") for m in _imports(path))


def _writes_rows(path: Path, model: str) -> bool:
    """`Model(...)` or `Model.objects.create/bulk_create/get_or_create(...)` in the file."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == model:
            return True
        if isinstance(func, ast.Attribute) and func.attr in ("create", "bulk_create",
                                                             "get_or_create"):
            owner = func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "objects" and \
                    isinstance(owner.value, ast.Name) and owner.value.id == model:
                return True
    return False


@pytest.mark.parametrize("app,model", [("governance", "CaseEvent"), ("bundles", "Event")])
def test_timeline_rows_are_written_only_through_events(app, model):
    writers = [_name(p) for p in _modules(f"{app}/**/*.py")
               if p.name != "events.py" and _writes_rows(p, model)]
    assert writers == []


def test_area_codes_become_nodes_in_geo_only():
    """`node_by_code` (geo.selectors) pads a trimmed code; nobody else does it again."""
    padding = [_name(p) for p in _modules("*/**/*.py")
               if p.relative_to(ROOT).parts[0] != "geo" and p.name != "demo.py"
               and "ljust(12" in p.read_text()]
    assert padding == []
