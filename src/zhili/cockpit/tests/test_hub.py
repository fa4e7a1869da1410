"""The hub's fan-out without a database: scoping per subscription by path prefix,
duplicates dropped, each event encoded once for every stream, a slow stream ended
rather than growing without bound, heartbeats on idle streams only, unsubscribing
frees it."""

from __future__ import annotations

import asyncio

from zhili.cockpit import live
from zhili.cockpit.live import HEARTBEAT, OVERFLOW, Hub, Subscription
from zhili.cockpit.tests.conftest import run_async
from zhili.core.scoping import Scope

STREET = Scope(paths=("50/500103/500103001/",))
CITY = Scope(everywhere=True)


def event(seq, path="50/500103/"):
    return {"seq": seq, "kind": "case", "id": str(seq), "path": path}


def drain(sub) -> list:
    return [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]


def test_fan_out_is_scoped_and_drops_duplicates():
    async def run():
        hub = Hub()
        street, city = Subscription(STREET), Subscription(CITY)
        two_streets = Subscription(Scope(paths=("50/500103/500103001/", "50/500104/")))
        hub.subscriptions |= {street, city, two_streets}
        assert hub.deliver(event(1, "50/500103/500103001/500103001001/")) == 3
        assert hub.deliver(event(2, "50/500104/")) == 2
        assert hub.deliver(event(2, "50/500104/")) == 0  # the catch-up after a reconnect
        assert hub.deliver(event(3, "")) == 1  # no area: the city-wide viewer only
        assert hub.deliver(event(4, "50/5001031/")) == 1  # not under 50/500103/500103001/
        assert [seq for seq, _, _ in drain(street)] == [1]
        assert [seq for seq, _, _ in drain(two_streets)] == [1, 2]
        assert [seq for seq, _, _ in drain(city)] == [1, 2, 3, 4]
        hub.unsubscribe(street)
        assert hub.subscriptions == {city, two_streets}

    run_async(run)


def test_an_event_is_encoded_once_for_every_stream():
    async def run():
        hub = Hub()
        subs = [Subscription(CITY) for _ in range(3)]
        hub.subscriptions |= set(subs)
        hub.deliver(event(7))
        items = [sub.queue.get_nowait() for sub in subs]
        assert items[0][2] == b'id: 7\ndata: {"kind": "case", "id": "7", "seq": 7}\n\n'
        assert all(item[2] is items[0][2] for item in items)  # the same bytes object

    run_async(run)


def test_what_queued_before_the_scope_was_known_is_filtered_once():
    async def run():
        hub = Hub()
        early = Subscription()  # subscribed before the viewer's scope was read
        hub.subscriptions.add(early)
        hub.deliver(event(1, "50/500103/500103001/x/"))
        hub.deliver(event(2, "50/500104/"))
        early.limit_to(STREET)
        hub.deliver(event(3, "50/500104/"))
        assert [seq for seq, _, _ in drain(early)] == [1]

    run_async(run)


def test_a_stream_that_falls_behind_is_ended_not_grown():
    async def run():
        slow = Subscription(CITY, size=3)
        for seq in range(1, 10):
            slow.offer((seq, "50/", b""))
        items = drain(slow)
        assert items[-1] is OVERFLOW and len(items) == 3
        slow.offer((10, "50/", b""))
        assert slow.queue.empty()  # ended: nothing more is queued

    run_async(run)


def test_heartbeats_go_to_idle_streams_only():
    async def run():
        hub = Hub()
        idle, busy = Subscription(CITY), Subscription(CITY)
        hub.subscriptions |= {idle, busy}
        hub.tick()  # both idle since they opened
        assert drain(idle) == drain(busy) == [HEARTBEAT]
        busy.offer((1, "50/", b"x"))
        hub.tick()
        assert drain(idle) == [HEARTBEAT] and drain(busy) == [(1, "50/", b"x")]
        hub.tick()  # nothing since the last tick: now the busy one hears one too
        assert drain(busy) == [HEARTBEAT]

    run_async(run)


def test_one_timer_beats_while_streams_are_open(settings):
    settings.ZHILI_LIVE_HEARTBEAT_SECONDS = 0.05

    async def run():
        hub = Hub()
        hub.task = asyncio.get_running_loop().create_future()  # no listener here
        sub = hub.subscribe(CITY)
        assert await asyncio.wait_for(sub.queue.get(), 10) is HEARTBEAT
        hub.unsubscribe(sub)
        await asyncio.wait_for(hub.beats, 10)  # no streams left: the timer ends
        hub.task.cancel()

    run_async(run)


class FakeSend:
    """An ASGI send that records bodies; while `paused` a send waits, as the server's
    does when the client's transport is paused."""

    def __init__(self):
        self.bodies: list[bytes] = []
        self.paused: asyncio.Event | None = None

    async def __call__(self, message):
        if self.paused is not None:
            await self.paused.wait()
        self.bodies.append(message["body"])


def test_an_attached_stream_is_written_by_the_hub_itself():
    async def run():
        hub = Hub()
        street, city = Subscription(), Subscription(CITY)
        hub.subscriptions |= {street, city}
        hub.deliver(event(1, "50/500103/500103001/x/"))  # queued before the scope was known
        hub.deliver(event(2, "50/500104/"))
        street.limit_to(STREET)
        sends = FakeSend(), FakeSend()
        ended = street.attach(sends[0], frozenset({1}))  # 1 went out with the replay already
        city.attach(sends[1])
        assert sends[0].bodies == [] and len(sends[1].bodies) == 1  # 1 and 2 in one write
        hub.deliver(event(3, "50/500103/500103001/y/"))
        hub.deliver(event(3, "50/500103/500103001/y/"))  # a duplicate: dropped
        assert sends[0].bodies == [live.encode(event(3))] and len(sends[1].bodies) == 2
        hub.tick()
        hub.tick()  # idle since the last tick: a heartbeat, written directly
        assert sends[0].bodies[-1] == HEARTBEAT
        hub.unsubscribe(street)
        assert ended.done()
        hub.deliver(event(4, "50/500103/500103001/y/"))
        assert HEARTBEAT == sends[0].bodies[-1]  # unsubscribed: nothing more

    run_async(run)


def test_a_paused_stream_waits_bounded_without_holding_up_the_others():
    async def run():
        hub = Hub()
        slow, fast = Subscription(CITY, size=3), Subscription(CITY)
        hub.subscriptions |= {slow, fast}
        paused, quick = FakeSend(), FakeSend()
        paused.paused = asyncio.Event()
        ended = slow.attach(paused)
        fast.attach(quick)
        hub.deliver(event(1))
        hub.deliver(event(2))
        assert len(quick.bodies) == 2 and paused.bodies == []
        paused.paused.set()  # the transport drains: the rest goes out in one write
        await asyncio.sleep(0.01)
        assert paused.bodies == [live.encode(event(1)), live.encode(event(2))]
        assert not ended.done()
        paused.paused.clear()
        for seq in range(3, 9):  # more than `size` writes behind: ended
            hub.deliver(event(seq))
        assert ended.done() and len(quick.bodies) == 8

    run_async(run)


def test_an_event_that_committed_late_is_sent_though_the_replay_went_past_it():
    """Ids are taken in one order and committed in another: the replay sent 7 and 9,
    then 8 commits. A stream drops what its replay sent, not everything below it."""
    async def run():
        hub = Hub()
        sub = Subscription(CITY)
        hub.subscriptions.add(sub)
        send = FakeSend()
        sub.attach(send, frozenset({7, 9}))
        hub.deliver(event(9, "50/500104/"))  # the replay's own, heard live too: dropped
        hub.deliver(event(8, "50/500104/"))  # committed late: sent
        assert send.bodies == [live.encode(event(8))]
        hub.unsubscribe(sub)

    run_async(run)

