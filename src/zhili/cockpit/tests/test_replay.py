"""The replay after a reconnect and the poll look back over recent ids: an event's id
is taken before its transaction commits, so one below the client's place may commit
after it."""

from __future__ import annotations

import pytest

from zhili.cockpit import live


@pytest.mark.django_db
def test_the_replay_looks_back_for_an_event_that_committed_after_the_last_seen():
    """Recent ids below the place come again; older ones, or older than the window, not."""
    from datetime import timedelta

    from django.utils import timezone

    from zhili.cockpit.models import LiveEvent

    base = live.last_seq() + 10_000
    now = timezone.now()
    LiveEvent.objects.create(id=base + 2, kind="case", object_id="seen", area_path="50/", at=now)
    LiveEvent.objects.create(id=base + 1, kind="case", object_id="late", area_path="50/", at=now)
    LiveEvent.objects.create(id=base - 500, kind="case", object_id="old", area_path="50/", at=now)
    LiveEvent.objects.create(id=base, kind="case", object_id="stale", area_path="50/",
                             at=now - timedelta(seconds=live.LOOKBACK_SECONDS + 5))
    ids = [e["id"] for e in live.events_after(base + 2, now=now)]
    assert ids == ["late", "seen"]


@pytest.mark.django_db
def test_the_poll_moves_its_place_forward_only(client, street_operator):
    from django.utils import timezone

    from zhili.cockpit.models import LiveEvent

    base = live.last_seq() + 20_000
    now = timezone.now()
    for pk in (base + 2, base + 1):  # base + 1 committed after base + 2
        LiveEvent.objects.create(id=pk, kind="case", object_id=str(pk),
                                 area_path="50/500103/500103001/", at=now)
    client.force_login(street_operator)
    body = client.get("/cockpit/events", {"after": base + 2}).json()
    assert [e["seq"] for e in body["events"]] == [base + 1, base + 2]
    assert body["last"] == base + 2
