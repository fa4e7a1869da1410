"""Channels for tests: real channel classes whose "gateway" is a file or a pause."""

from __future__ import annotations

import os
import time

from zhili.notifications.channels import Channel

SENT: list[str] = []  # what RecordingChannel was handed, in order (one process)


class FileGatewayChannel(Channel):
    """A one-message-per-call gateway that appends each call's idempotency key to the
    file named by ZHILI_TEST_GATEWAY_LOG, outside any transaction (as an SMS
    gateway would log what it sent). A line is a send, even if the worker dies
    before recording it; the set of keys is what a gateway that dedupes by key
    delivers."""

    timeout = None

    def send(self, outgoing) -> str:
        time.sleep(float(os.environ.get("ZHILI_TEST_GATEWAY_DELAY", "0")))
        with open(os.environ["ZHILI_TEST_GATEWAY_LOG"], "a") as log:
            log.write(outgoing.key + "\n")
        return f"gw-{outgoing.id}"

    def send_batch(self, outgoings) -> None:
        """A bulk-SMS call: every key of the call reaches the gateway together."""
        with open(os.environ["ZHILI_TEST_GATEWAY_LOG"], "a") as log:
            log.write("".join(o.key + "\n" for o in outgoings))


class RecordingChannel(Channel):
    """Remembers each key and asks the database, before each send, whether the
    previous send was recorded already."""

    timeout = None
    seen_unrecorded: list[str] = []

    def send(self, outgoing) -> str:
        from zhili.notifications.models import Delivery

        if SENT:
            previous = int(SENT[-1].rsplit("-", 1)[1])
            if Delivery.objects.get(pk=previous).status != "sent":
                self.seen_unrecorded.append(SENT[-1])
        SENT.append(outgoing.key)
        return f"rec-{outgoing.id}"


class SlowChannel(Channel):
    """A gateway that hangs longer than the channel's timeout."""

    timeout = 0.2

    def send(self, outgoing) -> None:
        time.sleep(3)


class PickyChannel(Channel):
    """Refuses one user's address for good (an SMS gateway's "no such number")."""

    timeout = None

    def send(self, outgoing) -> None:
        from zhili.notifications.channels import Undeliverable

        if outgoing.user_id == self.refused:
            raise Undeliverable("no such number")

    refused = None


HANDED: list = []  # every Outgoing KeepingChannel was handed, in order (one process)


class KeepingChannel(Channel):
    """An SMS gateway that keeps what it was handed: the address and the message as
    sent, its acknowledgement link rendered."""

    timeout = None

    def send(self, outgoing) -> str:
        HANDED.append(outgoing)
        return f"keep-{outgoing.id}"
