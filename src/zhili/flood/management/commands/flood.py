from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Flood forecasts: attach a SWMM drainage model to an area (dry run unless --commit), "
            "generate a synthetic network, run a queued forecast in the foreground.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        model = sub.add_parser("model", help="drainage models")
        model_sub = model.add_subparsers(dest="model_action", required=True)
        add = model_sub.add_parser("add", help="attach an .inp to an area")
        add.add_argument("area", help="the area's code (full or trimmed)")
        add.add_argument("file", help="an EPA SWMM 5 .inp; [COORDINATES] in WGS84 lon/lat")
        add.add_argument("--name", help="default: the file's name")
        add.add_argument("--radius", type=float, help="warn risk points within this many metres")
        add.add_argument("--commit", action="store_true", help="write (default: check only)")
        gen = sub.add_parser("generate", help="write a synthetic network for an area's box")
        gen.add_argument("area")
        gen.add_argument("output", help="the .inp file to write")
        gen.add_argument("--junctions", type=int, default=40)
        gen.add_argument("--seed", type=int, default=1)
        run = sub.add_parser("run", help="execute a queued run here, showing its progress")
        run.add_argument("run_id", type=int)

    def handle(self, *, action, **options):
        from zhili.geo.selectors import node_by_code

        if action == "run":
            return self._run(options["run_id"])
        area = node_by_code(options["area"])
        if area is None:
            raise CommandError(f"no area with code {options['area']}")
        if action == "generate":
            from zhili.flood.network import generate_inp

            text = generate_inp(bbox=(area.min_lon, area.min_lat, area.max_lon, area.max_lat),
                                junctions=options["junctions"], seed=options["seed"],
                                title=f"{area.name} drainage network")
            Path(options["output"]).write_text(text)
            self.stdout.write(f"{options['junctions']} junctions written to {options['output']} "
                              "(synthetic)")
            return
        self._add(area, options)

    def _add(self, area, options):
        from zhili.core.errors import ApplicationError
        from zhili.flood.services import drainage_model_add, inp_check

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text") from None
        name = options["name"] or path.stem
        try:
            if not options["commit"]:
                parsed = inp_check(text)
                self.stdout.write(f"{path.name}: {len(parsed.rows('JUNCTIONS'))} junctions, "
                                  f"{len(parsed.coordinates())} with coordinates; the engine "
                                  f"accepts it. Would attach {name!r} to {area.name} "
                                  "(dry run; --commit to write)")
                return
            model = drainage_model_add(actor=None, area=area, name=name, inp_text=text,
                                       source_name=path.name, risk_radius_m=options["radius"])
        except ApplicationError as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error.message}")
            raise CommandError(exc.detail) from None
        located = model.nodes.filter(grid__isnull=False).count()
        self.stdout.write(f"model {model.pk} {model.name!r}: {model.junctions} junctions, "
                          f"{located} nodes located in grids of {area.name}")

    def _run(self, run_id):
        from zhili.flood.services import flood_run_execute

        def show(progress, _proc):
            self.stdout.write(f"\r  {progress:6.1%}", ending="")
            self.stdout.flush()

        run = flood_run_execute(run_id=run_id, on_poll=show)
        self.stdout.write("")
        if run is None:
            raise CommandError(f"run {run_id} is not queued (already taken or finished)")
        if run.status == "failed":
            for line in run.error_lines:
                self.stderr.write(f"  {line}")
            raise CommandError(f"run {run_id} failed: {run.error}")
        self.stdout.write(f"run {run_id} done in {run.duration_s:.2f} s: "
                          f"{run.results.get('flooded_nodes', 0)} flooded nodes, "
                          f"warnings {', '.join(run.warnings) or 'none'}")
