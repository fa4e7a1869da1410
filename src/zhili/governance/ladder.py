"""The ladder of levels (grid … city) read off an area path; pure, no queries."""

from __future__ import annotations

from zhili.governance.models import LADDER, Level

# Depth of each ladder level in an area path (city/district/street/community/grid).
LEVEL_DEPTH = {Level.CITY: 0, Level.DISTRICT: 1, Level.STREET: 2, Level.COMMUNITY: 3, Level.GRID: 4}
DEPTH_LEVEL = {depth: level for level, depth in LEVEL_DEPTH.items()}


def path_at(path: str, level: str) -> str:
    """The ancestor path of `path` at a ladder level."""
    parts = path.strip("/").split("/")
    return "/".join(parts[: LEVEL_DEPTH[level] + 1]) + "/"


def level_of_path(path: str) -> str:
    return DEPTH_LEVEL[min(len(path.strip("/").split("/")) - 1, 4)]


def level_above(level: str) -> str | None:
    index = LADDER.index(level)
    return LADDER[index + 1] if index + 1 < len(LADDER) else None


def ladder_max(a: str, b: str) -> str:
    return a if LADDER.index(a) >= LADDER.index(b) else b
