"""Emergency settings, read from Django settings first, then the environment."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULT_TARGETS_MIN = {"air": 60, "ground": 30, "responders": 10}
# Straight-line speeds: air always; drive/walk only when no road network is built.
DEFAULT_SPEEDS_KMH = {"air": 180.0, "drive": 30.0, "walk": 5.0}
CLASS_MODE = {"air": "air", "ground": "drive", "responders": "walk"}


def _number(name: str, default: float) -> float:
    value = getattr(settings, name, None) or os.environ.get(name)
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def targets_s() -> dict[str, float]:
    """Class -> time target in seconds (ZHILI_RESCUE_TARGET_AIR_MIN, …_GROUND_MIN, …_RESPONDERS_MIN)."""
    return {c: 60 * _number(f"ZHILI_RESCUE_TARGET_{c.upper()}_MIN", m)
            for c, m in DEFAULT_TARGETS_MIN.items()}


def speed_kmh(mode: str) -> float:
    """Straight-line speed of a mode (ZHILI_RESCUE_SPEED_AIR_KMH, …_DRIVE_KMH, …_WALK_KMH)."""
    return _number(f"ZHILI_RESCUE_SPEED_{mode.upper()}_KMH", DEFAULT_SPEEDS_KMH[mode])


def roads_dir():
    return settings.DATA_DIR / "roads"
