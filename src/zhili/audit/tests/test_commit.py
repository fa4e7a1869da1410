"""An entry recorded in a transaction is written inside it, just before its COMMIT.

This test really commits (transactional: one test, since each costs a flush),
so it runs the commit hook of audit/pending.py as production does: on
PostgreSQL the INSERTs and the COMMIT in one pipeline. The concurrent-writers
test in test_append_only.py runs the same path from several connections.
"""

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from zhili.accounts.models import User
from zhili.audit.models import AuditEntry
from zhili.audit.services import audit_record, audit_sequence_pending, audit_verify


def actions() -> list[str]:
    return list(AuditEntry.objects.filter(action__startswith="test.").order_by("id")
                .values_list("action", flat=True))


def _other_connection():
    params = connection.get_connection_params()
    keys = ("host", "port", "user", "password", "dbname")
    return psycopg.connect(" ".join(f"{k}={params[k]}" for k in keys if params.get(k)),
                           autocommit=True)


@pytest.mark.django_db(transaction=True)
def test_entries_are_written_with_their_transactions_commit_and_only_then(reseed_after):
    # Committed: every entry of the transaction, in order, with the domain row.
    with transaction.atomic():
        User.objects.create(username="audited")
        first = audit_record(actor=None, action="test.first", detail={"n": 1, "城": "渝中"})
        with transaction.atomic():
            second = audit_record(actor=None, action="test.second")
        assert first.pk is None  # not written yet: it waits for the commit
    assert first.pk and second.pk and first.pk < second.pk
    assert AuditEntry.objects.get(pk=first.pk).detail == {"n": 1, "城": "渝中"}

    # Rolled back, whole or to a savepoint: no entry from inside it.
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="test.gone")
        raise RuntimeError
    with transaction.atomic():
        audit_record(actor=None, action="test.kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(actor=None, action="test.inner_gone")
            raise RuntimeError
    # Nothing carried over into the next transaction on the connection.
    with transaction.atomic():
        User.objects.create(username="plain")
    # Outside a transaction: written at once.
    assert audit_record(actor=None, action="test.now").pk
    assert actions() == ["test.first", "test.second", "test.kept", "test.now"]
    audit_sequence_pending(full=True)
    assert audit_verify().problems == []

    if connection.vendor != "postgresql":
        return
    # An entry the database refuses fails the caller's transaction with it.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry ADD CONSTRAINT test_refused "
                       "CHECK (action <> 'test.refused')")
    try:
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="must_not_stay")
            audit_record(actor=None, action="test.refused")
        assert not User.objects.filter(username="must_not_stay").exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditentry DROP CONSTRAINT test_refused")

    # A connection lost at the commit is an error (not a hang), and nothing stays.
    with pytest.raises(DatabaseError), transaction.atomic():
        User.objects.create(username="lost")
        audit_record(actor=None, action="test.lost")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with _other_connection() as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.close()
    assert not User.objects.filter(username__in=["lost", "must_not_stay"]).exists()
    assert actions() == ["test.first", "test.second", "test.kept", "test.now"]
