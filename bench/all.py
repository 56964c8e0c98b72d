"""Every benchmark of rp2 in one table: each figure's median and min-max over several runs, the machine it ran
on and the date. What `make bench` runs; about 4 minutes on a 2-core machine (the bound is 10).

    .venv/bin/python bench/all.py [--markdown] [--quick]

Each benchmark runs in its own process, one after the other (never two at once: they would slow each other
down), through its machine-readable output: bench/workflow.py, bench/iso.py and bench/coldstart.py with --json,
bench/sim.py through its per-run child mode, which prints one JSON line per run. Progress goes to stderr, the
table to stdout; --markdown prints it as a Markdown table for the README. --quick runs tiny sizes (a smoke test
of the wiring, not figures to quote).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


@dataclass(frozen=True)
class Sizes:
    workflow_transactions: int = 100  # per run, on each backend (moto settles about 12 a second)
    workflow_repeats: int = 5
    iso_runs: int = 7
    iso_seconds: float = 0.5  # CPU seconds per run and path
    sim_memory_s: float = 120.0  # simulated seconds of load at sim_memory_tps
    sim_memory_tps: float = 100.0
    sim_moto_s: float = 20.0
    sim_moto_tps: float = 5.0
    sim_repeats: int = 3
    coldstart_runs: int = 7


FULL = Sizes()
QUICK = Sizes(workflow_transactions=10, workflow_repeats=2, iso_runs=2, iso_seconds=0.05, sim_memory_s=10.0, sim_memory_tps=10.0,
              sim_moto_s=4.0, sim_moto_tps=2.0, sim_repeats=2, coldstart_runs=2)


@dataclass
class Row:
    figure: str
    unit: str
    values: list[float] = field(default_factory=list)
    note: str = ""
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def cells(self) -> list[str]:
        if self.error is not None or not self.values:
            return [self.figure, "failed", "", "", self.unit, self.error or "no value"]
        spread = f"{number(min(self.values))}–{number(max(self.values))}"
        return [self.figure, number(self.median), spread, str(len(self.values)), self.unit, self.note]


HEADER = ["figure", "median", "min–max", "runs", "unit", "notes"]


def number(value: float) -> str:
    """Three significant figures or so: 12,345 / 123 / 12.3 / 1.23 / 0.123."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


# -- the machine ---------------------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> dict[str, str]:
    try:
        load = f"{os.getloadavg()[0]:.2f}"
    except OSError:
        load = "n/a"
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load": load,
    }


# -- running the benchmarks -------------------------------------------------------------------------------------------
class BenchError(RuntimeError):
    pass


def run_json(arguments: list[str], timeout_s: float = 600.0) -> list[dict]:
    """Run a bench script (``arguments`` after the interpreter) and return the JSON objects it printed, one a line."""
    env = {**os.environ, "RP2_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run([sys.executable, *arguments], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(arguments)}: no answer within {timeout_s:.0f} s") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise BenchError(f"{' '.join(arguments)} exited {done.returncode}: {tail}")
    objects = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not objects:
        raise BenchError(f"{' '.join(arguments)} printed no JSON")
    return objects


def workflow(sizes: Sizes) -> list[Row]:
    out = run_json(["bench/workflow.py", "--transactions", str(sizes.workflow_transactions), "--repeats", str(sizes.workflow_repeats), "--json"])[-1]
    per_run = f"{out['transactions']} transactions of the upstream sample per run, replies read"
    rows = [Row(f"workflow settled tx/s, {backend} backend", "tx/s", out["settled_tx_per_s"][backend], per_run)
            for backend in ("memory", "moto")]
    top = sorted(out["aws_requests_per_settled_tx_by_operation"].items(), key=lambda item: (-item[1], item[0]))
    rows.append(Row("AWS requests per settled transaction (moto, engine code, GET /uuid to ACSC)", "requests",
                    [out["aws_requests_per_settled_tx"]], "counted, the same every run: " + ", ".join(f"{op} {n:g}" for op, n in top)))
    rows.append(Row("AWS requests per POST /outbox read (moto)", "requests", [out["aws_requests_per_outbox_read"]],
                    "counted: " + ", ".join(f"{op} {n:g}" for op, n in sorted(out["aws_requests_per_outbox_read_by_operation"].items()))))
    return rows


def iso(sizes: Sizes) -> list[Row]:
    out = run_json(["bench/iso.py", "--runs", str(sizes.iso_runs), "--seconds", str(sizes.iso_seconds), "--json"])[-1]
    rows = []
    for name, message in out["messages"].items():
        label = f"pacs.008, {name} ({message['bytes']:,} bytes)"
        full, floor = message["full_us"], message["floor_us"]
        rows.append(Row(f"ISO path µs, {label}: read + rules + reply", "CPU µs/msg", full, f"profile {out['profile']}"))
        rows.append(Row(f"ISO floor µs, {label}: lxml parse + XSD only", "CPU µs/msg", floor, f"lxml {out['lxml']}, libxml2 {out['libxml2']}"))
        rows.append(Row(f"ISO path / floor, {label}", "×", [a / b for a, b in zip(full, floor)], "per run pair"))
    return rows


def simulation(sizes: Sizes) -> list[Row]:
    rows = []
    for backend, duration, tps in (("memory", sizes.sim_memory_s, sizes.sim_memory_tps), ("moto", sizes.sim_moto_s, sizes.sim_moto_tps)):
        runs = []
        for _ in range(sizes.sim_repeats):
            run = run_json(["bench/sim.py", "--child", backend, str(duration), str(tps)])[-1]
            if not run["ok"]:
                raise BenchError(f"the {backend} simulation broke its invariants or expectations; run `rp2 simulate` to see why")
            runs.append(run)
        what = f"{duration:g} simulated s at {tps:g} TPS, {runs[0]['transactions']:,} transactions, whole sim.run"
        rows.append(Row(f"simulated tx per wall second, {backend} backend", "tx/s", [r["transactions"] / r["wall_s"] for r in runs], what))
        rows.append(Row(f"simulator peak memory, {backend} backend", "MB", [r["peak_mb"] for r in runs], "peak RSS of the run's process"))
    return rows


def coldstart(sizes: Sizes) -> list[Row]:
    out = run_json(["bench/coldstart.py", "--runs", str(sizes.coldstart_runs), "--json"], timeout_s=900)[-1]
    rows = []
    for case, key, note in (("as shipped", "as_shipped_ms", "precompiled bytecode"), ("source only", "source_only_ms", "no bytecode")):
        for module, runs in out["handlers"].items():
            rows.append(Row(f"handler cold-start import, {module} ({case})", "ms", runs[key],
                            f"Python {out['python']}, -I -S -B, {note}; aim < {out['aim_ms']} ms"))
    rows.append(Row("handler artifact size, zipped", "MB", [out["zipped_bytes"] / 1e6], out["artifact"]))
    rows.append(Row("handler artifact size, unpacked", "MB", [out["unpacked_bytes"] / 1e6], out["artifact"]))
    return rows


SECTIONS: list[tuple[str, Callable[[Sizes], list[Row]]]] = [
    ("workflow (bench/workflow.py)", workflow),
    ("ISO 20022 path (bench/iso.py)", iso),
    ("simulator (bench/sim.py)", simulation),
    ("handler cold start (bench/coldstart.py)", coldstart),
]


def collect(sizes: Sizes, log: Callable[[str], None]) -> tuple[list[Row], dict[str, float]]:
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    for title, section in SECTIONS:
        log(f"running {title} ...")
        started = time.perf_counter()
        try:
            rows += section(sizes)
        except BenchError as error:
            rows.append(Row(title, "", error=str(error)))
        seconds[title] = time.perf_counter() - started
        log(f"  {title}: {seconds[title]:.0f} s")
    return rows, seconds


# -- the table --------------------------------------------------------------------------------------------------------
def render_text(rows: list[Row], host: dict[str, str], total_s: float) -> str:
    table = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[n]) for line in table) for n in range(len(HEADER) - 1)]
    lines = [f"rp2 benchmarks, {host['date']}",
             f"machine: {host['cpu']}, {host['cores']} cores ({host['arch']}), Python {host['python']}, {host['os']}; "
             f"load average at start {host['load']}", ""]
    for line in table:
        aligned = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:4], widths[1:4])] + [line[4].ljust(widths[4])]
        lines.append("  ".join(aligned) + ("  " + line[5] if line[5] else ""))
    lines += ["", f"whole run: {total_s / 60:.1f} min"]
    return "\n".join(lines) + "\n"


def render_markdown(rows: list[Row], host: dict[str, str], total_s: float) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"Measured {host['date']} on {host['cpu']}, {host['cores']} cores ({host['arch']}), Python {host['python']}, {host['os']} "
             f"(load average at start {host['load']}); `make bench` took {total_s / 60:.1f} min.", "",
             "| " + " | ".join(HEADER) + " |", "|" + "|".join(["---", "---:", "---:", "---:", "---", "---"]) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row.cells()) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the wiring in about a minute; not figures to quote")
    args = parser.parse_args()
    host = machine()
    started = time.perf_counter()
    rows, _ = collect(QUICK if args.quick else FULL, lambda text: print(text, file=sys.stderr, flush=True))
    total = time.perf_counter() - started
    print((render_markdown if args.markdown else render_text)(rows, host, total), end="")
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
