"""The hub's fan-out without a database: scoping per subscription, duplicates dropped,
a slow stream ended rather than growing without bound, unsubscribing frees it."""

from __future__ import annotations

from zhili.cockpit.live import OVERFLOW, Hub, Subscription
from zhili.cockpit.tests.conftest import run_async


def event(seq, path="50/500103/"):
    return {"seq": seq, "kind": "case", "id": str(seq), "path": path}


def test_fan_out_is_scoped_and_drops_duplicates():
    async def run():
        hub = Hub()
        street = Subscription(lambda p: p.startswith("50/500103/500103001/"))
        city = Subscription(lambda p: True)
        hub.subscriptions |= {street, city}
        hub.deliver(event(1, "50/500103/500103001/500103001001/"))
        hub.deliver(event(2, "50/500104/"))
        hub.deliver(event(2, "50/500104/"))  # the catch-up after a reconnect repeats it
        assert [street.queue.get_nowait()["seq"]] == [1] and street.queue.empty()
        assert [city.queue.get_nowait()["seq"] for _ in range(2)] == [1, 2]
        assert city.queue.empty()
        hub.unsubscribe(street)
        assert hub.subscriptions == {city}

    run_async(run)


def test_a_stream_that_falls_behind_is_ended_not_grown():
    async def run():
        slow = Subscription(lambda p: True, size=3)
        for seq in range(1, 10):
            slow.offer(event(seq))
        items = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
        assert items[-1] is OVERFLOW and len(items) == 3

    run_async(run)
