"""The database moves the chain head on every appended entry.

`audit_record` used to UPDATE the head after its INSERT: one more round trip
inside the lock every audited write holds to its commit. An AFTER INSERT
trigger does the same in the INSERT itself. The writer still locks the head
row first (SELECT … FOR UPDATE), so the chain order is unchanged.

As in 0002, the SQL is written out here so this migration keeps meaning what
it meant when it ran; `audit.triggers.lifted()` suspends this trigger too.
"""

from django.db import migrations

POSTGRES_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION zhili_audit_advance_head() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE audit_audithead SET last_hash = NEW.entry_hash, last_id = NEW.id WHERE id = 1;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER zhili_audit_advance_head AFTER INSERT ON audit_auditentry
        FOR EACH ROW EXECUTE FUNCTION zhili_audit_advance_head()
    """,
]
POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS zhili_audit_advance_head ON audit_auditentry",
    "DROP FUNCTION IF EXISTS zhili_audit_advance_head()",
]
SQLITE_INSTALL = [
    """
    CREATE TRIGGER zhili_audit_advance_head AFTER INSERT ON audit_auditentry
    BEGIN UPDATE audit_audithead SET last_hash = NEW.entry_hash, last_id = NEW.id WHERE id = 1; END
    """,
]
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS zhili_audit_advance_head"]

STATEMENTS = {
    "postgresql": (POSTGRES_INSTALL, POSTGRES_REMOVE),
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
}


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql, params=None)


def install(apps, schema_editor):
    _run(schema_editor, STATEMENTS.get(schema_editor.connection.vendor, ([], []))[0])


def remove(apps, schema_editor):
    _run(schema_editor, STATEMENTS.get(schema_editor.connection.vendor, ([], []))[1])


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_append_only"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
