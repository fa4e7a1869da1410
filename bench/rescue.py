"""Rescue circles: 520,000 risk points, ~5,000 resources, a ~1,000,000-node road graph.

Measures the whole computation the coverage run does (`coverage.class_times`:
snapping, one multi-source Dijkstra per road class, the air class by KD-tree,
the polygons) against peers on the same graph in the same run:

- `ratio_vs_scipy`: our routing time over a bare `scipy.sparse.csgraph.dijkstra(
  min_only=True)` from the same sources on the same two matrices (drive and
  walk) — the floor; target ≤ 1.5.
- `ratio_vs_networkx`: our routing (`class_times` without polygons: the box's places
  and resources) over networkx `multi_source_dijkstra_path_length` (drive and walk),
  both on a sub-lattice (`--nx-nodes`, default 100,000 nodes) one after the other;
  target ≤ 0.05 (20×). `ratio_vs_networkx_scaled` is the older figure: our full-graph
  routing over networkx's sub-lattice time scaled by edge count (linear scaling
  flatters networkx, and the two were measured minutes apart under a moving load).
- `ratio_vs_pgrouting`: our drive search (the same `dijkstra` call `on_graph`
  makes, with the same limit) over `pgr_drivingDistance(…, equicost := true)`
  from the same ground sources on the same directed edges of the sub-lattice
  (scratch database `zhili_bench_emergency`, `--pgr-limit`, default 600 s):
  on the full graph pgRouting's memory passed 20 GB (see `pgrouting_time`);
  null with a note if pgRouting is not installed.

The rounds are recomputations after the first (the places' snapping to the graph
kept with it, as in the worker); the first, cold run is reported apart
(`ratio_cold_vs_scipy`). Polygon time is reported apart from routing time. `exact` checks our node times
against the bare scipy run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
OUT = ROOT / "bench" / "out" / "rescue"
BBOX = (106.0, 29.0, 107.4, 30.2)  # about 135 × 133 km around central Chongqing


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} CPU, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
    os.environ["ZHILI_DATA_DIR"] = str(OUT / "data")
    import django

    django.setup()


def sub_lattice(graph, sources_drive, sub_nodes: int, mode: str = "drive"):
    """The mode's matrix of a lower-left box holding about sub_nodes nodes, and the
    sources inside it (renumbered)."""
    share = np.sqrt(sub_nodes / graph.nodes)
    box_lon = BBOX[0] + (BBOX[2] - BBOX[0]) * share
    box_lat = BBOX[1] + (BBOX[3] - BBOX[1]) * share
    inside = np.nonzero((graph.lon <= box_lon) & (graph.lat <= box_lat))[0]
    sub = graph.matrix(mode)[inside][:, inside].tocsr()
    local = {int(n): i for i, n in enumerate(inside)}
    sources = sorted({local[int(s)] for s in sources_drive if int(s) in local}) or [0]
    return sub, np.array(sources)


def networkx_time(sub, sources) -> tuple[float, float, int]:
    """(networkx seconds on the sub-lattice, scipy seconds on it, its edges)."""
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    sources = sources.tolist()
    coo = sub.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(sub.shape[0]))
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                  strict=True))
    started = time.perf_counter()
    nx.multi_source_dijkstra_path_length(g, sources, weight="weight")
    nx_s = time.perf_counter() - started
    started = time.perf_counter()
    dijkstra(sub, directed=True, indices=sources, min_only=True)
    sp_s = time.perf_counter() - started
    return nx_s, sp_s, sub.nnz


def pgrouting_time(matrix, sources, limit_s: float, url: str) -> tuple[float | None, str]:
    """pgr_drivingDistance(equicost) from the sources over the matrix's edges.

    Its memory grows with sources × nodes reached before it merges them (on the
    full graph with 2,475 sources and a 30-minute limit it passed 20 GB and did
    not answer a cancel), so it runs on the sub-lattice with a short limit."""
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed"
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        return None, f"PostgreSQL unreachable ({str(exc).strip().splitlines()[0]})"
    with conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting CASCADE")
        except psycopg.Error as exc:
            return None, f"pgRouting is not installed ({str(exc).strip().splitlines()[0]})"
        conn.execute("SET statement_timeout = '300s'")
        coo = matrix.tocoo()
        version = f"{matrix.shape[0]}-{coo.nnz}"
        have = conn.execute("SELECT to_regclass('rescue_edges') IS NOT NULL").fetchone()[0]
        same = have and conn.execute(
            "SELECT obj_description('rescue_edges'::regclass)").fetchone()[0] == version
        if not same:
            log(f"  loading {coo.nnz:,} directed edges into pgRouting's table …")
            conn.execute("DROP TABLE IF EXISTS rescue_edges")
            conn.execute("CREATE UNLOGGED TABLE rescue_edges (id bigint, source bigint, "
                         "target bigint, cost float8)")
            with conn.cursor().copy("COPY rescue_edges FROM STDIN") as copy:
                buffer = io.StringIO()
                for i, (u, v, w) in enumerate(zip(coo.row, coo.col, coo.data, strict=True)):
                    buffer.write(f"{i + 1}\t{u + 1}\t{v + 1}\t{w}\n")
                    if buffer.tell() > 4_000_000:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
            conn.execute(f"COMMENT ON TABLE rescue_edges IS '{version}'")
            conn.execute("ANALYZE rescue_edges")
        started = time.perf_counter()
        rows = conn.execute(
            "SELECT count(*) FROM pgr_drivingDistance("
            "'SELECT id, source, target, cost FROM rescue_edges', %s::bigint[], %s, "
            "directed := true, equicost := true)",
            ([int(s) + 1 for s in sources], limit_s)).fetchone()[0]
        elapsed = time.perf_counter() - started
    return elapsed, f"pgr_drivingDistance reached {rows:,} nodes within {limit_s:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--points", type=int, default=520_000)
    parser.add_argument("--resources", type=int, default=5_000)
    parser.add_argument("--nx-nodes", type=int, default=100_000,
                        help="nodes of the sub-lattice networkx and pgRouting run on")
    parser.add_argument("--pgr-limit", type=float, default=600.0,
                        help="pgRouting's (and our compared search's) limit in seconds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg", default=os.environ.get(
        "ZHILI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/zhili_bench_emergency"))
    parser.add_argument("--no-pgrouting", action="store_true")
    args = parser.parse_args()
    django_setup()
    from scipy.sparse.csgraph import dijkstra

    from zhili.emergency.circles import on_graph
    from zhili.emergency.conf import speed_kmh, targets_s
    from zhili.emergency.coverage import class_times
    from zhili.emergency.roads import synthetic_network

    rng = np.random.default_rng(args.seed)
    log(f"synthetic road graph of ~{args.nodes:,} nodes …")
    started = time.perf_counter()
    graph = synthetic_network(BBOX, args.nodes, seed=args.seed)
    log(f"  {graph.nodes:,} nodes, {graph.drive.nnz:,} drive and {graph.walk.nnz:,} walk edges "
        f"in {time.perf_counter() - started:.1f} s")
    n_air = max(1, args.resources // 100)
    n_ground = (args.resources - n_air) // 2
    n_resp = args.resources - n_air - n_ground

    def uniform(n):
        return (rng.uniform(BBOX[0], BBOX[2], n), rng.uniform(BBOX[1], BBOX[3], n))

    by_class = {}
    pk = 1
    for cls, n in (("air", n_air), ("ground", n_ground), ("responders", n_resp)):
        rlon, rlat = uniform(n)
        by_class[cls] = [(pk + i, float(x), float(y)) for i, (x, y) in enumerate(zip(rlon, rlat,
                                                                                    strict=True))]
        pk += n
    lon, lat = uniform(args.points)

    # Warm the KD-tree over the nodes (built once per process, kept with the graph).
    graph.snap(lon[:1], lat[:1])
    ground_nodes = np.unique(graph.snap(*np.array([r[1:] for r in by_class["ground"]]).T)[0])
    resp_nodes = np.unique(graph.snap(*np.array([r[1:] for r in by_class["responders"]]).T)[0])
    # The first run after a network is loaded snaps every place (a KD-tree query of all
    # 520,000); the graph keeps that answer (`RoadGraph.snap_places`) and every later
    # recomputation — a resource added, busy, moved — reuses it. Measured apart: cold.
    log("cold run: our computation with the places' snapping …")
    started = time.perf_counter()
    _, _, cold_polygon_s = class_times(graph, by_class, lon, lat, bbox=BBOX)
    cold_s = time.perf_counter() - started - cold_polygon_s
    started = time.perf_counter()
    dijkstra(graph.drive, directed=True, indices=ground_nodes, min_only=True)
    dijkstra(graph.walk, directed=True, indices=resp_nodes, min_only=True)
    cold_bare_s = time.perf_counter() - started
    log(f"  routing {cold_s:.2f} s (bare scipy {cold_bare_s:.2f} s)")
    # Alternating rounds, ours then the bare floor (the same two multi-source searches
    # and nothing else); the median of the rounds' ratios, so a busy shared machine's
    # drift hits both alike.
    ratios, rounds = [], []
    for n in range(args.rounds):
        log(f"round {n + 1}: our computation (class_times: routing and polygons) …")
        started = time.perf_counter()
        results, polygons, polygon_s = class_times(graph, by_class, lon, lat, bbox=BBOX)
        total_s = time.perf_counter() - started
        routing_s = total_s - polygon_s
        started = time.perf_counter()
        bare_drive = dijkstra(graph.drive, directed=True, indices=ground_nodes, min_only=True)
        dijkstra(graph.walk, directed=True, indices=resp_nodes, min_only=True)
        bare_s = time.perf_counter() - started
        log(f"  routing {routing_s:.2f} s, polygons {polygon_s:.2f} s, bare scipy {bare_s:.2f} s")
        ratios.append(routing_s / bare_s)
        rounds.append((routing_s, polygon_s, total_s, bare_s))
    import statistics

    median = sorted(range(len(ratios)), key=lambda i: ratios[i])[len(ratios) // 2]
    routing_s, polygon_s, total_s, bare_s = rounds[median]
    started = time.perf_counter()
    ours_drive = on_graph(graph, "drive", *np.array([r[1:] for r in by_class["ground"]]).T,
                          lon, lat, speed_kmh("drive"))
    drive_s = time.perf_counter() - started
    exact = bool(np.array_equal(ours_drive.node_seconds, bare_drive))

    log(f"networkx on a ~{args.nx_nodes:,}-node sub-lattice …")
    # Both road searches, as ours does: drive from the ground sources, walk from the
    # responders', each scaled by its own edge count.
    sub, sub_sources = sub_lattice(graph, ground_nodes, args.nx_nodes)
    nx_s, sub_scipy_s, sub_edges = networkx_time(sub, sub_sources)
    walk_sub, walk_sources = sub_lattice(graph, resp_nodes, args.nx_nodes, "walk")
    nx_walk_s, _, walk_edges = networkx_time(walk_sub, walk_sources)
    scale = graph.drive.nnz / sub_edges
    nx_scaled_s = nx_s * scale + nx_walk_s * graph.walk.nnz / walk_edges
    log(f"  networkx {nx_s:.2f} s on {sub_edges:,} edges (scipy {sub_scipy_s:.3f} s), "
        f"scaled ×{scale:.1f} → {nx_scaled_s:.1f} s")
    # The same moment, the same sub-lattice: our whole routing there (the box's places and
    # resources, the places' snapping kept as in the rounds) against networkx's two
    # searches there — no scaling, and no load drift between the two.
    from zhili.emergency.graph import RoadGraph

    share = np.sqrt(args.nx_nodes / graph.nodes)
    box_lon = BBOX[0] + (BBOX[2] - BBOX[0]) * share
    box_lat = BBOX[1] + (BBOX[3] - BBOX[1]) * share
    inside = np.nonzero((graph.lon <= box_lon) & (graph.lat <= box_lat))[0]
    sub_graph = RoadGraph(graph.lon[inside], graph.lat[inside], sub, walk_sub)
    in_box = (lon <= box_lon) & (lat <= box_lat)
    sub_classes = {cls: [r for r in rs if r[1] <= box_lon and r[2] <= box_lat]
                   for cls, rs in by_class.items()}
    class_times(sub_graph, sub_classes, lon[in_box], lat[in_box], with_polygons=False)
    started = time.perf_counter()
    class_times(sub_graph, sub_classes, lon[in_box], lat[in_box], with_polygons=False)
    sub_routing_s = time.perf_counter() - started
    log(f"  ours on the sub-lattice {sub_routing_s:.3f} s, networkx {nx_s + nx_walk_s:.2f} s")

    pgr_s, pgr_note, sub_ours_s = (None, "skipped (--no-pgrouting)", None)
    if not args.no_pgrouting:
        log("pgRouting pgr_drivingDistance …")
        pgr_s, pgr_note = pgrouting_time(sub, sub_sources, args.pgr_limit, args.pg)
        log(f"  {pgr_s} s: {pgr_note}")
        started = time.perf_counter()
        dijkstra(sub, directed=True, indices=sub_sources, min_only=True,
                 return_predecessors=True, limit=args.pgr_limit)
        sub_ours_s = time.perf_counter() - started

    targets = targets_s()
    covered = {cls: round(float(np.mean(results[cls][0] <= targets[cls])), 4) for cls in results}
    print(json.dumps({
        "bench": "rescue",
        "nodes": graph.nodes, "drive_edges": int(graph.drive.nnz), "walk_edges": int(graph.walk.nnz),
        "points": args.points, "resources": args.resources,
        "routing_s": round(routing_s, 3), "polygons_s": round(polygon_s, 3),
        "total_s": round(total_s, 3), "scipy_bare_s": round(bare_s, 3),
        "ratio_vs_scipy": round(statistics.median(ratios), 3),
        "ratio_vs_scipy_rounds": [round(r, 3) for r in ratios],
        "ratio_total_vs_scipy": round(total_s / bare_s, 3),
        "routing_cold_s": round(cold_s, 3),
        "ratio_cold_vs_scipy": round(cold_s / cold_bare_s, 3),
        "cold_note": "the first run after the network is loaded, snapping every place; "
                     "the rounds reuse that snapping as every later recomputation does",
        "networkx_scaled_s": round(nx_scaled_s, 2),
        "ratio_vs_networkx": round(sub_routing_s / (nx_s + nx_walk_s), 4),
        "ratio_vs_networkx_scaled": round(routing_s / nx_scaled_s, 4),
        "networkx_sub_s": round(nx_s + nx_walk_s, 3), "ours_sub_s": round(sub_routing_s, 3),
        "networkx_note": f"multi_source_dijkstra_path_length on {sub_edges:,} of "
                         f"{graph.drive.nnz:,} drive edges ({nx_s:.2f} s; bare scipy "
                         f"{sub_scipy_s:.3f} s there) and {walk_edges:,} walk edges "
                         f"({nx_walk_s:.2f} s), each scaled linearly by edges",
        "drive_routing_s": round(drive_s, 3),
        "pgrouting_s": round(pgr_s, 3) if pgr_s is not None else None,
        "ratio_vs_pgrouting": round(sub_ours_s / pgr_s, 4) if pgr_s else None,
        "pgrouting_note": pgr_note + (
            f"; on the {sub.shape[0]:,}-node sub-lattice from its {len(sub_sources)} ground "
            f"sources, against our search there with the same limit "
            f"({sub_ours_s:.3f} s)" if pgr_s else ""),
        "covered_share": covered, "exact": exact,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
    }))


if __name__ == "__main__":
    main()
