"""Public warnings in the CAP feed: an Alert, Updates naming their predecessors,
the all-clear, a Cancel; every message valid; the feed is Atom."""

from datetime import timedelta

import pytest
from lxml import etree

from zhili.warning.cap.xml import check, parse
from zhili.warning.ingest import RawReading, readings_ingest
from zhili.warning.models import CapMessage, Warning

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)
ATOM = "{http://www.w3.org/2005/Atom}"


def rain(t0, *values, start=0):
    return [RawReading("S-RAIN-1", (t0 + (start + i) * MIN).isoformat(), v)
            for i, v in enumerate(values)]


def test_a_public_warning_publishes_an_alert_updates_and_the_all_clear(client, slope, t0):
    before = set(CapMessage.objects.values_list("id", flat=True))  # the demo's
    readings_ingest(readings=rain(t0, 18))        # blue: not public, nothing published
    assert not CapMessage.objects.exclude(id__in=before).exists()
    readings_ingest(readings=rain(t0, 35, 55, 28, 10, start=1))  # yellow, orange, yellow, clear
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    messages = list(CapMessage.objects.filter(warning=warning).order_by("sent", "id"))
    assert [m.msg_type for m in messages] == ["Alert", "Update", "Update", "Update"]
    for message in messages:
        assert check(bytes(message.document)) == []
    last = parse(bytes(messages[-1].document))
    assert [r.identifier for r in last.references] == [m.identifier for m in messages[:-1]]
    assert last.infos[0].urgency == "Past"  # the all-clear
    assert last.infos[0].areas[0].geocodes[0][1] == slope.grid.code[:9]

    feed = etree.fromstring(client.get("/cap/feed.xml").content)
    entries = [e for e in feed.findall(f"{ATOM}entry")
               if warning.number in e.find(f"{ATOM}id").text]
    assert len(entries) == 4
    link = entries[0].find(f"{ATOM}link").get("href")
    response = client.get(link.replace("http://testserver", ""))
    assert response["Content-Type"] == "application/cap+xml"
    assert parse(response.content).identifier == messages[-1].identifier


def test_an_operator_cancel_is_a_cap_cancel(slope, t0, city_admin):
    from zhili.warning.services import warning_cancel

    readings_ingest(readings=rain(t0, 35))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    warning_cancel(actor=city_admin, warning=warning, reason="gauge was being calibrated")
    cancel = CapMessage.objects.filter(warning=warning).order_by("-id").first()
    assert cancel.msg_type == "Cancel"
    assert parse(bytes(cancel.document)).references


def test_an_unknown_alert_is_404(client, catalogue):
    assert client.get("/cap/alerts/nope.xml").status_code == 404
