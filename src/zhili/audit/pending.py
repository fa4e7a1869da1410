"""An entry waits for its transaction's COMMIT and goes into the database just before it.

`audit_record` inside a transaction does not send its INSERT there and then:
it leaves the entry on Django's on-commit list in a `_Pending` marker, and a
hook on the connection writes every waiting entry *inside* the transaction,
right before COMMIT. On PostgreSQL the INSERTs and the COMMIT go in one
pipeline, so an audited write costs no round trip of its own (bench/audit.py).

Riding on the on-commit list gives Django's own bookkeeping for free: a
savepoint rolled back drops the entries recorded inside it, a rollback or a
closed connection drops them all. The guarantee stays that of one INSERT in
the caller's transaction: if the INSERT fails, the COMMIT is not run and the
caller's transaction rolls back with the error; if the transaction rolls back,
no entry.

Under a test case's transaction (which never commits) the commit is the exit
of the outermost block the code itself opened, so the hook also writes on the
release of that block's savepoint; outside any block of the code's own the
entry is written at once, as in autocommit.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.backends.utils import debug_transaction


class _Pending:
    """One waiting entry on the on-commit list; taken off before COMMIT, never called."""

    __slots__ = ("entry",)

    def __init__(self, entry):
        self.entry = entry

    def __call__(self):  # pragma: no cover - only if a hook was bypassed
        raise RuntimeError("an audit entry reached the after-commit callbacks unwritten")


def defer(connection, entry, write_many: Callable) -> bool:
    """Leave `entry` for the transaction's commit; False if the caller must write it now.

    `write_many(connection, entries)` is how the entries get written (and, on
    PostgreSQL with `commit=True`, committed in the same round trip).
    """
    if not connection.in_atomic_block:
        return False
    blocks = connection.atomic_blocks
    own = next((i for i, block in enumerate(blocks) if not getattr(block, "_from_testcase", False)),
               None)
    if own is None:
        return False  # only a test case's transaction: write now, as autocommit would
    # savepoint_ids has one item per block that is not the transaction itself.
    offset = len(blocks) - len(connection.savepoint_ids)
    if own >= offset and connection.savepoint_ids[own - offset] is None:
        return False  # a block without savepoint inside a test case: no exit hook to ride
    _install(connection, write_many)
    connection.on_commit(_Pending(entry))
    return True


def _take(connection) -> list:
    """The waiting entries, in order, taken off the on-commit list."""
    waiting = [item[1].entry for item in connection.run_on_commit if isinstance(item[1], _Pending)]
    if waiting:
        connection.run_on_commit = [item for item in connection.run_on_commit
                                    if not isinstance(item[1], _Pending)]
    return waiting


def _install(connection, write_many: Callable) -> None:
    """Hook this connection's COMMIT and savepoint release (once per connection object)."""
    if getattr(connection, "_zhili_audit_hooked", False):
        return
    commit, release = connection._commit, connection._savepoint_commit

    def _commit():
        entries = _take(connection)
        if not entries or connection.connection is None:
            return commit()
        if connection.vendor == "postgresql":
            with debug_transaction(connection, "COMMIT"), connection.wrap_database_errors:
                return write_many(connection, entries, commit=True)
        write_many(connection, entries, commit=False)
        return commit()

    def _savepoint_commit(sid):
        if not any(not getattr(b, "_from_testcase", False) for b in connection.atomic_blocks):
            entries = _take(connection)
            if entries:
                write_many(connection, entries, commit=False)
        return release(sid)

    connection._commit, connection._savepoint_commit = _commit, _savepoint_commit
    connection._zhili_audit_hooked = True
