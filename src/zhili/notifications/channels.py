"""Delivery channels: where a notification goes once its row is committed.

A channel is a class with `name` and `send(notification)`; `send` raises to
ask for a retry. Which class serves which channel name is the setting
`ZHILI_NOTIFICATION_CHANNELS` ({name: dotted path}); without it, in-app is
served and SMS and WeChat go to the logging backend, which writes what a real
gateway adapter would send. A gateway adapter for a city is one more class
here (or in the city's own package) named in that setting.
"""

from __future__ import annotations

import abc
import logging
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("zhili.notifications")

DEFAULT_CHANNELS = {
    "inapp": "zhili.notifications.channels.InAppChannel",
    "sms": "zhili.notifications.channels.LogChannel",
    "wechat": "zhili.notifications.channels.LogChannel",
}


class Channel(abc.ABC):
    """A way to reach a person. `send` raises on failure; the outbox retries."""

    name = "base"

    def __init__(self, name: str):
        self.name = name

    @abc.abstractmethod
    def send(self, notification) -> None: ...


class InAppChannel(Channel):
    """The row itself is the in-app message: delivering it just marks it sent."""

    def send(self, notification) -> None:
        return None


class LogChannel(Channel):
    """What an SMS or WeChat adapter would send, written to the log instead."""

    def send(self, notification) -> None:
        recipient = notification.recipient
        logger.info("[%s] to %s (%s): %s — %s %s", self.name, recipient.get_username(),
                    getattr(recipient, "display_name", "") or "-", notification.title,
                    notification.body[:200], notification.link)


class FailingChannel(Channel):
    """Always fails; for tests of retry and back-off."""

    def send(self, notification) -> None:
        raise RuntimeError(f"{self.name} gateway unavailable")


def configured() -> dict[str, str]:
    return dict(getattr(settings, "ZHILI_NOTIFICATION_CHANNELS", None) or DEFAULT_CHANNELS)


@cache
def _load(name: str, path: str) -> Channel:
    return import_string(path)(name)


def channel_for(name: str) -> Channel | None:
    """The backend for a channel name, or None when the channel is not configured."""
    path = configured().get(name)
    return _load(name, path) if path else None
