#!/usr/bin/env python
"""`zhili city generate --preset chongqing`: wall time and peak memory.

    .venv/bin/python bench/generate.py [--seed S]

Runs the command exactly as a user would, each preset in a fresh data
directory under bench/out/generate-<preset>/ (SQLite), the small preset first
as the baseline of the same run. Peak memory is the child's maximum resident
set size, as the command itself reports it (getrusage). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZHILI = ROOT / ".venv" / "bin" / "zhili"
sys.path.insert(0, str(ROOT / "bench"))

from locate import machine  # noqa: E402  (same directory)


def run(preset: str, seed: int) -> dict:
    out = ROOT / "bench" / "out" / f"generate-{preset}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(os.environ, ZHILI_DATA_DIR=str(out),
               ZHILI_DATABASE_URL=f"sqlite:///{out / 'zhili.db'}")
    started = time.perf_counter()
    child = subprocess.Popen([str(ZHILI), "city", "generate", "--preset", preset, "--seed", str(seed)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - started
    if child.returncode:
        sys.exit(f"generate --preset {preset} failed:\n{stderr[-2000:]}")
    with sqlite3.connect(out / "zhili.db") as con:
        counts = dict(con.execute("SELECT level, count(*) FROM geo_areanode GROUP BY level"))
    inner = re.search(r"([\d.]+) s, peak memory (\d+) MB", stdout)
    return {
        "preset": preset,
        "seconds": round(seconds, 1),  # the whole command: start-up, migrate, generate, write
        "generate_seconds": float(inner.group(1)) if inner else None,
        "peak_rss_mb": int(inner.group(2)) if inner else None,  # the command's own getrusage
        "counts": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    baseline = run("small", args.seed)
    full = run("chongqing", args.seed)
    print(json.dumps({
        "bench": "generate",
        "preset": "chongqing",
        "seconds": full["seconds"],
        "generate_seconds": full["generate_seconds"],
        "peak_rss_mb": full["peak_rss_mb"],
        "counts": full["counts"],
        "baseline": baseline,
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
