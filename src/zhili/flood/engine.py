"""Running SWMM in a child process (runner.py) from the web or the worker.

The child gets a private directory with model.inp and leaves model.rpt,
model.out, a progress file and result.json there. This side watches it:
reads progress, calls `on_poll` (the run's heartbeat), kills it at the
timeout, and reports what happened. SWMM's errors are a bare Exception with
"ERROR 200: one or more errors in input file"; the detail is in the .rpt,
so `error_lines` reads it from there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import zhili

ERROR_LINE = re.compile(r"^\s*(ERROR \d+:.*)$")
POLL_S = 0.2
CHECK_TIMEOUT_S = 30.0


@dataclass
class Outcome:
    ok: bool
    returncode: int | None
    seconds: float
    report: str = ""
    error: str = ""
    error_lines: list[str] = field(default_factory=list)
    result: dict | None = None
    timed_out: bool = False


def error_lines(report: str) -> list[str]:
    """The report's `ERROR nnn: … at line … of [SECTION]` lines (with their continuation)."""
    lines = report.splitlines()
    out = []
    for k, line in enumerate(lines):
        match = ERROR_LINE.match(line)
        if match:
            text = match.group(1).strip()
            follow = lines[k + 1].strip() if k + 1 < len(lines) else ""
            if follow and not follow.startswith(("ERROR", "WARNING", "*")) and \
                    "Analysis" not in follow:
                text += " " + follow
            out.append(text[:300])
    return out[:50]


def _die_with_parent():
    """In the child before exec: SIGKILL it if the worker that started it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_engine(inp_text: str, *, mode: str = "run", flow_units: str = "CMS",
               timeout_s: float = 600.0,
               on_start: Callable[[int], None] | None = None,
               on_poll: Callable[[float, subprocess.Popen], None] | None = None) -> Outcome:
    """Run (or, with mode="check", only open) the model in a child process."""
    workdir = Path(tempfile.mkdtemp(prefix="zhili-swmm-"))
    try:
        (workdir / "model.inp").write_text(inp_text)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(zhili.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "zhili.flood.runner", str(workdir), mode, flow_units],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=workdir,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        if on_start:
            on_start(proc.pid)
        timed_out = False
        while proc.poll() is None:
            if time.monotonic() - started > timeout_s:
                proc.kill()
                timed_out = True
                break
            if on_poll:
                on_poll(_progress(workdir), proc)
            time.sleep(POLL_S)
        proc.wait()
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        seconds = time.monotonic() - started
        rpt = workdir / "model.rpt"
        report = rpt.read_text(errors="replace") if rpt.exists() else ""
        lines = error_lines(report)
        code = proc.returncode
        if timed_out:
            return Outcome(False, code, seconds, report, f"timed out after {timeout_s:g} s",
                           lines, timed_out=True)
        if code != 0:
            if code < 0:
                error = f"the engine process was killed (signal {-code})"
            else:
                error = (lines[0] if lines else stderr.strip().splitlines()[-1:] or
                         [f"the engine exited with {code}"])
                error = error if isinstance(error, str) else error[0]
            return Outcome(False, code, seconds, report, error[:500], lines)
        result = None
        if mode == "run":
            result = json.loads((workdir / "result.json").read_text())
        return Outcome(True, code, seconds, report, "", lines, result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _progress(workdir: Path) -> float:
    try:
        return max(0.0, min(1.0, float((workdir / "progress").read_text())))
    except (OSError, ValueError):
        return 0.0
