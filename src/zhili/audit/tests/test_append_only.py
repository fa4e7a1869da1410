"""The database itself refuses to change or remove audit entries."""

import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from zhili.audit import triggers
from zhili.audit.models import AuditEntry, AuditHead
from zhili.audit.services import GENESIS, HEAD_ID, audit_record, audit_verify


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
        "postgresql": ["zhili_audit_advance_head", "zhili_audit_append_only",
                       "zhili_audit_head_forward",
                       "zhili_audit_head_kept", "zhili_audit_head_no_truncate",
                       "zhili_audit_no_truncate"],
        "sqlite": ["zhili_audit_advance_head", "zhili_audit_head_forward",
                   "zhili_audit_head_kept",
                   "zhili_audit_no_delete", "zhili_audit_no_update"],
    }[connection.vendor]
    assert names == expected


def test_the_migration_created_the_chain_head(db):
    head = AuditHead.objects.get(pk=HEAD_ID)
    assert len(head.last_hash) == 64 and head.last_id >= 0


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


def test_the_head_only_moves_forward(db, city_admin):
    audit_record(actor=city_admin, action="test.write")
    assert refused("UPDATE audit_audithead SET last_id = 0, last_hash = %s", [GENESIS])
    assert refused("DELETE FROM audit_audithead")


@pytest.mark.postgres_only
def test_truncate_is_refused_on_postgres(db):
    assert refused("TRUNCATE audit_auditentry")
    assert refused("TRUNCATE audit_audithead")


def test_flush_still_empties_the_database(db, city_admin):
    # `flush` (which the test runner uses after transactional tests) lifts the
    # triggers for its own transaction only; this test's rollback undoes it all.
    call_command("flush", interactive=False, reset_sequences=False, inhibit_post_migrate=True,
                 verbosity=0)
    assert not AuditEntry.objects.exists()
    assert AuditHead.objects.get(pk=HEAD_ID).last_hash == GENESIS
    assert len(triggers.installed(connection)) >= 4
    entry = audit_record(actor=None, action="test.after_flush")
    assert entry.prev_hash == GENESIS
    assert refused("DELETE FROM audit_auditentry")
    assert audit_verify() == (1, [])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain(reseed_after):
    """Writers on separate connections queue on the head lock: no fork, no gap in the links.

    Also proves that the test runner's flush (TRUNCATE) still works afterwards.
    """
    writers, per_writer = 4, 15
    errors = []
    barrier = threading.Barrier(writers)

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

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEntry.objects.filter(action="test.concurrent").count() == writers * per_writer
    checked, problems = audit_verify()
    assert problems == []
    assert AuditHead.objects.get(pk=HEAD_ID).last_id == AuditEntry.objects.latest("id").pk
