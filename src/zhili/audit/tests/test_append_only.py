"""The database itself refuses to change or remove audit entries."""

import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from zhili.audit import triggers
from zhili.audit.models import AuditEntry, AuditHead, AuditSequence, AuditTreeHead
from zhili.audit.services import (
    GENESIS,
    HEAD_ID,
    audit_record,
    audit_sequence_pending,
    audit_verify,
)


def refused(sql, params=None):
    """Run raw SQL in a savepoint and report whether the database refused it."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    except DatabaseError as exc:
        assert "append-only" in str(exc)
        return True
    return False


def test_triggers_are_installed(db):
    names = triggers.installed(connection)
    expected = {
        "postgresql": ["zhili_audit_append_only", "zhili_audit_head_forward",
                       "zhili_audit_head_kept", "zhili_audit_head_no_truncate",
                       "zhili_audit_no_truncate",
                       "zhili_audit_sequence_append_only", "zhili_audit_sequence_no_truncate",
                       "zhili_audit_treehead_append_only", "zhili_audit_treehead_no_truncate"],
        "sqlite": ["zhili_audit_head_forward", "zhili_audit_head_kept",
                   "zhili_audit_no_delete", "zhili_audit_no_update",
                   "zhili_audit_sequence_no_delete", "zhili_audit_sequence_no_update",
                   "zhili_audit_treehead_no_delete", "zhili_audit_treehead_no_update"],
    }[connection.vendor]
    assert names == expected


def test_the_migration_created_the_chain_head(db):
    head = AuditHead.objects.get(pk=HEAD_ID)
    assert len(head.last_hash) == 64 and head.last_seq >= 0


def test_raw_update_and_delete_are_refused(db, city_admin):
    entry = audit_record(actor=city_admin, action="test.write", purpose="original")
    assert refused("UPDATE audit_auditentry SET purpose = 'forged' WHERE id = %s", [entry.pk])
    assert refused("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert refused("DELETE FROM audit_auditentry")
    entry.refresh_from_db()
    assert entry.purpose == "original"


def test_orm_writes_are_refused_too(db, city_admin):
    entry = audit_record(actor=city_admin, action="test.write")
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk, action="test.write").exists()


def test_positions_and_tree_heads_cannot_be_changed_or_removed(db, city_admin):
    audit_record(actor=city_admin, action="test.write")
    assert audit_sequence_pending(full=True) >= 1
    for table in ("audit_auditsequence", "audit_audittreehead"):
        assert refused(f"UPDATE {table} SET chain_hash = %s", [GENESIS])
        assert refused(f"DELETE FROM {table}")


def test_the_head_only_moves_forward(db, city_admin):
    audit_record(actor=city_admin, action="test.write")
    audit_sequence_pending(full=True)
    assert refused("UPDATE audit_audithead SET last_seq = 0, last_hash = %s", [GENESIS])
    assert refused("DELETE FROM audit_audithead")


@pytest.mark.postgres_only
def test_truncate_is_refused_on_postgres(db):
    for table in triggers.TABLES:
        assert refused(f"TRUNCATE {table}")


def test_flush_still_empties_the_database(db, city_admin):
    # `flush` (which the test runner uses after transactional tests) lifts the
    # triggers for its own transaction only; this test's rollback undoes it all.
    call_command("flush", interactive=False, reset_sequences=False, inhibit_post_migrate=True,
                 verbosity=0)
    assert not AuditEntry.objects.exists()
    assert AuditHead.objects.get(pk=HEAD_ID).last_hash == GENESIS
    assert not AuditSequence.objects.exists() and not AuditTreeHead.objects.exists()
    assert len(triggers.installed(connection)) >= 8
    audit_record(actor=None, action="test.after_flush")
    assert audit_sequence_pending() == 1
    assert AuditSequence.objects.get().seq == 1
    assert refused("DELETE FROM audit_auditentry")
    result = audit_verify()
    assert (result.checked, result.problems) == (1, [])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_and_sequencers_keep_one_chain(reseed_after):
    """Writers on separate connections append without waiting for each other while two
    sequencers run: every entry gets exactly one position, in one unforked chain.

    Also proves that the test runner's flush (TRUNCATE) still works afterwards.
    """
    writers, per_writer = 4, 15
    errors = []
    barrier = threading.Barrier(writers + 2)
    done = threading.Event()

    def write(n):
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", detail={"w": n, "i": i})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def sequence():
        try:
            barrier.wait()
            while not done.is_set():
                audit_sequence_pending()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    for t in threads + sequencers:
        t.start()
    for t in threads:
        t.join()
    done.set()
    for t in sequencers:
        t.join()
    assert errors == []
    while audit_sequence_pending(full=True):
        pass
    assert AuditEntry.objects.filter(action="test.concurrent").count() == writers * per_writer
    result = audit_verify()
    assert (result.problems, result.unsequenced) == ([], 0)
    assert AuditSequence.objects.count() == AuditEntry.objects.count()
    assert AuditHead.objects.get(pk=HEAD_ID).last_seq == AuditSequence.objects.count()
