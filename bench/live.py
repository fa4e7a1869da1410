#!/usr/bin/env python
"""Live updates: 300 open streams on one uvicorn process; an event reaches all of them.

    .venv/bin/python bench/live.py [--streams 300] [--events 30]

The issue's promise: with 300 server-sent-event streams open on one process,
an event reaches every stream with a p99 latency under 5x the p50 of one
stream alone, measured in one run.

One uvicorn process serves Zhili on a scratch PostgreSQL database
(`zhili_bench_live`); this script is the clients (asyncio sockets, one per
stream) and the publisher (`cockpit.live.publish` in its own transaction,
as a service's post_save does). Latency is from just before the publishing
transaction commits to the moment a stream has read the event. First one
stream alone receives `--events` events (the baseline, p50), then
`--streams` streams receive `--events` more (p50 and p99 over every
stream and event).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "live"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = "zhili_bench_live"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def setup_django():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            con.execute(f"CREATE DATABASE {DB}")
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.update(ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"{PG}/{DB}",
                      DJANGO_SETTINGS_MODULE="zhili.settings", ZHILI_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def session_cookie() -> str:
    """A logged-in session of a city-wide viewer (a superuser sees every area)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from zhili.accounts.models import User

    user = User.objects.filter(username="bench-live").first()
    if user is None:
        user = User.objects.create_superuser("bench-live", password="bench-live-not-a-secret")
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"sessionid={store.session_key}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), ZHILI_LIVE_HEARTBEAT_SECONDS="15")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "zhili.asgi:application",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--lifespan", "off", "--no-access-log"], env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"uvicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("uvicorn did not start")


async def measure(port: int, cookie: str, streams: int, events: int) -> list[float]:
    """Latencies (ms) of `events` events at each of `streams` streams."""
    from zhili.cockpit.live import publish
    from zhili.cockpit.sse_client import open_stream

    opened = []
    for i in range(0, streams, 50):  # open in batches: a burst of 300 connects is not the point
        opened += await asyncio.gather(*[open_stream("127.0.0.1", port, cookie=cookie)
                                         for _ in range(i, min(streams, i + 50))])
    assert all(s.status == 200 for s in opened), [s.status for s in opened if s.status != 200]
    for s in opened:
        s.raw = b""
    await asyncio.sleep(1.0)  # every stream subscribed (the view subscribes before answering)
    latencies: list[float] = []
    for n in range(events):
        started = time.perf_counter()
        event = await asyncio.to_thread(publish, "bench", n, "50/")
        seq = str(event.id)

        async def receive(stream, seq=seq, started=started):
            # Scan the raw bytes for the event's id line: each event is one chunk, so the
            # chunk framing never splits it, and the client's own parsing stays cheap (on
            # two cores the 300 clients compete with the server for CPU).
            needle = f"id: {seq}\n".encode()
            while needle not in stream.raw:
                data = await stream.reader.read(65536)
                if not data:
                    raise ConnectionError("stream closed")
                stream.raw += data
            stream.raw = stream.raw[stream.raw.index(needle) + len(needle):]
            return (time.perf_counter() - started) * 1000

        latencies += await asyncio.gather(*[receive(s) for s in opened])
        await asyncio.sleep(0.2)
    for s in opened:
        s.close()
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--events", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    cookie = session_cookie()
    port = free_port()
    server = start_server(port)
    try:
        log("one stream …")
        single = asyncio.run(measure(port, cookie, 1, args.events))
        log(f"{args.streams} streams …")
        many = asyncio.run(measure(port, cookie, args.streams, args.events))
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    from locate import machine

    single_p50 = statistics.median(single)
    result = {
        "bench": "live",
        "streams": args.streams,
        "events": args.events,
        "p50_ms": round(statistics.median(many), 1),
        "p99_ms": round(pct(many, 0.99), 1),
        "max_ms": round(max(many), 1),
        "single_p50_ms": round(single_p50, 1),
        "single_p99_ms": round(pct(single, 0.99), 1),
        "ratio": round(pct(many, 0.99) / single_p50, 2),
        "target": "p99 of the streams under 5x the p50 of one stream",
        "machine": machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
