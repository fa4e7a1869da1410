import os
import signal
import socket
import threading
import time

from django.core.management.base import BaseCommand, CommandError

from zhili.warning.mqtt import BATCH, WINDOW_S


class Command(BaseCommand):
    help = "Consume sensor readings from MQTT (zhili/sensors/{id}/readings, QoS 1) into the store."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=os.environ.get("ZHILI_MQTT_URL", ""),
                            help="broker, e.g. mqtt://127.0.0.1:1883 (default $ZHILI_MQTT_URL)")
        parser.add_argument("--client-id", default=f"zhili-ingest-{socket.gethostname()}",
                            help="stable id: the broker keeps this consumer's session by it")
        parser.add_argument("--share", default=None,
                            help="join the shared subscription GROUP instead (several consumers)")
        parser.add_argument("--batch", type=int, default=BATCH,
                            help=f"messages per transaction (default {BATCH})")
        parser.add_argument("--window", type=float, default=WINDOW_S,
                            help=f"seconds to gather a batch (default {WINDOW_S})")

    def handle(self, *, url, client_id, share, batch, window, **options):
        from zhili.warning.mqtt import Consumer, broker_address

        if not url:
            raise CommandError("no broker: pass --url mqtt://host:port or set ZHILI_MQTT_URL")
        try:
            broker_address(url)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if batch < 1 or window < 0:
            raise CommandError("--batch must be at least 1 and --window not negative")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        consumer = Consumer(url=url, client_id=client_id, share=share, batch=batch,
                            window=window, stop=stop)
        self.stdout.write(f"zhili ingest: {url} as {client_id}"
                          + (f" in shared group {share}" if share else "") + "; Ctrl-C to stop")
        reporter = threading.Thread(target=self._report, args=(consumer, stop), daemon=True)
        reporter.start()
        try:
            stats = consumer.run()
        except OSError as exc:
            raise CommandError(f"cannot reach the broker at {url}: {exc}") from None
        self.stdout.write(f"zhili ingest: stopped; {stats.line()}")

    def _report(self, consumer, stop):
        while not stop.wait(60):
            self.stdout.write(f"zhili ingest: {time.strftime('%H:%M:%S')} {consumer.stats.line()}")
