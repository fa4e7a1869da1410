"""Fixtures for bundles: the seeded catalogue, demo officers and a bound applicant."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads made by tests go to a temporary directory, not the data directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def applicant(db):
    """resident1, bound to a registry person holding a marriage certificate and household register."""
    from zhili.accounts.models import User

    return User.objects.get(username="resident1")


@pytest.fixture
def officers(db):
    from zhili.accounts.models import User

    return {u.username.removeprefix("officer-"): u for u in User.objects.filter(username__startswith="officer-")}


@pytest.fixture
def other_area_officer(db, other_street):
    """A health officer posted to another street: applications of resident1 are not theirs."""
    from zhili.accounts.models import Department
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign, user_create

    user = user_create(username="health-elsewhere", password=None)
    role_assign(user=user, role=Role.DEPARTMENT_OFFICER, area=other_street,
                department=Department.objects.get(code="health"))
    return user


def fill(user, bundle: str, answers: dict | None = None, *, consent: bool = True) -> dict:
    """A complete, valid submission for `bundle` as the applicant would make it."""
    from zhili.bundles import selectors, services
    from zhili.bundles.demo import PDF, application_binding, sample_value

    if consent:
        form = selectors.form_build(actor=user, bundle=bundle, answers=answers)
        missing = [c["data_item"] for c in form["consents"] if not c["granted"]]
        if missing:
            services.consent_give(actor=user, data_items=missing)
    form = selectors.form_build(actor=user, bundle=bundle, answers=answers)
    binding = application_binding(user)
    data = {f["code"]: f["value"] or sample_value(f, binding) for f in form["fields"]}
    uploads = {m["code"]: services.upload_store(actor=user, material=m["code"], filename="a.pdf",
                                                content=PDF).pk
               for m in form["materials"] if m["state"] in ("upload", "held")}
    return {"bundle": bundle, "answers": answers or {}, "data": data, "uploads": uploads,
            "idempotency_key": uuid.uuid4().hex}


@pytest.fixture
def filled():
    return fill
