"""A delivery to a bare address (neither a user nor a registry person, e.g. a rescue
team's contact phone): once per message and address, and the database still refuses a
delivery with no recipient at all or with two."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from zhili.notifications.models import Delivery
from zhili.notifications.services import message_upsert, notify_addresses

pytestmark = pytest.mark.django_db


def test_an_address_is_told_once_per_message_whatever_is_retried():
    for _ in range(2):
        assert notify_addresses(addresses=["13800005678", " 13800005678 ", ""],
                                kind="test.addr", title="停水通知", dedupe="test:addr") == 1
    rows = Delivery.objects.filter(message__dedupe_key="test:addr")
    assert list(rows.values_list("address", "channel", "user_id", "person_id")) == \
        [("13800005678", "sms", None, None)]
    assert notify_addresses(addresses=[], kind="test.addr", title="x", dedupe="test:none") == 0


def test_an_unconfigured_channel_queues_nothing(settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {"inapp": "zhili.notifications.channels.InAppChannel"}
    from zhili.notifications import channels

    channels.reset()
    assert notify_addresses(addresses=["13800005678"], kind="test.addr", title="x",
                            dedupe="test:nochannel") == 0
    assert not Delivery.objects.filter(message__dedupe_key="test:nochannel").exists()


@pytest.mark.parametrize("recipient", [
    {"address": ""},  # nobody at all
    {"user_id": "resident", "person_id": 7, "address": "13800005678"},  # two
])
def test_a_delivery_needs_exactly_one_recipient(recipient, resident):
    message = message_upsert(kind="test.addr", title="x", dedupe="test:check")
    fields = {k: (resident.pk if v == "resident" else v) for k, v in recipient.items()}
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(message_id=message, channel="sms", **fields)
