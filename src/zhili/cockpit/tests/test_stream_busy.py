"""The stream's start when no database connection comes in time (a burst of reconnects
after a restart exhausts the pool): a 503 with Retry-After, not a 500, and nothing held."""

from __future__ import annotations

import pytest

from zhili.cockpit.tests.conftest import run_async

pytestmark = pytest.mark.django_db


def test_a_busy_database_is_a_503_not_a_500(monkeypatch, street_operator):
    from django.db import OperationalError
    from django.test import AsyncRequestFactory

    from zhili.cockpit import live, views

    def busy(user, last):
        raise OperationalError("couldn't get a connection after 10.00 sec")

    monkeypatch.setattr(views, "_prepare", busy)

    async def run():
        request = AsyncRequestFactory().get("/cockpit/stream")

        async def auser():
            return street_operator

        request.auser = auser
        response = await views.stream(request)
        assert response.status_code == 503 and response["Retry-After"] == "3"
        assert not live.hub().subscriptions  # the subscription taken first is given back

    run_async(run)
