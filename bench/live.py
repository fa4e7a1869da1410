#!/usr/bin/env python
"""Live updates: 300 open streams on one uvicorn process; an event reaches all of them.

    .venv/bin/python bench/live.py [--streams 300] [--events 30] [--clients 2]

The issue's promise: with 300 server-sent-event streams open on one process,
an event reaches every stream with a p99 latency under 5x the p50 of one
stream alone, measured in one run.

One uvicorn process serves Zhili on a scratch PostgreSQL database
(`zhili_bench_live`); this script is the publisher (`cockpit.live.publish` in its
own transaction, as a service's post_save does) and forks `--clients` client
processes that share the streams, each a bare epoll loop over its sockets (300
asyncio readers in one loop cost more than the server's fan-out itself). Latency
is from just before the publishing transaction begins to the moment a stream has
read the event, on CLOCK_MONOTONIC (`time.perf_counter`), which every process of
the machine shares. First one stream alone receives `--events` events (the
baseline, p50), then `--streams` streams receive `--events` more (p50 and p99
over every stream and event). The server runs with `ZHILI_LIVE_TIMING=1` and
logs, per event, when its hub heard the NOTIFY and when the last stream had
written it; those are printed as `server_*` (ms after the publish began).

Prints one JSON line, with the load average at the end of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
TIMING = re.compile(r"live timing seq=(?P<seq>\d+) streams=\d+ delivered=(?P<delivered>[\d.]+) "
                    r"written=(?P<written>[\d.]+)")
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


def start_server(port: int, log_file) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), ZHILI_LIVE_HEARTBEAT_SECONDS="15",
               ZHILI_LIVE_TIMING="1")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "zhili.asgi:application",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--lifespan", "off", "--no-access-log"], env=env, stderr=log_file)
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


def client_worker(conn, port: int, cookie: str, count: int) -> None:
    """One client process: `count` streams read by a bare epoll loop (no asyncio task per
    stream), so the clients cost microseconds per event and stream, not the figure.

    Protocol on `conn`: it answers "opened" with the statuses; then for each
    ("expect", seq) it answers "ready", waits until every stream has read the event's
    id line, and answers the `time.perf_counter()` (CLOCK_MONOTONIC, shared by the
    processes of one machine) at which each stream had it.
    """
    import select

    socks, statuses, buffers = [], [], {}
    request = (f"GET /cockpit/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode()
    for first in range(0, count, 25):  # in batches: a burst of 300 connects is not the point
        batch = [socket.create_connection(("127.0.0.1", port))
                 for _ in range(first, min(count, first + 25))]
        for sock in batch:
            sock.sendall(request)
        for sock in batch:
            head = b""
            while b"\r\n\r\n" not in head:
                data = sock.recv(65536)
                if not data:
                    break
                head += data
            statuses.append(int(head.split(b" ", 2)[1]) if head else 0)
            buffers[sock.fileno()] = head.split(b"\r\n\r\n", 1)[-1]
            sock.setblocking(False)
        socks += batch
    conn.send(("opened", statuses))
    by_fd = {sock.fileno(): sock for sock in socks}
    poller = select.epoll()
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    while True:
        message = conn.recv()
        if message[0] != "expect":
            break
        needle = f"id: {message[1]}\n".encode()
        waiting, times = set(by_fd), []
        for fd in list(waiting):  # already read with an earlier event
            if needle in buffers[fd]:
                times.append(time.perf_counter())
                waiting.discard(fd)
        conn.send("ready")
        while waiting:
            for fd, _ in poller.poll(30):
                data = by_fd[fd].recv(65536)
                if not data:
                    raise SystemExit("a stream closed")
                buffers[fd] += data
                if fd in waiting and needle in buffers[fd]:
                    times.append(time.perf_counter())
                    waiting.discard(fd)
                    buffers[fd] = buffers[fd][buffers[fd].index(needle) + len(needle):]
        conn.send(times)
    for sock in socks:
        sock.close()
    os._exit(0)


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(port: int, cookie: str, streams: int, events: int, processes: int,
            server_pid: int) -> tuple:
    """Latencies (ms) of `events` events at each of `streams` streams, each event's
    start (perf_counter) by its seq, for the server's own timing lines, and the
    server's CPU seconds over the events (not the connects)."""
    import multiprocessing

    from zhili.cockpit.live import publish

    ctx = multiprocessing.get_context("fork")
    processes = max(1, min(processes, streams))
    workers = []
    for i in range(processes):
        share = streams // processes + (1 if i < streams % processes else 0)
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=client_worker, args=(child, port, cookie, share), daemon=True)
        proc.start()
        workers.append((proc, parent))
    statuses = []
    for _, pipe in workers:
        kind, found = pipe.recv()
        statuses += found
    assert all(s == 200 for s in statuses), [s for s in statuses if s != 200]
    time.sleep(1.0)  # every stream subscribed (the view subscribes before answering)
    latencies: list[float] = []
    starts: dict[int, float] = {}
    cpu = cpu_seconds(server_pid)
    for n in range(events):
        from django.db import connection

        with connection.cursor() as cursor:  # the next id, so the clients know what to wait for
            cursor.execute("SELECT coalesce(last_value + increment_by, start_value) FROM "
                           "pg_sequences WHERE schemaname || '.' || sequencename = "
                           "pg_get_serial_sequence('cockpit_liveevent', 'id')")
            seq = cursor.fetchone()[0]
        for _, pipe in workers:
            pipe.send(("expect", seq))
        for _, pipe in workers:
            assert pipe.recv() == "ready"
        started = time.perf_counter()
        event = publish("bench", n, "50/")
        assert event.id == seq, (event.id, seq)
        starts[seq] = started
        for _, pipe in workers:
            latencies += [(t - started) * 1000 for t in pipe.recv()]
        time.sleep(0.2)
    cpu = cpu_seconds(server_pid) - cpu
    for proc, pipe in workers:
        pipe.send(("stop",))
        proc.join(10)
    return latencies, starts, cpu


def server_side(lines: list[str], starts: dict[int, float]) -> dict:
    """From the server's timing lines: the NOTIFY heard, and the last stream written."""
    heard, written = [], []
    for line in lines:
        match = TIMING.search(line)
        if match and int(match["seq"]) in starts:
            began = starts[int(match["seq"])]
            heard.append((float(match["delivered"]) - began) * 1000)
            written.append((float(match["written"]) - began) * 1000)
    if not written:
        return {}
    return {"server_heard_p50_ms": round(statistics.median(heard), 1),
            "server_all_written_p50_ms": round(statistics.median(written), 1),
            "server_all_written_max_ms": round(max(written), 1)}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--clients", type=int, default=2,
                        help="client processes the streams are shared among")
    args = parser.parse_args()
    setup_django()
    cookie = session_cookie()
    port = free_port()
    server_log = OUT / "server.log"
    with open(server_log, "w") as log_file:
        server = start_server(port, log_file)
    try:
        log("one stream …")
        single, single_starts, single_cpu = measure(port, cookie, 1, args.events, 1, server.pid)
        log(f"{args.streams} streams in {args.clients} client processes …")
        many, many_starts, many_cpu = measure(port, cookie, args.streams, args.events,
                                              args.clients, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    from locate import machine

    single_p50 = statistics.median(single)
    lines = server_log.read_text().splitlines()
    server = {f"single_{k}": v for k, v in server_side(lines, single_starts).items()}
    server.update(server_side(lines, many_starts))
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
        "clients": args.clients,
        **server,
        # The server's CPU per stream per event: what 300 streams cost over one.
        "server_cpu_us_per_stream": round(
            (many_cpu - single_cpu) / args.events / max(1, args.streams - 1) * 1e6, 1),
        "load": [round(x, 2) for x in os.getloadavg()],
        "target": "p99 of the streams under 5x the p50 of one stream",
        "machine": machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
