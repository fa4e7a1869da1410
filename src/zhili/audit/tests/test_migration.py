"""Migration 0005 turns the old single chain into the first sequenced batch.

The old entries keep their hashes (SHA-256 over the previous entry's hash and
their content), so verify still checks their old links: re-anchoring them in
the new chain does not whitewash tampering done before the migration.
"""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from zhili.audit.chain import GENESIS, entry_digest, hashed_fields
from zhili.audit.models import AuditHead, AuditSequence, AuditTreeHead
from zhili.audit.services import (
    HEAD_ID,
    _entry_for,
    audit_record,
    audit_sequence_pending,
    audit_verify,
)

migration = importlib.import_module("zhili.audit.migrations.0005_sequenced_chain")


@pytest.fixture
def old_chain(db, tamper):
    """An empty log, then five entries written the way the old single chain wrote them."""
    for table in ("audit_auditsequence", "audit_audittreehead", "audit_auditentry"):
        tamper(f"DELETE FROM {table}")
    tamper("UPDATE audit_audithead SET last_seq = 0, last_hash = %s", [GENESIS])
    entries, prev = [], GENESIS
    for i in range(5):
        entry = _entry_for(actor=None, action="test.old", obj=None, object_type="", object_id="",
                           area_path="", purpose=f"old {i}", detail={"i": i})
        entry.prev_hash = prev
        entry.entry_hash = prev = entry_digest(prev, hashed_fields(entry))
        entry.save()
        entries.append(entry)
    return entries


def migrate_old_chain():
    migration.sequence_old_chain(apps, SimpleNamespace(connection=connection))


def test_the_old_chain_becomes_the_first_signed_batch(old_chain):
    migrate_old_chain()
    assert list(AuditSequence.objects.values_list("entry_id", flat=True)) == [e.pk for e in old_chain]
    tree = AuditTreeHead.objects.get()
    assert (tree.first_seq, tree.last_seq, tree.max_entry_id) == (1, 5, old_chain[-1].pk)
    head = AuditHead.objects.get(pk=HEAD_ID)
    assert (head.last_seq, head.last_hash) == (5, tree.chain_hash)
    result = audit_verify()
    assert (result.checked, result.problems, result.unsequenced) == (5, [], 0)

    # New entries follow on from it.
    audit_record(actor=None, action="test.new")
    assert audit_sequence_pending() == 1
    assert audit_verify().checked == 6 and audit_verify().problems == []


def test_an_old_entry_keeps_its_old_hash_and_link(old_chain, tamper):
    migrate_old_chain()
    tamper("UPDATE audit_auditentry SET purpose = 'rewritten' WHERE id = %s", [old_chain[1].pk])
    assert audit_verify().problems == [
        f"entry {old_chain[1].pk} (position 2): its content does not match its hash (edited)"]


def test_tampering_from_before_the_migration_still_shows(old_chain, tamper):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [old_chain[2].pk])
    migrate_old_chain()
    assert audit_verify().problems == [
        f"entry {old_chain[3].pk} (position 3): its link in the chain from before the sequencer "
        "is broken (an entry was deleted, inserted or rewritten)"]
