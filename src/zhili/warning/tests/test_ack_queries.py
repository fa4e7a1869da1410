"""What one acknowledgement costs in queries: the SMS link's button and the responder
page's, the first of a warning and a later one (bench/ack.py measures the time).

No row is locked (`FOR UPDATE`): the delivery and the warning move by conditional
UPDATEs. One audit entry per press, naming the delivery and the warning, in the
warning's area. On PostgreSQL the audit INSERT goes with the COMMIT on the raw
connection (audit/pending.py), so it is counted from the table, not the capture.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhili.audit.models import AuditEntry
from zhili.notifications.acklinks import ack_token
from zhili.warning.ingest import readings_ingest
from zhili.warning.models import Warning
from zhili.warning.tests.test_people import deliveries, people, rain  # noqa: F401

pytestmark = pytest.mark.django_db

# Statements of one press, savepoints and the audit INSERT aside: the delivery read,
# its UPDATE, the warning read; the first press of a warning adds its UPDATE, the
# timeline event, the live map's event (and its NOTIFY on PostgreSQL).
LATER, FIRST = 3, 7


def press(client, url, data) -> tuple[int, list[str]]:
    before = AuditEntry.objects.filter(action="notification.acknowledge").count()
    with CaptureQueriesContext(connection) as ctx:
        status = client.post(url, data).status_code
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sql if "FOR UPDATE" in s.upper()]
    assert AuditEntry.objects.filter(action="notification.acknowledge").count() == before + 1
    statements = [s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
                  and not s.startswith('INSERT INTO "audit_auditentry"')]
    return status, statements


@pytest.mark.parametrize("page", ["link", "responder"])
def test_one_acknowledgement_costs_a_handful_of_queries(client, people, t0, page):  # noqa: F811
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    sms = list(deliveries(warning, channel="sms").order_by("id"))
    assert len(sms) >= 2
    url = "/n/ack/{}/" if page == "link" else "/warning/r/{}/"
    data = {"ack": "1"} if page == "link" else {"action": "ack"}
    ok = 200 if page == "link" else 302

    status, first = press(client, url.format(ack_token(sms[0].pk)), data)
    assert status == ok and len(first) <= FIRST, first
    warning.refresh_from_db()
    assert warning.status == "acknowledged"

    status, later = press(client, url.format(ack_token(sms[1].pk)), data)
    assert status == ok and len(later) == LATER, later
    assert warning.events.filter(kind="acknowledged").count() == 1  # the first one only

    entry = AuditEntry.objects.filter(action="notification.acknowledge",
                                      object_id=str(sms[1].pk)).get()
    assert entry.area_path == warning.area_path
    assert entry.detail["warning"] == warning.pk and entry.detail["via"] == "link"
    assert not AuditEntry.objects.filter(action="warning.acknowledge").exists()


def test_the_links_read_gives_what_the_orm_gives(client, people, t0):  # noqa: F811
    from zhili.notifications.models import Delivery
    from zhili.notifications.selectors import delivery_with_message

    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    sms = deliveries(warning, channel="sms").order_by("id").first()
    client.post(f"/n/ack/{ack_token(sms.pk)}/", {"ack": "1"})
    orm = Delivery.objects.select_related("message").get(pk=sms.pk)
    mine = delivery_with_message(sms.pk)
    for name in ("id", "message_id", "user_id", "person_id", "channel", "status", "read_at",
                 "acknowledged_at", "acknowledged_via", "address"):
        assert getattr(mine, name) == getattr(orm, name), name
    for name in ("id", "kind", "title", "body", "link", "object_type", "object_id", "created_at"):
        assert getattr(mine.message, name) == getattr(orm.message, name), name
    assert mine.acknowledged_at.tzinfo is not None
    assert delivery_with_message(10 ** 12) is None
