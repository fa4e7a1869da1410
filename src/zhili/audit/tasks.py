"""The audit sequencer runs on every worker loop (a poller: the entries table is its queue)."""

from zhili.core.periodic import poller


@poller
def audit_sequence_poll() -> int:
    from zhili.audit.services import audit_sequence_drain

    return audit_sequence_drain()
