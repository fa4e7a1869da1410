"""Django's `flush`, able to empty the append-only audit log.

The audit triggers refuse DELETE (SQLite) and TRUNCATE (PostgreSQL), which is
how `flush` empties tables, and pytest-django flushes after every
transactional test. So this command (which overrides Django's own, since
apps' commands win over core ones) lifts the triggers for its one
transaction, empties the database, puts the triggers and the chain head
back, and commits. Emptying the whole database is the one sanctioned way to
remove audit entries; it needs shell access and the owner's database rights.
"""

from django.core.management.commands import flush
from django.db import connections, transaction

from zhili.audit import triggers


class Command(flush.Command):
    help = flush.Command.help + " The audit log is emptied too (its triggers are lifted meanwhile)."

    def handle(self, **options):
        database = options["database"]
        connection = connections[database]
        if options["interactive"]:
            # Ask before taking any lock, not while holding one.
            confirm = input(
                f'This will IRREVERSIBLY DESTROY all data, the audit log included, in the '
                f'"{connection.settings_dict["NAME"]}" database.\n'
                "Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
            options["interactive"] = False
        with transaction.atomic(using=database):
            with triggers.lifted(connection):
                super().handle(**options)
            self._put_back_head(database, connection)

    def _put_back_head(self, database, connection):
        from zhili.audit.models import AuditHead
        from zhili.audit.services import GENESIS, HEAD_ID

        with connection.cursor() as cursor:
            if AuditHead._meta.db_table not in connection.introspection.table_names(cursor):
                return
        AuditHead.objects.using(database).get_or_create(
            pk=HEAD_ID, defaults={"last_hash": GENESIS, "last_seq": 0}
        )
