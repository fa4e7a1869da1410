"""The live stream under a real uvicorn server on PostgreSQL: LISTEN/NOTIFY fan-out,
scoping, heartbeats, Last-Event-ID replay, and a disconnect freeing its queue."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from zhili.cockpit.tests.conftest import run_async

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(settings):
    import uvicorn

    settings.ZHILI_LIVE_HEARTBEAT_SECONDS = 0.5
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config("zhili.asgi:application", host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    srv.install_signal_handlers = lambda: None
    thread = threading.Thread(target=lambda: asyncio.run(srv.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port
    srv.should_exit = True
    thread.join(10)
    # The server ran in this process: its threads' connections (some returned to the
    # process's pool, which keeps them open) would stop the test database from being
    # dropped. Close ours and the pool, then end whatever the server's threads left.
    import gc

    import psycopg
    from django.db import connection

    name = connection.settings_dict["NAME"]
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()
    gc.collect()
    from zhili.cockpit.live import _conninfo

    with psycopg.connect(**{**_conninfo(), "dbname": "postgres"}, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", [name])


def cookie_for(user) -> str:
    from django.test import Client

    client = Client()  # one each: logging in again would end the last one's session
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def subscriptions() -> int:
    from zhili.cockpit import live

    return sum(len(h.subscriptions) for h in list(live._hubs.values()))


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def listening() -> bool:
    from zhili.cockpit import live

    return any(h.connected.is_set() for h in live._hubs.values())


def test_a_stream_hears_its_area_replays_and_frees_its_queue(server, report, grid,
                                                             street_operator,
                                                             other_street_operator, resident):
    from zhili.cockpit.sse_client import open_stream

    mine, theirs = cookie_for(street_operator), cookie_for(other_street_operator)
    nobody = cookie_for(resident)

    async def scenario():
        refused = await open_stream("127.0.0.1", server, cookie=nobody)
        assert refused.status == 403
        refused.close()
        anonymous = await open_stream("127.0.0.1", server)
        assert anonymous.status == 401
        anonymous.close()

        a = await open_stream("127.0.0.1", server, cookie=mine)
        b = await open_stream("127.0.0.1", server, cookie=theirs)
        assert a.status == b.status == 200
        await asyncio.to_thread(wait_until, lambda: subscriptions() == 2 and listening())

        first = await asyncio.to_thread(report, on=grid)
        event = await a.event()
        assert event["data"] and f'"id": "{first.pk}"' in event["data"]
        assert '"kind": "case"' in event["data"]
        seen = int(event["id"])
        await b.heartbeat()  # alive, and told nothing of the other street
        a.close()
        await asyncio.to_thread(wait_until, lambda: subscriptions() == 1)

        # Reported while A was away: replayed from its Last-Event-ID.
        second = await asyncio.to_thread(report, on=grid)
        again = await open_stream("127.0.0.1", server, cookie=mine, last_event_id=seen)
        # The replay looks back a little (a late commit below `seen`): what the page had
        # may come again, and the page drops it by its seq.
        replayed = await again.event()
        while f'"id": "{second.pk}"' not in replayed["data"]:
            assert int(replayed["id"]) <= seen, replayed
            replayed = await again.event()
        assert int(replayed["id"]) > seen
        # …and live again afterwards.
        third = await asyncio.to_thread(report, on=grid)
        live_event = await again.event()
        assert f'"id": "{third.pk}"' in live_event["data"]
        again.close()
        b.close()
        await asyncio.to_thread(wait_until, lambda: subscriptions() == 0)

    run_async(scenario)
