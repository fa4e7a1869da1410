"""`zhili supervision rebuild [--source NAME]`: recompute the KPI roll-ups from scratch;
`zhili supervision poll`: roll up pending events now (what the worker does)."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Supervision: rebuild the KPI roll-ups from live data, or roll up pending events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="recompute the roll-ups from scratch")
        rebuild.add_argument("--source", action="append", default=None,
                             help="only this source (e.g. governance.cases); repeatable")
        sub.add_parser("poll", help="roll up every pending event now")

    def handle(self, *, action, **options):
        from zhili.supervision.kpis import sources
        from zhili.supervision.rollups import poll_all
        from zhili.supervision.services import rollups_rebuild

        if action == "poll":
            total = 0
            while (n := poll_all()):
                total += n
            self.stdout.write(f"rolled up {total} events")
            return
        names = options["source"]
        unknown = sorted(set(names or ()) - set(sources()))
        if unknown:
            raise CommandError(f"unknown source {', '.join(unknown)}; "
                               f"known: {', '.join(sources())}")
        for name, cells in rollups_rebuild(actor=None, source_names=names).items():
            self.stdout.write(f"{name}: {cells} cells")
