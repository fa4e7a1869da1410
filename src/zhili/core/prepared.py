"""The hottest reads as statements PostgreSQL parses and plans once per connection.

Django's psycopg cursors bind parameters on the client: every statement
reaches the server as new text and is parsed and planned again. For the few
hand-written reads that run on every request of a hot path (the bearer token's
look-up, intake's duplicate search and duty roster) planning cost PostgreSQL
more than running them (pg_stat_statements: the token's join 0.34 ms planning
against 0.05 ms running). `fetch()` runs such a read as a named prepared
statement over libpq (psycopg.pq, as core/atcommit.py does for the writes),
and when it is the first statement of a transaction it sends the BEGIN in the
same pipeline: one round trip, where Django would make two. Rows come back
through the connection's own psycopg loaders, so they are typed exactly as a
Django cursor's rows.

psycopg's own prepared statements stay off (Django's default): psycopg
deallocates *every* statement of the connection on a rollback once it has any,
which would take these with it. `ZHILI_DB_PREPARE=0` turns this off too
(behind a transaction-mode PgBouncer older than 1.21, which cannot keep
prepared statements); `fetch()` is then a Django cursor's execute, as on
SQLite.
"""

from __future__ import annotations

import select

from django.db import connection

from zhili.core.conf import env_bool

PREPARE = env_bool("ZHILI_DB_PREPARE", True)  # read once: `enabled()` is on every hot read


def enabled() -> bool:
    return PREPARE and connection.vendor == "postgresql"


def ensure_prepared(pg, name: bytes, sql: str) -> None:
    """Prepare `name` on this connection unless this process already has."""
    from psycopg import errors, pq

    pgconn = pg.pgconn
    known = getattr(pg, "_zhili_prepared", None)
    if known is None or known[0] is not pgconn:
        known = pg._zhili_prepared = (pgconn, set())
    if name in known[1]:
        return
    result = pgconn.prepare(name, dollar(sql).encode())
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise errors.error_from_result(result, encoding=pg.info.encoding)
    known[1].add(name)


def next_result(pgconn):
    """The next result of a pipeline, waiting in `select()`, which lets other threads run:
    libpq's `PQgetResult` would wait for the server holding the GIL, so every thread of
    the process (the event loop's, other requests') stood still for the round trip."""
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    return pgconn.get_result()


def pipeline_results(pgconn, encoding: str, lost: str):
    """Send the pipeline to its sync point, then yield (statement index, result) of each
    result with rows; the first statement's error, if any, is raised at the sync (the
    statements after it were not run)."""
    from psycopg import errors, pq

    pgconn.pipeline_sync()
    while pgconn.flush():  # psycopg keeps libpq non-blocking: send it all
        select.select([], [pgconn.socket], [])
    failure, at = None, 0
    while True:
        result = next_result(pgconn)
        if result is None:  # the end of one statement's results, or a lost connection
            if pgconn.status == pq.ConnStatus.BAD:
                raise errors.OperationalError(lost)
            at += 1
            continue
        status = result.status
        if status == pq.ExecStatus.PIPELINE_SYNC:
            break
        if status == pq.ExecStatus.TUPLES_OK:
            yield at, result
        elif status == pq.ExecStatus.FATAL_ERROR and failure is None:
            failure = errors.error_from_result(result, encoding=encoding)
    if failure is not None:
        raise failure


def dollar(sql: str) -> str:
    """`%s` placeholders numbered `$1`, `$2`, … (the statements here have no literal %)."""
    n = 0
    parts = sql.split("%s")
    out = [parts[0]]
    for part in parts[1:]:
        n += 1
        out.append(f"${n}{part}")
    return "".join(out)


def fetch(name: str, sql: str, params: list) -> list[tuple]:
    """All rows of the read `sql` (`%s` placeholders), prepared as `name` on PostgreSQL."""
    if not enabled():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        if connection.queries_logged:
            from django.db.backends.utils import CursorDebugWrapper

            with CursorDebugWrapper(None, connection).debug_sql(
                    connection.ops.compose_sql(sql, params)):
                return _fetch(connection.connection, name.encode(), sql, params)
        return _fetch(connection.connection, name.encode(), sql, params)


def _fetch(pg, name: bytes, sql: str, params: list) -> list[tuple]:
    from psycopg import pq
    from psycopg.adapt import Transformer

    from zhili.core.atcommit import text

    ensure_prepared(pg, name, sql)
    pgconn = pg.pgconn
    begin = not pg.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE
    rows = []
    pgconn.enter_pipeline_mode()
    try:
        if begin:
            pgconn.send_query_params(b"BEGIN", None)
        pgconn.send_query_prepared(name, [text(v) for v in params])
        for _at, result in pipeline_results(pgconn, pg.info.encoding, "the connection was lost"):
            transformer = Transformer(pg)
            transformer.set_pgresult(result)
            rows = transformer.load_rows(0, result.ntuples, tuple)
    finally:
        pgconn.exit_pipeline_mode()
    return rows
