"""Query-count pins: notice, form, submission and a decision cost the same for 1 or 15 matters."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhili.bundles import selectors, services
from zhili.bundles.catalogue import catalogue_import
from zhili.bundles.demo import PDF
from zhili.bundles.models import Task, TaskStatus
from zhili.bundles.plan import plan_forget
from zhili.bundles.synthetic import synthetic_doc

# Pinned after measuring; raising one needs a reason in review (an N+1 shows as a difference
# between the 1-matter and the 15-matter bundle long before it hits these).
MAX = {"notice": 9, "form": 9, "submit": 21, "decide": 16}


@pytest.fixture
def synthetic(db):
    report = catalogue_import(actor=None, doc=synthetic_doc((1, 2, 15)), commit=True)
    assert report.ok, report.errors
    plan_forget()
    return report


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def _measure(applicant, officers, code: str) -> dict[str, int]:
    services.consent_give(actor=applicant, data_items=["person.name"])
    counts = {}
    plan_forget()
    counts["notice"] = _count(lambda: selectors.notice_build(actor=applicant, bundle=code))
    plan_forget()
    counts["form"] = _count(lambda: selectors.form_build(actor=applicant, bundle=code))
    form = selectors.form_build(actor=applicant, bundle=code)
    data = {f["code"]: f["value"] or "值" for f in form["fields"]}
    uploads = {m["code"]: services.upload_store(actor=applicant, material=m["code"], filename="a.pdf",
                                                content=PDF).pk for m in form["materials"]}
    plan_forget()
    applicant.__dict__.pop("_bundles_binding", None)
    result = {}
    counts["submit"] = _count(lambda: result.setdefault("app", services.application_submit(
        actor=applicant, bundle=code, answers={}, data=data, uploads=uploads,
        idempotency_key=uuid.uuid4().hex)))
    task = Task.objects.select_related("matter", "department", "application").get(
        application=result["app"], status=TaskStatus.READY)
    officer = type(officers["health"]).objects.get(pk=officers["health"].pk)  # nothing cached
    counts["decide"] = _count(lambda: services.task_decide(actor=officer, task=task, decision="approve"))
    return counts


def test_costs_do_not_grow_with_the_number_of_matters(synthetic, applicant, officers):
    # Two matters, not one: approving the only matter also completes the application.
    small = _measure(applicant, officers, "syn-2")
    large = _measure(applicant, officers, "syn-15")
    assert small == large, (small, large)
    for name, limit in MAX.items():
        assert large[name] <= limit, (name, large[name])


def test_inbox_and_application_list_are_pinned(api, bearer, officers, applicant, django_assert_max_num_queries):
    headers = bearer(officers["health"])
    with django_assert_max_num_queries(8):
        assert api.get("/bundles/inbox?status=open&page_size=100", headers=headers).status_code == 200
    headers = bearer(applicant)
    with django_assert_max_num_queries(8):
        assert api.get("/bundles/applications", headers=headers).status_code == 200
