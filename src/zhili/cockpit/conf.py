"""The cockpit's settings: a Django setting if one is made, else the environment variable
of the same name, else the default (docs/cockpit.md, "Settings")."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS = {
    "ZHILI_POSITION_STALE_MINUTES": 15.0,
    "ZHILI_LIVE_HEARTBEAT_SECONDS": 15.0,
    "ZHILI_LIVE_POLL_SECONDS": 1.0,
    "ZHILI_LIVE_RETENTION_MINUTES": 60.0,
}


def number(name: str) -> float:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    try:
        found = float(value) if value is not None else DEFAULTS[name]
    except ValueError:
        found = DEFAULTS[name]
    return found if found > 0 else DEFAULTS[name]
