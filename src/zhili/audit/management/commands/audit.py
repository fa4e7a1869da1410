"""`zhili audit verify` checks the hash chain; `zhili audit search` finds entries;
`zhili audit sequence` chains what was appended (what the worker does on every loop);
`zhili audit head` prints the newest signed tree head, to keep outside the database.

Both run on the server with the database's full view (no area scoping): they
are for the administrators who run the installation.
"""

from __future__ import annotations

import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhili.audit.models import AuditEntry
from zhili.audit.selectors import entries_filtered
from zhili.audit.services import audit_head, audit_sequence_pending, audit_verify


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Check the audit log's hash chain (verify), sequence new entries into it (sequence) or search it (search)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,sequence,head,search}")
        verify = sub.add_parser("verify", help="walk the whole chain; exit 1 on any problem")
        verify.add_argument("--batch-size", type=int, default=5000)
        verify.add_argument("--anchor", action="append", default=[], metavar="SEQ:HASH",
                            help="a head published earlier (`audit head`): the chain must "
                                 "still pass through it; may be given several times")
        sub.add_parser("sequence", help="chain every entry appended and not yet sequenced")
        head = sub.add_parser("head", help="print the newest signed tree head, to publish "
                                           "outside the database")
        head.add_argument("--json", action="store_true")
        search = sub.add_parser("search", help="list entries matching every filter given")
        search.add_argument("--actor", help="username, exactly")
        search.add_argument("--action", help="action prefix, e.g. person. or token.revoke")
        search.add_argument("--object-type", dest="object_type")
        search.add_argument("--object-id", dest="object_id")
        search.add_argument("--request-id", dest="request_id")
        search.add_argument("--from", dest="date_from", type=str, help="first day, YYYY-MM-DD")
        search.add_argument("--to", dest="date_to", type=str, help="last day, YYYY-MM-DD")
        search.add_argument("--purpose", help="text within the stated purpose")
        search.add_argument("--limit", type=int, default=50, help="newest N (default 50)")
        search.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args, **options):
        if options["subcommand"] == "verify":
            return self.verify(options)
        if options["subcommand"] == "sequence":
            return self.sequence()
        if options["subcommand"] == "head":
            return self.head(options)
        return self.search(options)

    def verify(self, options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        interactive = sys.stderr.isatty()

        def progress(checked: int, total: int) -> None:
            end = "\r" if interactive else "\n"
            self.stderr.write(f"checked {checked:,} of {total:,} entries", ending=end)

        anchors = {}
        for text in options["anchor"]:
            seq, _, chain_hash = text.partition(":")
            if not seq.isdigit() or len(chain_hash) != 64:
                raise CommandError(f"--anchor must be SEQ:HASH (as `audit head` prints): {text!r}")
            anchors[int(seq)] = chain_hash.lower()
        result = audit_verify(batch_size=options["batch_size"], progress=progress, anchors=anchors)
        if interactive:
            self.stderr.write("")
        if result.unsequenced:
            oldest = timezone.localtime(result.oldest_unsequenced_at)
            self.stdout.write(f"NOT YET SEQUENCED {result.unsequenced:,} entries appended, "
                              f"not yet sequenced (not checked, not trusted; the oldest appended "
                              f"at {oldest:%Y-%m-%d %H:%M:%S}): is a worker running?")
        if result.problems:
            for text in result.problems:
                self.stdout.write(f"PROBLEM {text}")
            raise CommandError(f"the chain is broken: {len(result.problems)} problem(s) "
                               f"in {result.checked:,} entries", returncode=1)
        self.stdout.write(f"OK: {result.checked:,} entries, the chain is intact")

    def sequence(self):
        done = 0
        while n := audit_sequence_pending(full=True):
            done += n
            self.stderr.write(f"sequenced {done:,} entries", ending="\r" if sys.stderr.isatty() else "\n")
        self.stdout.write(f"OK: {done:,} entries sequenced")

    def head(self, options):
        tree = audit_head()
        if tree is None:
            raise CommandError("nothing has been sequenced yet")
        if options["json"]:
            self.stdout.write(json.dumps({
                "first_seq": tree.first_seq, "last_seq": tree.last_seq,
                "chain_hash": tree.chain_hash, "at": tree.at.isoformat(),
                "signature": tree.signature}))
        else:
            self.stdout.write(f"{tree.last_seq}:{tree.chain_hash}")
            self.stderr.write(f"sequenced at {tree.at.isoformat()}, signature {tree.signature}; "
                              "check it later with `zhili audit verify --anchor "
                              f"{tree.last_seq}:{tree.chain_hash}`")

    def search(self, options):
        filters = {k: options.get(k) for k in
                   ("actor", "action", "object_type", "object_id", "request_id", "purpose")}
        for key in ("date_from", "date_to"):
            if options.get(key):
                filters[key] = _day(options[key])
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        entries = entries_filtered(AuditEntry.objects.all(), filters).order_by("-id")
        shown = 0
        for entry in entries[: options["limit"]]:
            shown += 1
            if options["json"]:
                self.stdout.write(json.dumps({
                    "id": entry.pk, "at": entry.at.isoformat(), "actor": entry.actor_label,
                    "action": entry.action, "object_type": entry.object_type,
                    "object_id": entry.object_id, "area_path": entry.area_path,
                    "purpose": entry.purpose, "request_id": entry.request_id,
                    "client_ip": entry.client_ip, "channel": entry.channel,
                    "detail": entry.detail,
                }, ensure_ascii=False))
            else:
                obj = f"{entry.object_type}:{entry.object_id}" if entry.object_type else "-"
                self.stdout.write(
                    f"#{entry.pk}  {timezone.localtime(entry.at):%Y-%m-%d %H:%M:%S}  {entry.actor_label}  "
                    f"{entry.action}  {obj}  {entry.area_path or '-'}  {entry.purpose}".rstrip()
                )
        if not options["json"]:
            self.stderr.write(f"{shown} entr{'y' if shown == 1 else 'ies'} shown (newest first)")
