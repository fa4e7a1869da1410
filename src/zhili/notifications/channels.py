"""Delivery channels: where a delivery goes once its row is committed.

A channel is a class with `name` and `send(outgoing)`; `send` raises to ask
for a retry (or `Undeliverable` for a delivery that never can go) and may
return the gateway's message id. It is handed an
`Outgoing` (plain data, never a model: a channel runs outside any database
transaction and must not open one) whose `key` is the idempotency key a
gateway that supports one should be given: a send repeated after a crash
then reaches the person once.

Which class serves which channel name is the setting
`ZHILI_NOTIFICATION_CHANNELS` ({name: dotted path} or {name: {"backend":
path, "rate": …, "timeout": …, "batch": …}}); without it, in-app is served
and SMS and WeChat go to the logging backend. Per channel:

- `rate` (sends per second, None = unlimited) and `burst`: a token bucket in
  each worker process; the worker claims no more rows than it has tokens for,
  so a limited channel never makes the loop sleep.
- `timeout` (seconds, None = called inline): the send runs on the channel's
  own thread and the worker waits at most this long; a send that times out is
  recorded as failed (retried later with the same key) and the channel is
  left alone until its thread comes back, while the other channels go on.
- `batch`: how many deliveries one gateway call carries (`send_batch`). The
  worker records the outcome of each call before it makes the next, so a
  crash re-sends at most the call in flight; 1 (the default) for a gateway
  that takes one message per call.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("zhili.notifications")

DEFAULT_CHANNELS = {
    "inapp": "zhili.notifications.channels.InAppChannel",
    "sms": "zhili.notifications.channels.LogChannel",
    "wechat": "zhili.notifications.channels.LogChannel",
}


class Outgoing(NamedTuple):
    """One delivery as a channel sees it (a named tuple: the worker makes one per
    delivery, a million for one warning, and a tuple is made in a third of the
    time of a frozen dataclass)."""

    id: int
    channel: str
    user_id: int | None
    person_id: int | None
    address: str
    kind: str
    title: str
    body: str
    link: str
    attempt: int

    @property
    def key(self) -> str:
        """The idempotency key: the same for every attempt of this delivery."""
        return f"zhili-delivery-{self.id}"

    @property
    def to(self) -> str:
        """Who, for logs: the address masked (a phone number in a log is personal data)."""
        if self.address:
            return mask_address(self.address)
        return f"user:{self.user_id}" if self.user_id else f"person:{self.person_id}"


def mask_address(address: str) -> str:
    """`13812345678` → `138****5678`; anything short is starred whole."""
    if len(address) < 8:
        return "*" * len(address)
    return address[:3] + "*" * (len(address) - 7) + address[-4:]


class Undeliverable(Exception):
    """Raised by `send` when this delivery can never go (no such number): it fails at
    once, and the channel is not paused for it."""


class Channel(abc.ABC):
    """A way to reach a person. `send` raises on failure; the worker retries."""

    rate: float | None = None
    burst: int | None = None
    timeout: float | None = 10.0
    batch: int = 1

    def __init__(self, name: str, **options):
        self.name = name
        for option in ("rate", "burst", "timeout", "batch"):
            if option in options:
                setattr(self, option, options[option])
        self.batch = max(1, int(self.batch))
        self.bucket = TokenBucket(self.rate, self.burst) if self.rate else None
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"channel-{name}") \
            if self.timeout else None
        self.in_flight = None  # the future of a send that timed out and has not returned
        self.failures = 0  # consecutive failed calls: the channel's back-off
        self.paused_until = None

    @abc.abstractmethod
    def send(self, outgoing: Outgoing) -> str | None: ...

    def send_batch(self, outgoings: list[Outgoing]) -> None:
        """One gateway call for several deliveries; only used when `batch` > 1."""
        for outgoing in outgoings:
            self.send(outgoing)


class InAppChannel(Channel):
    """The row itself is the in-app message: delivering it just marks it sent."""

    timeout = None
    batch = 1000

    def send(self, outgoing) -> None:
        return None

    def send_batch(self, outgoings) -> None:
        return None


class LogChannel(Channel):
    """What an SMS or WeChat adapter would send, written to the log instead.

    Cheap when the log level hides it (a fan-out to a million must not cost a
    million formatted lines); `sent` counts what it was given.
    """

    timeout = None
    batch = 500

    def __init__(self, name: str, **options):
        super().__init__(name, **options)
        self.sent = 0

    def send(self, outgoing) -> None:
        self.sent += 1
        if logger.isEnabledFor(logging.INFO):
            logger.info("[%s] to %s (%s): %s — %s %s", self.name, outgoing.to, outgoing.key,
                        outgoing.title, outgoing.body[:200], outgoing.link)

    def send_batch(self, outgoings) -> None:
        if logger.isEnabledFor(logging.INFO):
            for outgoing in outgoings:
                self.send(outgoing)
        else:
            self.sent += len(outgoings)


class FailingChannel(Channel):
    """Always fails; for tests of retry and back-off."""

    timeout = None

    def send(self, outgoing) -> None:
        raise RuntimeError(f"{self.name} gateway unavailable")


class TokenBucket:
    """`rate` tokens a second, at most `burst` (default: one second's worth) saved up."""

    def __init__(self, rate: float, burst: int | None = None):
        self.rate = float(rate)
        self.capacity = float(burst or max(1, round(rate)))
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def available(self) -> int:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            return int(self.tokens)

    def take(self, n: int) -> None:
        with self.lock:
            self.tokens -= n


def configured() -> dict[str, str | dict]:
    return dict(getattr(settings, "ZHILI_NOTIFICATION_CHANNELS", None) or DEFAULT_CHANNELS)


@cache
def _load(name: str, path: str, options: tuple) -> Channel:
    return import_string(path)(name, **dict(options))


def _spec(value) -> tuple[str, tuple]:
    if isinstance(value, dict):
        options = {k: v for k, v in value.items() if k != "backend"}
        return value["backend"], tuple(sorted(options.items()))
    return value, ()


def channel_for(name: str) -> Channel | None:
    """The backend for a channel name, or None when the channel is not configured."""
    value = configured().get(name)
    return _load(name, *_spec(value)) if value else None


def channels_all() -> list[Channel]:
    return [channel_for(name) for name in configured()]


def reset() -> None:
    """Forget loaded channels and their state (tests; a settings change)."""
    _load.cache_clear()
