#!/usr/bin/env python
"""MQTT end to end: publish → stored → evaluated, against a bare paho subscriber (PostgreSQL).

    .venv/bin/python bench/mqtt.py [--sensors N] [--messages M] [--per-message K]
                                   [--rounds R] [--latency L]

The issue's promises, each measured in this run against a private Mosquitto
started with `deploy/mosquitto.conf` (its port and store moved to a free port
and bench/out/mqtt), QoS 1, MQTT 5 persistent sessions:

- `ratio_vs_bare`: the message rate of the real consumer (`zhili ingest`'s
  `Consumer`: batch, `readings_ingest` — checked, stored once, rule state
  locked and evaluated, committed — then acknowledged) over that of a bare
  paho subscriber that acknowledges each message and does nothing else. Each
  round publishes M one-reading messages while both sessions are offline, so
  the broker holds the same messages for both; then each drains its queue
  (timed from connect to the last message), in alternating order. The ratio is
  the median of the per-round ratios.
- `readings_per_s`: the same drain with K readings per message (a device or
  gateway sending its buffer), readings stored and evaluated per second, and
  `vs_seed_load`: that over the seed's load (520,000 sensors once a minute ≈
  8,700 readings/s).
- `latency`: publish → warning row → first delivery queued, p50/p99 over
  L red readings on distinct sensors, published one at a time to a running
  consumer, with `zhili worker --lanes notifications,default` running (the
  fan-out task is on `default`; its poll interval is named in the line: it
  bounds the second figure).

Data: a scratch database `zhili_bench_mqtt` (one grid, N rainfall sensors on
N risk points, each with a responsible person), rebuilt on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "mqtt"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("ZHILI_BENCH_DB", "zhili_bench_mqtt")
SEED_LOAD = 520_000 / 60
WORKER_INTERVAL = 0.1
BARE_CPU: list[float] = []  # the bare subscriber's CPU µs per message, per round
sys.path.insert(0, str(ROOT / "bench"))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self):
        self.port = free_port()
        self.dir = OUT / "broker"
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        text = (ROOT / "deploy" / "mosquitto.conf").read_text()
        text = text.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")
        text = text.replace("persistence_location /var/lib/mosquitto/",
                            f"persistence_location {self.dir}/")
        if os.geteuid() == 0:  # as root Mosquitto would drop to `mosquitto` and not write here
            text += "\nuser root\n"
        (self.dir / "mosquitto.conf").write_text(text)
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "log", "w"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("mosquitto did not start")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


def client(client_id: str, port: int, on_message=None):
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=mqtt.MQTTv5, manual_ack=on_message is not None)
    if on_message:
        c.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    c.connect("127.0.0.1", port, keepalive=30, clean_start=False, properties=props)
    return c


def subscribe_offline(client_id: str, port: int) -> None:
    """Create the persistent session and its subscription, then go away."""
    done = threading.Event()
    c = client(client_id, port, on_message=lambda *_: None)
    c.on_subscribe = lambda *_: done.set()
    c.loop_start()
    c.subscribe("zhili/sensors/+/readings", qos=1)
    done.wait(5)
    c.loop_stop()
    c.disconnect()


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    c = client("bench-publisher", port)
    c.loop_start()
    infos = [c.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(30)
    c.loop_stop()
    c.disconnect()


def drain_bare(port: int, expected: int) -> float:
    got = {"n": 0}
    done = threading.Event()

    def on_message(c, _u, message):
        c.ack(message.mid, message.qos)
        got["n"] += 1
        if got["n"] >= expected:
            done.set()

    started, cpu = time.perf_counter(), time.process_time()
    c = client("bench-bare", port, on_message)
    c.loop_start()
    if not done.wait(600):
        raise SystemExit(f"bare subscriber got {got['n']} of {expected}")
    took = time.perf_counter() - started
    BARE_CPU.append((time.process_time() - cpu) / expected * 1e6)  # its loop thread, mostly
    c.loop_stop()
    c.disconnect()
    return took


def drain_zhili(url: str, expected: int, committer: str = "auto") -> tuple[float, object]:
    from zhili.warning.ingest import sensors_preload
    from zhili.warning.mqtt import Consumer

    sensors_preload()  # what `zhili ingest` does once at start, before it connects
    stop = threading.Event()
    consumer = Consumer(url=url, client_id="bench-zhili", stop=stop,  # `zhili ingest`'s defaults
                        preload=False, committer=committer)
    started = time.perf_counter()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 900
    while consumer.stats.messages < expected and time.monotonic() < deadline:
        time.sleep(0.005)
    took = time.perf_counter() - started
    stop.set()
    thread.join(10)
    if consumer.stats.messages < expected:
        raise SystemExit(f"consumer took {consumer.stats.messages} of {expected}")
    return took, consumer.stats


# ---------------------------------------------------------------- data
def setup_django() -> None:
    import psycopg

    OUT.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {DB}")
    os.environ.update(DJANGO_SETTINGS_MODULE="zhili.settings", ZHILI_DATA_DIR=str(OUT),
                      ZHILI_DATABASE_URL=f"{PG}/{DB}", ZHILI_DB_POOL="0")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_sensors(count: int) -> None:
    import shapely
    from django.db import connection
    from django.utils import timezone

    from zhili.geo.models import AreaNode
    from zhili.governance.catalogue import category_seed
    from zhili.registry.models import Person
    from zhili.warning.catalogue import catalogue_seed
    from zhili.warning.models import ResponsiblePerson, RiskCategory, RiskPoint, Sensor

    category_seed()  # a red warning opens a governance case
    catalogue_seed()
    grid = AreaNode.objects.create(code="500103001001001", level="grid", name="网格",
                                   path="50/500103/500103001/500103001001/500103001001001/",
                                   geometry=shapely.box(106.5, 29.5, 106.6, 29.6).wkb,
                                   min_lon=106.5, min_lat=29.5, max_lon=106.6,
                                   max_lat=29.6, centre_lon=106.55, centre_lat=29.55)
    category = RiskCategory.objects.get(code="rainstorm")
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {Person._meta.db_table} (id_number, name, phone, address,"
                         " household_no, grid_id, area_path, created_at, updated_at)"
                         " FROM STDIN") as copy:
            for i in range(count):
                copy.write_row((f"B{i:017d}", f"示例·{i}", f"1009{i:07d}", "", "", grid.pk,
                                grid.path, now, now))
        with cursor.copy(f"COPY {RiskPoint._meta.db_table} (code, name, category_id, risk_level,"
                         " description, lon, lat, grid_id, measures, synthetic, created_at,"
                         " updated_at, area_path) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row((f"B-RP-{i:07d}", f"示例·点{i}", category.pk, 2, "", 106.55,
                                29.55, grid.pk, "{}", True, now, now, grid.path))
        cursor.execute(f"INSERT INTO {Sensor._meta.db_table} (code, risk_point_id, sensor_type,"
                       " unit, interval_s, key_hash, active, created_at, area_path)"
                       " SELECT 'B-S-' || substr(code, 6), id, 'rainfall_1h', 'mm', 60, '', true,"
                       f" created_at, area_path FROM {RiskPoint._meta.db_table}")
        cursor.execute(f"INSERT INTO {ResponsiblePerson._meta.db_table} (risk_point_id, tier,"
                       " person_id) SELECT r.id, 'owner', p.id"
                       f" FROM {RiskPoint._meta.db_table} r JOIN {Person._meta.db_table} p"
                       " ON p.id_number = 'B' || lpad(substr(r.code, 6), 17, '0')")
        for model in (Person, RiskPoint, Sensor, ResponsiblePerson):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    log(f"{count:,} sensors, risk points and responsible persons in "
        f"{time.perf_counter() - started:.1f}s")


def messages_for(count: int, per_message: int, sensors: int, t0: float,
                 value: float = 3.0) -> list[tuple[str, bytes]]:
    """`count` messages of `per_message` readings each, one sensor per message, round
    robin; each sensor's readings a minute apart from t0 on, never repeating."""
    out, next_t = [], {}
    for k in range(count):
        s = k % sensors
        start = next_t.get(s, t0)
        readings = [{"t": start + 60 * j, "v": value} for j in range(per_message)]
        next_t[s] = start + 60 * per_message
        out.append((f"zhili/sensors/B-S-{s:07d}/readings",
                    json.dumps(readings if per_message > 1 else readings[0]).encode()))
    return out


def one_round(broker: Broker, messages, zhili_first: bool,
              committer: str = "auto") -> tuple[float, float, object]:
    subscribe_offline("bench-bare", broker.port)
    subscribe_offline("bench-zhili", broker.port)
    publish(broker.port, messages)
    if zhili_first:
        zhili, stats = drain_zhili(broker.url, len(messages), committer)
        bare = drain_bare(broker.port, len(messages))
    else:
        bare = drain_bare(broker.port, len(messages))
        zhili, stats = drain_zhili(broker.url, len(messages), committer)
    return bare, zhili, stats


def latency(broker: Broker, samples: int, first_sensor: int) -> dict:
    """Red readings one at a time to a running consumer; when do the warning row and
    its first delivery appear (polled every 2 ms on their own connection)?"""
    import psycopg

    from zhili.warning.mqtt import Consumer

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    worker = subprocess.Popen([sys.executable, "-m", "zhili", "worker", "--lanes",
                               "notifications,default", "--interval", str(WORKER_INTERVAL)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    ready = threading.Event()

    def watch():  # the worker logs "… started; lanes: …" once it serves; keep the pipe drained
        for line in worker.stderr:
            if " started; lanes" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    stop = threading.Event()
    consumer = Consumer(url=broker.url, client_id="bench-latency", batch=500, window=0.2,
                        stop=stop)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    consumer.connected.wait(10)
    pub = client("bench-latency-pub", broker.port)
    pub.loop_start()
    to_warning, to_delivery = [], []
    try:
        with psycopg.connect(f"{PG}/{DB}", autocommit=True) as con:
            if not ready.wait(180):
                raise SystemExit("the worker did not start within 180 s")
            for k in range(samples):
                code = f"B-S-{first_sensor + k:07d}"
                payload = json.dumps({"t": time.time() - 1, "v": 95.0}).encode()  # red
                sent = time.perf_counter()
                pub.publish(f"zhili/sensors/{code}/readings", payload, qos=1)
                warned = delivered = None
                while time.perf_counter() - sent < 60 and delivered is None:
                    row = con.execute(
                        "SELECT w.id, (SELECT count(*) FROM notifications_delivery d"
                        " JOIN notifications_message m ON m.id = d.message_id"
                        " WHERE m.object_type = 'warning.warning' AND m.object_id = w.id::text)"
                        " FROM warning_warning w WHERE w.condition = %s", [f"rule:{code}"]
                    ).fetchone()
                    now = time.perf_counter()
                    if row and warned is None:
                        warned = now
                    if row and row[1]:
                        delivered = now
                    time.sleep(0.002)
                if warned is None or delivered is None:
                    raise SystemExit(f"sample {k}: {'a warning but no delivery' if warned else 'no warning'}"
                                     f" within 60 s ({consumer.stats.line()})")
                to_warning.append((warned - sent) * 1000)
                to_delivery.append((delivered - sent) * 1000)
    finally:
        pub.loop_stop()
        pub.disconnect()
        stop.set()
        thread.join(10)
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()

    def pct(values, q):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    return {"samples": samples, "warning_p50_ms": pct(to_warning, 0.5),
            "warning_p99_ms": pct(to_warning, 0.99), "delivery_p50_ms": pct(to_delivery, 0.5),
            "delivery_p99_ms": pct(to_delivery, 0.99), "worker_interval_s": WORKER_INTERVAL,
            "consumer_window_s": 0.2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=5_000, help="per round (default 5000)")
    parser.add_argument("--per-message", type=int, default=50,
                        help="readings per message in the batched drain (default 50)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--latency", type=int, default=50, help="latency samples (default 50)")
    parser.add_argument("--committer", choices=("auto", "process", "thread"), default="auto",
                        help="where the consumer commits its windows (default auto: a process)")
    args = parser.parse_args()
    if args.latency > args.sensors // 2:
        raise SystemExit("--latency needs fewer samples than half the sensors")

    setup_django()
    make_sensors(args.sensors)
    from django.db import connection

    from zhili.warning.models import Reading, Warning

    broker = Broker()
    try:
        t0 = time.time() - 20 * 86400  # readings from 20 days ago onwards, never repeating
        used = 0
        ratios, bares, zhilis, cpu_net, cpu_commit, busy = [], [], [], [], [], []
        for r in range(args.rounds):
            messages = messages_for(args.messages, 1, args.sensors - args.latency, t0 + used)
            used += 60 * (args.messages // (args.sensors - args.latency) + 1)
            bare, zhili, stats = one_round(broker, messages, zhili_first=r % 2 == 1,
                                           committer=args.committer)
            assert stats.stored == args.messages, stats.line()
            bares.append(args.messages / bare)
            zhilis.append(args.messages / zhili)
            ratios.append(bare / zhili)
            # CPU per message: the network loop's thread, and the committer's (process
            # or thread): wall-clock ratios move with the machine's other load.
            cpu_net.append(stats.cpu_network_s / args.messages * 1e6)
            cpu_commit.append(stats.cpu_committer_s / args.messages * 1e6)
            busy.append(stats.busy_committer_s / zhili)  # near 1: the committer bounds it
            log(f"round {r + 1}: bare {bares[-1]:,.0f} msg/s, zhili ingest {zhilis[-1]:,.0f} msg/s"
                f" (CPU µs/message: bare {BARE_CPU[-1]:.0f}; zhili network {cpu_net[-1]:.0f},"
                f" committer {cpu_commit[-1]:.0f}; committer busy {busy[-1]:.0%} of the drain)")

        batched_messages = max(1, args.messages // 5)
        messages = messages_for(batched_messages, args.per_message, args.sensors - args.latency,
                                t0 + used)
        bare, zhili, stats = one_round(broker, messages, zhili_first=True)
        readings = batched_messages * args.per_message
        assert stats.stored == readings, stats.line()
        readings_per_s = readings / zhili
        log(f"batched: {readings:,} readings in {batched_messages:,} messages: "
            f"{readings_per_s:,.0f} readings/s stored and evaluated")
        assert Warning.objects.count() == 0  # the drains stayed below every line

        lat = latency(broker, args.latency, args.sensors - args.latency)
        log(f"latency: {lat}")
        total = Reading.objects.count()
    finally:
        broker.stop()
    from locate import machine

    print(json.dumps({
        "bench": "mqtt",
        "sensors": args.sensors,
        "messages_per_round": args.messages,
        "bare_msg_per_s": round(statistics.median(bares)),
        "ingest_msg_per_s": round(statistics.median(zhilis)),
        "ratio_vs_bare": round(statistics.median(ratios), 3),
        "committer": args.committer,
        "cpu_us_per_message": {"bare": round(statistics.median(BARE_CPU[:args.rounds])),
                               "network": round(statistics.median(cpu_net)),
                               "committer": round(statistics.median(cpu_commit))},
        "committer_busy": round(statistics.median(busy), 2),
        "readings_per_message": args.per_message,
        "readings_per_s": round(readings_per_s),
        "vs_seed_load": round(readings_per_s / SEED_LOAD, 2),
        "latency": lat,
        "readings_stored": total,
        "qos": 1,
        "rounds": args.rounds,
        "postgres": connection.cursor().connection.info.server_version,
        "machine": machine(),
    }))


if __name__ == "__main__":
    main()
