"""The append-only triggers (created by migrations 0002 and 0005), seen from Python.

`lifted()` suspends them inside one transaction: the `flush` command uses it
to empty the database (tests do this after every transactional test), and
tests use it to play the attacker. It needs the rights of the tables' owner,
which is exactly why production should not run the application as the owner
(docs/security.md).
"""

from __future__ import annotations

from contextlib import contextmanager

TABLES = ("audit_auditentry", "audit_auditsequence", "audit_audittreehead", "audit_audithead")


def installed(connection) -> list[str]:
    """Names of the audit triggers present in the database, sorted."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
                "(SELECT oid FROM pg_class WHERE relname = ANY(%s))",
                [list(TABLES)],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                "(%s, %s, %s, %s)",
                list(TABLES),
            )
        else:
            return []
        return sorted(row[0] for row in cursor.fetchall())


@contextmanager
def lifted(connection):
    """Run the block with the audit triggers off; they come back before the commit.

    Must run inside a transaction, so a crash in the block cannot leave the
    triggers off: the rollback restores them (DDL is transactional on both
    PostgreSQL and SQLite).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lift the audit triggers only inside transaction.atomic()")
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
    tables = [t for t in TABLES if t in present]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    elif connection.vendor == "sqlite":
        # SQLite cannot disable a trigger: keep its SQL, drop it, re-create it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                "(%s, %s, %s, %s)",
                list(TABLES),
            )
            saved = cursor.fetchall()
            for name, _sql in saved:
                cursor.execute(f'DROP TRIGGER "{name}"')
        yield
        with connection.cursor() as cursor:
            for _name, sql in saved:
                cursor.execute(sql)
    else:
        yield
