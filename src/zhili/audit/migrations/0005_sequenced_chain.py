"""Appends stop locking the chain: entries are sequenced into it afterwards, in batches.

1. The old triggers go (among them 0003's, which moved the head on every
   INSERT); the new set is created at the end, for four tables.
2. `AuditSequence` (an entry's position and chain hash) and `AuditTreeHead`
   (a signed head per sequenced batch) are created; the head counts positions
   (`last_seq`), not entry ids; the entry hash is no longer unique (it covers
   content only, and identical content may repeat) and `prev_hash` is empty
   for new entries.
3. The existing chain becomes the first sequenced batch, in id order (its
   chain order): every old entry keeps its `prev_hash` and `entry_hash`, so
   `zhili audit verify` still checks the old links too, and is re-anchored in
   the new chain under one signed tree head.

As in 0002, the SQL and the hashing are written out here so this migration
keeps meaning what it meant when it ran. SQLite rebuilds the entries table
for the field changes, which drops its triggers: they are all re-created.
Not reversible: the old single chain cannot take back entries appended
without a lock.
"""

import hashlib
from datetime import UTC

from django.db import migrations, models
from django.utils import timezone
from django.utils.crypto import salted_hmac

GENESIS = "0" * 64
BATCH = 5000

REFUSE_FUNCTION = """
    CREATE OR REPLACE FUNCTION zhili_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Audit entries can only be added (zhili.audit.services.audit_record).';
    END
    $$
"""
APPEND_ONLY = {  # table -> trigger name stem
    "audit_auditentry": "zhili_audit",
    "audit_auditsequence": "zhili_audit_sequence",
    "audit_audittreehead": "zhili_audit_treehead",
}

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS zhili_audit_advance_head ON audit_auditentry",
    "DROP FUNCTION IF EXISTS zhili_audit_advance_head()",
    "DROP TRIGGER IF EXISTS zhili_audit_head_forward ON audit_audithead",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS zhili_audit_advance_head",
    "DROP TRIGGER IF EXISTS zhili_audit_head_forward",
    "DROP TRIGGER IF EXISTS zhili_audit_no_update",
    "DROP TRIGGER IF EXISTS zhili_audit_no_delete",
]

POSTGRES_INSTALL = [REFUSE_FUNCTION]
SQLITE_INSTALL = []
for _table, _stem in APPEND_ONLY.items():
    if _table != "audit_auditentry":  # the entries' own PostgreSQL triggers (0002) stay
        POSTGRES_INSTALL += [
            f"CREATE TRIGGER {_stem}_append_only BEFORE UPDATE OR DELETE ON {_table} "
            "FOR EACH ROW EXECUTE FUNCTION zhili_audit_refuse()",
            f"CREATE TRIGGER {_stem}_no_truncate BEFORE TRUNCATE ON {_table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION zhili_audit_refuse()",
        ]
    SQLITE_INSTALL += [
        f"CREATE TRIGGER {_stem}_no_update BEFORE UPDATE ON {_table} BEGIN SELECT "
        f"RAISE(ABORT, 'the audit log is append-only: UPDATE on {_table} refused'); END",
        f"CREATE TRIGGER {_stem}_no_delete BEFORE DELETE ON {_table} BEGIN SELECT "
        f"RAISE(ABORT, 'the audit log is append-only: DELETE on {_table} refused'); END",
    ]
POSTGRES_INSTALL.append(
    "CREATE TRIGGER zhili_audit_head_forward BEFORE UPDATE ON audit_audithead "
    "FOR EACH ROW WHEN (NEW.last_seq < OLD.last_seq) EXECUTE FUNCTION zhili_audit_refuse()"
)
SQLITE_INSTALL.append(
    "CREATE TRIGGER zhili_audit_head_forward BEFORE UPDATE ON audit_audithead "
    "WHEN NEW.last_seq < OLD.last_seq BEGIN SELECT "
    "RAISE(ABORT, 'the audit log is append-only: the head may only move forward'); END"
)
# The head's delete/truncate triggers from 0002 survive (SQLite does not rebuild it).

STATEMENTS = {
    "postgresql": (POSTGRES_DROP, POSTGRES_INSTALL),
    "sqlite": (SQLITE_DROP, SQLITE_INSTALL),
}


def _run(schema_editor, index):
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[index]:
        schema_editor.execute(sql, params=None)


def drop_old_triggers(apps, schema_editor):
    _run(schema_editor, 0)


def link(prev_chain, seq, entry_id, entry_hash):
    return hashlib.sha256(f"{prev_chain}:{seq}:{entry_id}:{entry_hash}".encode()).hexdigest()


def sign(first_seq, last_seq, chain_hash, at):
    message = f"{first_seq}:{last_seq}:{chain_hash}:{at.astimezone(UTC).isoformat()}"
    return salted_hmac("zhili.audit.tree_head.v1", message, algorithm="sha256").hexdigest()


def sequence_old_chain(apps, schema_editor):
    db = schema_editor.connection.alias
    entries = apps.get_model("audit", "AuditEntry").objects.using(db)
    positions = apps.get_model("audit", "AuditSequence").objects.using(db)
    seq, chain, cursor = 0, GENESIS, 0
    while True:
        rows = list(entries.filter(id__gt=cursor).order_by("id").values_list("id", "entry_hash")[:BATCH])
        if not rows:
            break
        batch = []
        for entry_id, entry_hash in rows:
            seq += 1
            chain = link(chain, seq, entry_id, entry_hash)
            batch.append(positions.model(seq=seq, entry_id=entry_id, chain_hash=chain))
        positions.bulk_create(batch)
        cursor = rows[-1][0]
    if seq:
        at = timezone.now()
        apps.get_model("audit", "AuditTreeHead").objects.using(db).create(
            first_seq=1, last_seq=seq, chain_hash=chain, at=at, max_entry_id=cursor,
            signature=sign(1, seq, chain, at),
        )
    heads = apps.get_model("audit", "AuditHead").objects.using(db)
    heads.update_or_create(pk=1, defaults={"last_seq": seq, "last_hash": chain})


def install_triggers(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_lean_indexes"),
    ]

    operations = [
        migrations.RunPython(drop_old_triggers),
        migrations.RemoveConstraint(model_name="auditentry", name="audit_entry_hash_unique"),
        migrations.AlterField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RenameField(model_name="audithead", old_name="last_id", new_name="last_seq"),
        migrations.CreateModel(
            name="AuditSequence",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("chain_hash", models.CharField(max_length=64)),
                ("entry", models.OneToOneField(db_constraint=False,
                                               on_delete=models.deletion.DO_NOTHING,
                                               related_name="sequence", to="audit.auditentry")),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.CreateModel(
            name="AuditTreeHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("first_seq", models.BigIntegerField()),
                ("last_seq", models.BigIntegerField(unique=True)),
                ("chain_hash", models.CharField(max_length=64)),
                ("at", models.DateTimeField(help_text="when the batch was sequenced")),
                ("max_entry_id", models.BigIntegerField()),
                ("signature", models.CharField(help_text="HMAC-SHA256 of the head",
                                               max_length=64)),
            ],
            options={
                "ordering": ["-last_seq"],
                "indexes": [models.Index(fields=["at"], name="audit_treehead_at")],
            },
        ),
        migrations.RunPython(sequence_old_chain),
        migrations.RunPython(install_triggers),
    ]
