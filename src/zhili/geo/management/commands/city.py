"""`zhili city generate|locate|import|export`: the city's geography from the command line."""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from zhili.core.errors import ApplicationError, ValidationFailed
from zhili.geo import coords, generator, geojson
from zhili.geo.importing import DEFAULT_TOLERANCE_M2, IMPORT_LEVELS, import_plan
from zhili.geo.models import AreaNode, Level, full_code, normalise_code


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "The city's geography: generate the demo city, locate a point, import or export GeoJSON."
    # A data command, like migrate: it needs the models, not the URL or template checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        gen = sub.add_parser("generate", help="Generate the demo city into an empty database.")
        gen.add_argument("--preset", choices=sorted(generator.PRESETS), default="small")
        gen.add_argument("--seed", type=int, default=1)

        loc = sub.add_parser("locate", help="Print the grid, community, street and district of a point.")
        loc.add_argument("lon", type=float, help="longitude")
        loc.add_argument("lat", type=float, help="latitude")
        loc.add_argument("--crs", choices=coords.CRS_CHOICES, default="wgs84")

        imp = sub.add_parser("import", help="Import boundaries of one level from GeoJSON "
                                            "(dry run unless --commit).")
        imp.add_argument("file", help="a GeoJSON FeatureCollection (RFC 7946, WGS84)")
        imp.add_argument("--level", required=True, choices=[str(v) for v in IMPORT_LEVELS])
        imp.add_argument("--commit", action="store_true", help="write (default: only check)")
        imp.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_M2, metavar="M2",
                         help="overlap allowed between siblings, in square metres "
                              f"(default {DEFAULT_TOLERANCE_M2:g})")

        exp = sub.add_parser("export", help="Write boundaries as a GeoJSON FeatureCollection.")
        exp.add_argument("--level", choices=[str(v) for v in Level])
        exp.add_argument("--under", metavar="CODE", help="only this area and what lies below it")
        exp.add_argument("-o", "--output", metavar="FILE", help="default: standard output")

        rds = sub.add_parser("roads", help="Replace the base map's roads: from OSM-like GeoJSON "
                                           "lines, or generated (synthetic) without a file.")
        rds.add_argument("file", nargs="?", help="GeoJSON lines with highway/name/name:en")
        rds.add_argument("--seed", type=int, default=1)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except ApplicationError as exc:
            raise CommandError(exc.detail or exc.title) from None
        except DatabaseError as exc:
            raise CommandError(f"The database is not ready ({exc}); run `zhili migrate` "
                               "and `zhili city generate`, or `zhili demo`.") from None

    # -- generate ---------------------------------------------------------

    def do_generate(self, *, preset, seed, **_):
        from tqdm import tqdm

        from zhili.geo.services import city_generate

        try:
            loaded = AreaNode.objects.exists()
        except DatabaseError:  # a fresh data directory: bring its schema up first
            loaded = False
            call_command("migrate", interactive=False, verbosity=0)
        if loaded:
            raise CommandError("A city is already loaded in this database; generate into an "
                               "empty one (a fresh ZHILI_DATA_DIR or database).")
        started = time.perf_counter()
        total = generator.PRESETS[preset].communities
        with tqdm(total=total, unit="community", desc=f"generating {preset}", file=sys.stderr,
                  disable=None) as bar:  # None: a bar on a terminal, silence in a pipe
            counts = city_generate(preset=preset, seed=seed, progress=bar.update)
        elapsed = time.perf_counter() - started
        self.stdout.write(", ".join(f"{n:,} {level}" for level, n in counts.items()))
        self.stdout.write(f"preset {preset}, seed {seed}: {elapsed:.1f} s, "
                          f"peak memory {peak_rss_mb():.0f} MB")
        self.stdout.write("Levels below district are synthetic (generated), and marked so.")

    # -- roads ------------------------------------------------------------

    def do_roads(self, *, file, seed, **_):
        from zhili.geo import roads
        from zhili.geo.services import roads_generate, roads_replace

        if file is None:
            n = roads_generate(seed=seed)
            self.stdout.write(f"{n:,} synthetic roads generated.")
            return
        try:
            with open(file, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise CommandError(f"{file} is not JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("features"), list):
            raise CommandError(f"{file} is not a GeoJSON FeatureCollection.")
        try:
            lines = roads.from_geojson(data["features"])
        except roads.RoadProblem as exc:
            raise CommandError(str(exc)) from None
        n = roads_replace(lines=lines, source=f"file:{os.path.basename(file)}")
        self.stdout.write(f"{n:,} roads imported from {file}.")

    # -- locate -----------------------------------------------------------

    def do_locate(self, *, lon, lat, crs, **_):
        from zhili.geo.selectors import locate_by_scan

        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
                and -90 <= lat <= 90):
            raise CommandError("LON must be within [-180, 180] and LAT within [-90, 90].")
        wlon, wlat = coords.to_wgs84(lon, lat, crs)
        found = locate_by_scan(wlon, wlat)
        if found is None:
            raise CommandError(f"({lon}, {lat}) [{crs}] lies outside the city: no grid holds it.")
        if crs != "wgs84":
            self.stdout.write(f"{'point':<10} {wlon:.7f} {wlat:.7f} (WGS84)")
        for level in ("grid", "community", "street", "district"):
            place = getattr(found, level)
            if place:
                self.stdout.write(f"{level:<10} {place.name} {place.code}")

    # -- import -----------------------------------------------------------

    def do_import(self, *, file, level, commit, tolerance, **_):
        from zhili.geo.services import area_import

        try:
            with open(file, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file} is not JSON: {exc}") from None
        except RecursionError:
            raise CommandError(f"{file} nests too deep to be GeoJSON boundaries.") from None
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
                or not isinstance(data.get("features"), list):
            raise CommandError(f"{file} is not a GeoJSON FeatureCollection.")
        features = data["features"]
        if commit:  # the service checks everything again inside its transaction
            try:
                counts = area_import(actor=None, level=level, features=features,
                                     tolerance_m2=tolerance)
            except ValidationFailed as exc:
                for error in exc.errors:
                    self.stderr.write(f"{error.field.replace('features[', 'feature #').rstrip(']')}"
                                      f": {error.message}")
                raise CommandError(f"{len(exc.errors)} of {len(features)} feature(s) are not "
                                   "valid; nothing written.") from None
            self.stdout.write(f"Written: {counts['new']} new, {counts['replaced']} replaced "
                              f"{level}(s); boundary version bumped.")
            return
        plan = import_plan(level=level, features=features, tolerance_m2=tolerance)
        for problem in plan.problems:
            self.stderr.write(str(problem))
        if not plan.ok:
            raise CommandError(f"{len(plan.problems)} of {len(features)} feature(s) are not "
                               "valid; nothing written.")
        self.stdout.write(f"All {len(features)} feature(s) are valid. Would write: "
                          f"{len(plan.new)} new, {len(plan.replaced)} replaced {level}(s). "
                          "Dry run: nothing written; add --commit to write.")

    # -- export -----------------------------------------------------------

    def do_export(self, *, level, under, output, **_):
        nodes = AreaNode.objects.order_by("path")
        if under:
            code = normalise_code(under)
            root = AreaNode.objects.filter(code=code).only("path").first() if code else None
            if root is None:
                raise CommandError(f"No area with code {under}.")
            nodes = nodes.filter(path__startswith=root.path)
        if level:
            nodes = nodes.filter(level=level)
        handle = open(output, "w", encoding="utf-8") if output else self.stdout  # noqa: SIM115
        count = 0
        try:
            handle.write('{"type":"FeatureCollection","features":[\n')
            for node in nodes.iterator(chunk_size=2000):
                parts = node.path.strip("/").split("/")
                props = {"code": node.code, "name": node.name, "name_en": node.name_en,
                         "level": node.level, "synthetic": node.synthetic,
                         "parent_code": full_code(parts[-2]) if len(parts) > 1 else None}
                if node.population is not None:
                    props["population"] = node.population
                text = json.dumps(geojson.feature(node.shape, props), ensure_ascii=False,
                                  separators=(",", ":"))
                handle.write(("," if count else "") + text + "\n")
                count += 1
            handle.write("]}\n")
        finally:
            if output:
                handle.close()
        if output:
            self.stderr.write(f"{count} feature(s) written to {output}")

