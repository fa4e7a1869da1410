"""`zhili bundles import FILE [--commit]` (dry run unless --commit) and `zhili bundles metrics`."""

import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Bundled services: import a JSON catalogue (dry run first), print metrics."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="check (and with --commit, import) a catalogue file")
        imp.add_argument("file")
        imp.add_argument("--commit", action="store_true", help="write; without it nothing is written")
        sub.add_parser("metrics", help="catalogue and observed metrics as JSON")

    def handle(self, *args, **options):
        from zhili.bundles.catalogue import catalogue_import, catalogue_load_file

        if options["action"] == "metrics":
            from zhili.bundles.metrics import catalogue_metrics, observed_metrics

            self.stdout.write(json.dumps({"catalogue": catalogue_metrics(), "observed": observed_metrics()},
                                         ensure_ascii=False, indent=1))
            return
        try:
            doc = catalogue_load_file(options["file"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from None
        report = catalogue_import(actor=None, doc=doc, commit=options["commit"])
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"{len(report.errors)} problem(s); nothing written")
