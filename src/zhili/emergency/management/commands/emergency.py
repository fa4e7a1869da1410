from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Emergency: road networks (import OSM, generate synthetic), rescue resources "
            "(import, dry run unless --commit), rescue circles (compute now).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        roads = sub.add_parser("roads", help="the road network")
        roads_sub = roads.add_subparsers(dest="roads_action", required=True)
        imp = roads_sub.add_parser("import", help="an OpenStreetMap .osm.pbf or .osm file")
        imp.add_argument("file")
        gen = roads_sub.add_parser("generate", help="a synthetic network over the city (demo)")
        gen.add_argument("--nodes", type=int, default=None,
                         help="lattice junctions (default: one every ~160 m, at most 1,000,000)")
        gen.add_argument("--seed", type=int, default=0)
        res = sub.add_parser("import", help="rescue resources from CSV or GeoJSON")
        res.add_argument("file")
        res.add_argument("--format", choices=["csv", "geojson"],
                         help="default: from the file name (.csv, .geojson/.json)")
        res.add_argument("--commit", action="store_true", help="write (default: dry run)")
        sub.add_parser("circles", help="recompute the rescue circles now (in this process)")

    def handle(self, *, action, **options):
        getattr(self, f"_{action}")(**options)

    def _roads(self, *, roads_action, **options):
        from zhili.core.errors import ApplicationError
        from zhili.emergency.roads import RoadsError, read_osm
        from zhili.emergency.services import road_network_generate, road_network_install

        try:
            if roads_action == "import":
                path = Path(options["file"])
                self.stdout.write(f"reading {path} …")
                graph = read_osm(path)
                network = road_network_install(actor=None, graph=graph, source=path.name)
            else:
                if options["nodes"] is not None and not 4 <= options["nodes"] <= 5_000_000:
                    raise CommandError("--nodes must be between 4 and 5,000,000")
                network = road_network_generate(actor=None, nodes=options["nodes"],
                                                seed=options["seed"])
        except RoadsError as exc:
            raise CommandError(f"{exc}; nothing written") from None
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        label = " (synthetic)" if network.synthetic else ""
        self.stdout.write(f"road network v{network.pk}{label}: {network.nodes:,} nodes, "
                          f"{network.drive_edges:,} driving and {network.walk_edges:,} walking "
                          "edges; rescue circles queued for recomputation")

    def _import(self, **options):
        from zhili.emergency.importing import resources_import

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        fmt = options["format"] or ("csv" if path.suffix.lower() == ".csv" else "geojson")
        report = resources_import(actor=None, data=path.read_bytes(), fmt=fmt,
                                  commit=options["commit"])
        for problem in report.problems[:200]:
            self.stderr.write(f"  {problem}")
        if len(report.problems) > 200:
            self.stderr.write(f"  … and {len(report.problems) - 200} more")
        if not report.ok:
            raise CommandError(f"{len(report.problems)} problems; nothing written")
        verb = "written" if options["commit"] else "would be written (dry run; --commit to write)"
        self.stdout.write(f"{report.created} new and {report.updated} updated rescue resources {verb}")

    def _circles(self, **options):
        from zhili.emergency.coverage import coverage_compute

        run = coverage_compute(reason="command")
        self.stdout.write(f"coverage run {run.pk}: {run.points:,} risk points; routing "
                          f"{run.routing_s:.2f} s, polygons {run.polygons_s:.2f} s; "
                          f"unreachable {run.unreachable}")
