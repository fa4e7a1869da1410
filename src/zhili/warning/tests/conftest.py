from datetime import timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def catalogue(db):
    from zhili.governance.catalogue import category_seed
    from zhili.warning.catalogue import catalogue_seed
    from zhili.warning.ingest import sensors_cache_clear
    from zhili.warning.rules import rules_cache_clear

    category_seed()
    catalogue_seed()
    rules_cache_clear()
    sensors_cache_clear()
    yield
    rules_cache_clear()
    sensors_cache_clear()


@pytest.fixture
def slope(catalogue, grid):
    """A landslide risk point in the demo grid, with a displacement sensor and a rain gauge."""
    from zhili.warning.services import risk_point_create, sensor_register

    point = risk_point_create(actor=None, code="RP-TEST-1", name="测试滑坡点", category="landslide",
                              lon=grid.centre_lon, lat=grid.centre_lat, risk_level=3)
    displacement, key = sensor_register(actor=None, risk_point=point, code="S-DISP-1",
                                        sensor_type="displacement")
    gauge, _ = sensor_register(actor=None, risk_point=point, code="S-RAIN-1",
                               sensor_type="rainfall_1h")
    point.keys = {"S-DISP-1": key}
    return point


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(hours=2)


# ---------------------------------------------------------------- a private Mosquitto
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A private Mosquitto on a free port, with the repository's configuration."""

    def __init__(self, workdir):
        import shutil

        from zhili.conftest import require

        self.executable = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        import os

        require(os.path.exists(self.executable), "Mosquitto is not installed (apt-get install mosquitto)")
        self.port = _free_port()
        self.dir = workdir
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.proc = None

    def config(self) -> str:
        from pathlib import Path

        repo = Path(__file__).resolve().parents[4]
        text = (repo / "deploy" / "mosquitto.conf").read_text()
        text = text.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")
        text = text.replace("persistence_location /var/lib/mosquitto/",
                            f"persistence_location {self.dir}/")
        path = self.dir / "mosquitto.conf"
        path.write_text(text + "\nuser root\n")
        return str(path)

    def start(self):
        import socket
        import subprocess
        import time

        self.proc = subprocess.Popen([self.executable, "-c", self.config()],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {self.proc.stderr.read()[:500]}")

    def stop(self, sig=None):
        import signal

        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
            self.proc.wait(timeout=10)


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


def publish(url: str, messages, *, client_id: str = "test-publisher"):
    """Publish (topic, payload) pairs at QoS 1 and wait for every PUBACK."""
    import paho.mqtt.client as mqtt

    from zhili.warning.mqtt import broker_address

    host, port = broker_address(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.loop_stop()
    client.disconnect()
