"""Simulated transactions per wall-clock second, and peak memory, of the simulator.

One simulated hour at 100 TPS in one region on the memory backend (about 360,000 transactions), and a shorter run
on the moto backend. Each run is a fresh process, so its peak resident memory (getrusage ru_maxrss) is its own;
the time covers the whole of ``sim.run``: building the world, the simulation, and the tables, report and
invariant checks after it (not writing files). No faults: the engine's own work per payment is the baseline cost.

    .venv/bin/python bench/sim.py [--hours 1] [--tps 100] [--repeats 3] [--moto-seconds 60] [--moto-tps 5] [--moto-repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(backend: str, duration_s: float, tps: float) -> None:
    sys.path.insert(0, str(ROOT))
    import sim
    from sim.scenario import parse_scenario

    scenario = parse_scenario(
        {"name": "bench", "duration_s": duration_s, "load": {"rate_tps": tps, "clients": 200}, "metrics": {"bucket_s": 10}},
        source="bench/sim.py",
    )
    started = time.perf_counter()
    result = sim.run(scenario, seed=1, backend=backend)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"transactions": result.metrics["transactions"], "wall_s": wall, "peak_mb": peak_mb,
                      "ok": result.ok, "end_s": result.end_s}))


def measure(backend: str, duration_s: float, tps: float, repeats: int, *, text: bool) -> dict:
    runs = []
    for n in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--child", backend, str(duration_s), str(tps)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        if not run["ok"]:
            raise SystemExit(f"{backend} run {n + 1} failed its invariants; see `rp2 simulate`")
        runs.append(run)
        print(f"  run {n + 1}: {run['transactions']} tx in {run['wall_s']:.1f} s wall = "
              f"{run['transactions'] / run['wall_s']:.0f} tx/s, peak {run['peak_mb']:.0f} MB",
              file=sys.stdout if text else sys.stderr, flush=True)
    rates = [r["transactions"] / r["wall_s"] for r in runs]
    peaks = [r["peak_mb"] for r in runs]
    speed = [r["end_s"] / r["wall_s"] for r in runs]
    if text:
        print(f"{backend}: {duration_s:g} simulated s at {tps:g} TPS, {runs[0]['transactions']} transactions; median (min-max) of {repeats}")
        print(f"  simulated transactions per wall-clock second: {statistics.median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f})")
        print(f"  simulated seconds per wall-clock second:      {statistics.median(speed):.2f} ({min(speed):.2f}-{max(speed):.2f})")
        print(f"  peak resident memory: {statistics.median(peaks):.0f} MB ({min(peaks):.0f}-{max(peaks):.0f})", flush=True)
    return {"simulated_s": duration_s, "tps": tps, "runs": runs, "tx_per_wall_s": rates,
            "simulated_s_per_wall_s": speed, "peak_mb": peaks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="simulated hours on the memory backend (default 1)")
    parser.add_argument("--tps", type=float, default=100.0, help="arrival rate on the memory backend (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="memory runs, each in a fresh process (default 3)")
    parser.add_argument("--moto-seconds", type=float, default=60.0, help="simulated seconds on moto (default 60)")
    parser.add_argument("--moto-tps", type=float, default=5.0, help="arrival rate on moto (default 5)")
    parser.add_argument("--moto-repeats", type=int, default=3, help="moto runs (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the machine and every run) instead of the text")
    parser.add_argument("--child", nargs=3, metavar=("BACKEND", "DURATION_S", "TPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], float(args.child[1]), float(args.child[2]))
        return
    load = os.getloadavg()
    reference_ms = min(timeit.repeat("sum(range(100_000))", number=20, repeat=5)) / 20 * 1000
    machine = {"machine": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
               "system": f"{platform.system()} {platform.release()}", "load_average": load[0], "cpu_reference_ms": reference_ms}
    if not args.json:
        print(f"machine: {machine['machine']}, {machine['cores']} cores, Python {machine['python']}, "
              f"{machine['system']}; load average at start {machine['load_average']:.2f}; "
              f"CPU reference sum(range(100_000)): {reference_ms:.2f} ms (to compare machines: the figures scale with it)")
    memory = measure("memory", args.hours * 3600.0, args.tps, args.repeats, text=not args.json)
    moto = measure("moto", args.moto_seconds, args.moto_tps, args.moto_repeats, text=not args.json)
    if args.json:
        print(json.dumps({**machine, "memory": memory, "moto": moto}))


if __name__ == "__main__":
    main()
