from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Early warning: import the risk list (dry run unless --commit), seed the catalogue."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="risk points from CSV or GeoJSON")
        imp.add_argument("file")
        imp.add_argument("--format", choices=["csv", "geojson"],
                         help="default: from the file name (.csv, .geojson/.json)")
        imp.add_argument("--commit", action="store_true", help="write (default: dry run)")
        sub.add_parser("catalogue", help="create the missing risk categories and default rules")
        seed = sub.add_parser("seed", help="the seed's synthetic risk list, persons and sensors "
                                           "in bulk (resumable: a rerun continues)")
        seed.add_argument("--preset", choices=["small", "chongqing"], default="small")
        seed.add_argument("--seed", type=int, default=1)
        seed.add_argument("--active", action="store_true",
                          help="register the sensors active (default: inactive, so the "
                               "silent-sensor sweep does not warn for devices that do not exist)")

    def handle(self, *, action, **options):
        if action == "seed":
            return self.do_seed(**options)
        if action == "catalogue":
            from zhili.warning.catalogue import catalogue_seed

            categories, rules = catalogue_seed()
            self.stdout.write(f"{categories} risk categories and {rules} default rules created")
            return
        from zhili.warning.importing import risk_points_import

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        fmt = options["format"] or ("csv" if path.suffix.lower() == ".csv" else "geojson")
        report = risk_points_import(actor=None, data=path.read_bytes(), fmt=fmt,
                                    commit=options["commit"])
        for problem in report.problems[:200]:
            self.stderr.write(f"  {problem}")
        if len(report.problems) > 200:
            self.stderr.write(f"  … and {len(report.problems) - 200} more")
        if not report.ok:
            raise CommandError(f"{len(report.problems)} problems; nothing written")
        verb = "written" if options["commit"] else "would be written (dry run; --commit to write)"
        self.stdout.write(f"{report.created} new and {report.updated} updated risk points {verb}")

    def do_seed(self, *, preset, seed, active, **_):
        import sys
        import time

        from tqdm import tqdm

        from zhili.warning.seeding import PRESETS, risk_list_seed, seeded_counts

        size = PRESETS[preset]
        started = time.perf_counter()
        try:
            with tqdm(total=size.points + size.persons, unit="row", desc=f"seeding {preset}",
                      file=sys.stderr, disable=None) as bar:
                written = risk_list_seed(preset=preset, seed=seed, active=active,
                                         progress=bar.update, log=self.stderr.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        counts = seeded_counts()
        self.stdout.write(f"written now: {written['points']:,} risk points (with a sensor each) "
                          f"and {written['persons']:,} responsible persons; in the database: "
                          f"{counts['points']:,} and {counts['persons']:,} "
                          f"({time.perf_counter() - started:.1f} s). All synthetic, marked so.")
