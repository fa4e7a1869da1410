"""Supervision's worker jobs: the roll-up poller (one per source, claim-safe)."""

from zhili.core.periodic import poller


@poller(lane="default")
def rollups_poll() -> int:
    """Roll up the apps' new events (cases, applications, warnings) into the KPI tables."""
    from zhili.supervision.rollups import poll_all

    return poll_all()
