"""The catalogue: the seeded file is clean; the importer is a dry run first and finds mistakes."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.management import CommandError, call_command

from zhili.bundles.catalogue import (
    DEFAULT_PATH,
    catalogue_check,
    catalogue_import,
    catalogue_load_file,
)
from zhili.bundles.models import Bundle, Matter


@pytest.fixture
def doc():
    return catalogue_load_file(DEFAULT_PATH)


def test_the_shipped_catalogue_is_clean_and_real(db, doc):
    report = catalogue_check(doc)
    assert report.ok, report.errors
    codes = {b["code"] for b in doc["bundles"]}
    assert len(codes) >= 10
    assert {"newborn", "school-enrolment", "retirement", "after-death", "veterans", "open-restaurant",
            "start-business", "business-change", "disability-services", "credit-repair",
            "utilities-connection"} <= codes
    # Every matter says where it comes from, and what is assumed is said.
    assert all(m["source"] and m["legal_basis"] for m in doc["matters"])
    assert all("assumed" in m for m in doc["matters"])


def test_dry_run_writes_nothing(db, doc):
    doc = copy.deepcopy(doc)
    doc["bundles"][0]["name"] = "改过的名字"
    report = catalogue_import(actor=None, doc=doc, commit=False)
    assert report.ok and not report.committed
    assert Bundle.objects.get(code=doc["bundles"][0]["code"]).name != "改过的名字"


def test_reimport_is_idempotent(db, doc):
    before = (Matter.objects.count(), Bundle.objects.count())
    assert catalogue_import(actor=None, doc=doc, commit=True).committed
    assert (Matter.objects.count(), Bundle.objects.count()) == before


def test_problems_are_reported_and_nothing_is_written(db, doc):
    doc = copy.deepcopy(doc)
    matters = {m["code"]: m for m in doc["matters"]}
    matters["vaccination-certificate"]["elements"].append("shoe-size")
    matters["birth-medical-certificate"]["depends_on"] = ["household-birth-registration"]  # a cycle
    matters["household-birth-registration"]["depends_on"].append("resident-medical-insurance-premium")
    doc["bundles"][0]["name"] = "不应写入"
    report = catalogue_import(actor=None, doc=doc, commit=True)
    text = "\n".join(report.errors)
    assert "unknown data element 'shoe-size'" in text
    assert "which has no output" in text  # the premium issues nothing to depend on
    assert "cycle" in text
    assert not report.committed
    assert Bundle.objects.filter(name="不应写入").count() == 0


def test_the_command_is_a_dry_run_unless_commit(db, tmp_path, doc, capsys):
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    call_command("bundles", "import", str(path))
    assert "dry run" in capsys.readouterr().out
    call_command("bundles", "import", str(path), "--commit")
    assert "committed" in capsys.readouterr().out
    broken = copy.deepcopy(doc)
    broken["matters"][0]["department"] = "ministry-of-magic"
    path.write_text(json.dumps(broken))
    with pytest.raises(CommandError):
        call_command("bundles", "import", str(path), "--commit")
    path.write_text("{not json")
    with pytest.raises(CommandError):
        call_command("bundles", "import", str(path))


def test_the_admin_refuses_a_cycle(db):
    from zhili.bundles.admin import MatterForm

    matter = Matter.objects.get(code="birth-medical-certificate")
    dependant = Matter.objects.get(code="household-birth-registration")
    form = MatterForm(instance=matter, data={
        "code": matter.code, "name": matter.name, "name_en": matter.name_en,
        "department": matter.department_id, "statutory_days": 5, "promised_days": 1, "fee": "0",
        "trips_alone": 1, "online": True, "depends_on": [dependant.pk]})
    assert not form.is_valid()
    assert "birth-medical-certificate → household-birth-registration" in str(form.errors)


def test_catalogue_metrics_are_honest(db):
    from zhili.bundles.metrics import catalogue_metrics

    metrics = catalogue_metrics()
    overall = metrics["overall"]
    assert overall["bundles"] >= 10
    for row in metrics["bundles"]:
        assert row["materials_asked"] <= row["materials_deduplicated"] <= row["materials_separate"]
        assert row["critical_path_days"] <= row["promised_days_sum"] <= row["statutory_days_sum"]
        assert row["fields_asked"] <= row["fields_separate"]
    newborn = next(r for r in metrics["bundles"] if r["bundle"] == "newborn")
    assert newborn["critical_path"][0] == "birth-medical-certificate"


def test_the_metrics_command_prints_json(db, capsys):
    call_command("bundles", "metrics")
    printed = json.loads(capsys.readouterr().out)
    assert printed["catalogue"]["overall"]["bundles"] >= 10
    assert printed["observed"]["applications"] >= 20
