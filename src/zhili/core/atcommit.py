"""Writes nobody waits for wait for their transaction's COMMIT and go in with it.

An audit row, a live-map event with its NOTIFY, a notification and its
deliveries: the service that writes them never reads them back. `defer()`
leaves such a write on Django's on-commit list in a marker, and a hook on the
connection writes every waiting one *inside* the transaction, right before
COMMIT. On PostgreSQL the writes and the COMMIT go in one libpq pipeline, so a
service pays one round trip for all of them instead of one each (intake: the
audit row, the live event, its NOTIFY and the assignee's notification).

Riding on the on-commit list gives Django's own bookkeeping for free: a
savepoint rolled back drops the writes deferred inside it, a rollback or a
closed connection drops them all. The guarantee stays that of a statement in
the caller's transaction: if one fails, the COMMIT is not run, the error is
raised and the caller's transaction rolls back; if the transaction rolls back,
nothing is written.

Under a test case's transaction (which never commits) the commit is the exit
of the outermost block the code itself opened, so the hook also writes on the
release of that block's savepoint; outside any block of the code's own the
caller writes at once, as in autocommit (`defer()` returns False).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

from django.db.backends.utils import debug_transaction


class Write:
    """One statement waiting for the COMMIT.

    `sql` is PostgreSQL's text with `%s` placeholders (typed by the statement:
    parameters travel as text); `name`, when given, prepares it once per
    connection. `now(connection)` writes it through Django's cursor instead
    (SQLite, or the savepoint release under a test case). `key`: a later write
    with the same key in the same transaction is dropped (one live event per
    object per commit). `result(value)` gets the first column of its first row.
    """

    __slots__ = ("sql", "params", "name", "now", "key", "result")

    def __init__(self, *, sql: str, params: list, now: Callable, name: bytes | None = None,
                 key=None, result: Callable | None = None):
        self.sql, self.params, self.name = sql, params, name
        self.now, self.key, self.result = now, key, result

    def __call__(self):  # pragma: no cover - only if a hook was bypassed
        raise RuntimeError("a deferred write reached the after-commit callbacks unwritten")


def defer(connection, write: Write) -> bool:
    """Leave `write` for the transaction's COMMIT; False if the caller must write it now."""
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
    _install(connection)
    connection.on_commit(write)
    return True


def _take(connection) -> list[Write]:
    """The waiting writes, in order (later duplicates of a key dropped), off the list."""
    waiting = [item[1] for item in connection.run_on_commit if isinstance(item[1], Write)]
    if not waiting:
        return waiting
    connection.run_on_commit = [item for item in connection.run_on_commit
                                if not isinstance(item[1], Write)]
    seen, out = set(), []
    for write in waiting:
        if write.key is not None:
            if write.key in seen:
                continue
            seen.add(write.key)
        out.append(write)
    return out


def _install(connection) -> None:
    """Hook this connection's COMMIT and savepoint release (once per connection object)."""
    if getattr(connection, "_zhili_atcommit_hooked", False):
        return
    commit, release = connection._commit, connection._savepoint_commit

    def _commit():
        writes = _take(connection)
        if not writes or connection.connection is None:
            return commit()
        if connection.vendor == "postgresql":
            with debug_transaction(connection, "COMMIT"), connection.wrap_database_errors:
                return pipeline(connection.connection, writes)
        for write in writes:
            write.now(connection)
        return commit()

    def _savepoint_commit(sid):
        if not any(not getattr(b, "_from_testcase", False) for b in connection.atomic_blocks):
            for write in _take(connection):
                write.now(connection)
        return release(sid)

    connection._commit, connection._savepoint_commit = _commit, _savepoint_commit
    connection._zhili_atcommit_hooked = True


def text(value) -> bytes | None:
    """A parameter in PostgreSQL's text format (the statement's context or casts type it)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, datetime | date):
        return value.isoformat().encode()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


def pipeline(pg, writes: list[Write]) -> None:
    """The writes and the COMMIT in one libpq pipeline: one round trip, no more.

    psycopg's own pipeline costs more Python than the round trip it saves, so
    this speaks libpq directly (psycopg.pq, the layer psycopg is built on). A
    write that fails aborts the rest of the pipeline, the COMMIT included: the
    error is raised and the caller's transaction rolls back.
    """
    from psycopg import pq

    from zhili.core.prepared import dollar, ensure_prepared, pipeline_results

    pgconn = pg.pgconn
    encoding = pg.info.encoding
    for write in writes:
        if write.name is not None:
            ensure_prepared(pg, write.name, write.sql)
    pgconn.enter_pipeline_mode()
    try:
        sent = []  # what each statement's results belong to (None: BEGIN, COMMIT)
        if pgconn.transaction_status == pq.TransactionStatus.IDLE:
            pgconn.send_query_params(b"BEGIN", None)  # nothing sent yet in this transaction
            sent.append(None)
        for write in writes:
            params = [text(v) for v in write.params]
            if write.name is not None:
                pgconn.send_query_prepared(write.name, params)
            else:
                pgconn.send_query_params(dollar(write.sql).encode(), params)
            sent.append(write)
        pgconn.send_query_params(b"COMMIT", None)
        sent.append(None)
        answered = []
        for at, result in pipeline_results(pgconn, encoding, "the connection was lost at the commit"):
            write = sent[at] if at < len(sent) else None
            if write is not None and write.result is not None and result.ntuples:
                value = result.get_value(0, 0)
                answered.append((write, None if value is None else value.decode(encoding)))
    finally:
        pgconn.exit_pipeline_mode()
    for write, value in answered:
        write.result(value)
