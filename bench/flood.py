"""A flood forecast run through Zhili's engine wrapper against a bare pyswmm run.

Zhili runs each forecast in its own process (pyswmm allows one simulation per
process), advancing in 15-minute strides for progress, watching a heartbeat,
then reading every node's flooding series from the binary output. The
baseline is the same engine on the same input in a fresh process with
`Simulation.execute()` and nothing else. `ratio` = ours / bare, the median of
alternating rounds: what the progress, the process and the results cost.

    .venv/bin/python bench/flood.py [--junctions 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BARE = ("import sys\nfrom pyswmm import Simulation\n"
        "with Simulation(sys.argv[1], sys.argv[2], sys.argv[3]) as sim:\n    sim.execute()\n")


def machine() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from locate import machine as described

    return described()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junctions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from zhili.flood.engine import run_engine
    from zhili.flood.inp import with_rainfall
    from zhili.flood.network import generate_inp

    text = generate_inp(bbox=(106.50, 29.52, 106.58, 29.58), junctions=args.junctions, seed=1)
    start = datetime(2026, 6, 1, 8, 0)
    series = [(start + timedelta(minutes=10 * k), 60.0 if k < 18 else 0.0) for k in range(24)]
    text = with_rainfall(text, series=series, step=timedelta(minutes=10))
    work = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    (work / "model.inp").write_text(text)
    ours, bare, flooded, polls = [], [], 0, 0
    for r in range(args.rounds):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", BARE, str(work / "model.inp"),
                        str(work / "bare.rpt"), str(work / "bare.out")], check=True,
                       stdout=subprocess.DEVNULL)
        bare.append(time.perf_counter() - t0)
        seen = []
        t0 = time.perf_counter()
        outcome = run_engine(text, timeout_s=3600, on_poll=lambda p, _proc, seen=seen: seen.append(p))
        ours.append(time.perf_counter() - t0)
        assert outcome.ok, outcome.error
        flooded, polls = len(outcome.result["nodes"]), len(seen)
        print(f"round {r + 1}: ours {ours[-1]:.2f} s, bare {bare[-1]:.2f} s", file=sys.stderr)
    ratios = [o / b for o, b in zip(ours, bare, strict=True)]
    print(json.dumps({
        "bench": "flood", "junctions": args.junctions, "simulated_hours": 6,
        "flooded_nodes": flooded, "progress_polls": polls,
        "ours_s": round(statistics.median(ours), 3), "bare_s": round(statistics.median(bare), 3),
        "ratio": round(statistics.median(ratios), 3), "rounds": args.rounds,
        "machine": machine()}))


if __name__ == "__main__":
    main()
