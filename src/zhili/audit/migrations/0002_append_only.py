"""Make the audit log append-only in the database itself, and create the chain head.

On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE of audit entries;
on SQLite two triggers refuse UPDATE and DELETE (SQLite has no TRUNCATE).
The chain head may only move forward and may not be deleted. The SQL is
written out here, not imported, so this migration keeps meaning what it
meant when it ran.

SQLite caveat: Django rebuilds a table (create, copy, drop, rename) for most
ALTERs on SQLite, and dropping the old table drops its triggers. A later
migration that alters `AuditEntry` or `AuditHead` must re-run `install` below.
The test suite checks that the triggers exist.
"""

from django.db import migrations

GENESIS = "0" * 64

POSTGRES_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION zhili_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Audit entries can only be added (zhili.audit.services.audit_record).';
    END
    $$
    """,
    """
    CREATE TRIGGER zhili_audit_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
        FOR EACH ROW EXECUTE FUNCTION zhili_audit_refuse()
    """,
    """
    CREATE TRIGGER zhili_audit_no_truncate BEFORE TRUNCATE ON audit_auditentry
        FOR EACH STATEMENT EXECUTE FUNCTION zhili_audit_refuse()
    """,
    """
    CREATE TRIGGER zhili_audit_head_forward BEFORE UPDATE ON audit_audithead
        FOR EACH ROW WHEN (NEW.last_id < OLD.last_id) EXECUTE FUNCTION zhili_audit_refuse()
    """,
    """
    CREATE TRIGGER zhili_audit_head_kept BEFORE DELETE ON audit_audithead
        FOR EACH ROW EXECUTE FUNCTION zhili_audit_refuse()
    """,
    """
    CREATE TRIGGER zhili_audit_head_no_truncate BEFORE TRUNCATE ON audit_audithead
        FOR EACH STATEMENT EXECUTE FUNCTION zhili_audit_refuse()
    """,
]
POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS zhili_audit_append_only ON audit_auditentry",
    "DROP TRIGGER IF EXISTS zhili_audit_no_truncate ON audit_auditentry",
    "DROP TRIGGER IF EXISTS zhili_audit_head_forward ON audit_audithead",
    "DROP TRIGGER IF EXISTS zhili_audit_head_kept ON audit_audithead",
    "DROP TRIGGER IF EXISTS zhili_audit_head_no_truncate ON audit_audithead",
    "DROP FUNCTION IF EXISTS zhili_audit_refuse()",
]

SQLITE_INSTALL = [
    """
    CREATE TRIGGER zhili_audit_no_update BEFORE UPDATE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_auditentry refused'); END
    """,
    """
    CREATE TRIGGER zhili_audit_no_delete BEFORE DELETE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_auditentry refused'); END
    """,
    """
    CREATE TRIGGER zhili_audit_head_forward BEFORE UPDATE ON audit_audithead
    WHEN NEW.last_id < OLD.last_id
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: the head may only move forward'); END
    """,
    """
    CREATE TRIGGER zhili_audit_head_kept BEFORE DELETE ON audit_audithead
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_audithead refused'); END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS zhili_audit_no_update",
    "DROP TRIGGER IF EXISTS zhili_audit_no_delete",
    "DROP TRIGGER IF EXISTS zhili_audit_head_forward",
    "DROP TRIGGER IF EXISTS zhili_audit_head_kept",
]

STATEMENTS = {
    "postgresql": (POSTGRES_INSTALL, POSTGRES_REMOVE),
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
}


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql, params=None)


def install(apps, schema_editor):
    AuditHead = apps.get_model("audit", "AuditHead")
    # Created here, once, so writers never race to create it.
    AuditHead.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"last_hash": GENESIS, "last_id": 0}
    )
    install_sql, _ = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    _run(schema_editor, install_sql)


def remove(apps, schema_editor):
    _, remove_sql = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    _run(schema_editor, remove_sql)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
