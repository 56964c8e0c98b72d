"""The multi-region proof: every full multi-region scenario of one consistency mode over its seeds, and a table.

Each run (scenario, seed) goes to a worker process; its outcome is appended as one JSON line to the results file as
soon as it ends, so an interrupted proof resumes where it stopped (runs already in the file are skipped). The table
counts, per scenario, the seeds that passed, and sums what a multi-region proof must show: transactions lost (accepted
and never terminal), stranded, settled in both regions or settled in one and refused in the other, split-brain and
last-writer-wins conflicts, take-overs (re-driven, cancelled, adopted), fencing, detection time against its bound, and
the clients that gave up. A run fails on any invariant it does not accept (eventual mode accepts its trade-offs).

    .venv/bin/python -m sim.proof --consistency strong [--seeds 20] [--first-seed 1] [--jobs 2] [--results FILE] [--markdown]
    .venv/bin/python -m sim.proof --consistency strong --table-only --markdown

``make proof`` runs both modes (about an hour each on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios" / "multiregion"
ORDER = ("outage_1min", "outage_3min", "outage_10min", "partition_full", "flapping_full", "lag_spike_full",
         "outage_burst_full", "outage_duplicates_full", "outage_slow_process")


def scenario_files(consistency: str) -> list[Path]:
    return [SCENARIOS / f"mr_{name}_{consistency}.toml" for name in ORDER]


def one_run(path: str, seed: int) -> dict:
    import sim

    started = time.perf_counter()
    result = sim.run(Path(path), seed=seed)
    m = result.metrics
    failover = result.report["metrics"]["multi_region"]
    failed = {v.name: v.line()[:400] for v in result.invariants if not v.ok}
    settled_in = [{region for region, status in writes if status == "ACSC"} for writes in result.world.terminal_writes.values()]
    refused_in = [{region for region, status in writes if status != "ACSC"} for writes in result.world.terminal_writes.values()]
    unmet = [v.line()[:200] for v in result.expectations if not v.ok]
    return {
        "scenario": Path(path).stem, "seed": seed, "ok": result.ok, "wall_s": round(time.perf_counter() - started, 1),
        "failed_invariants": failed, "unmet_expectations": unmet,
        "transactions": m["transactions"], "settled": m["settled"], "rejected": m["rejected"],
        "lost": m["not_terminal"],
        "settled_in_both": sum(1 for regions in settled_in if len(regions) > 1),
        "settled_and_refused": sum(1 for settled, refused in zip(settled_in, refused_in) if settled and refused - settled),
        "split_brain": m["split_brain_transactions"], "lww_conflicts": m["lww_conflicts"],
        "lww_disagreements": m["lww_disagreements"], "stranded": m["stranded_transactions"],
        "redriven": m["redriven"], "cancelled": m["cancelled_by_takeover"], "adopted": m["adopted"],
        "fenced": m["fenced"], "in_flight_at_failure": m["in_flight_at_failure"],
        "redrives_lost": failover["redrives_lost"], "declared_down": m["declared_down"],
        "detection_time_s": m["detection_time_s"], "detection_bound_s": failover["detection_bound_s"],
        "client_give_ups": m["client_give_ups"], "p99_time_to_terminal_s": m["p99_time_to_terminal_s"],
    }


def done_runs(results: Path) -> dict[tuple[str, int], dict]:
    if not results.exists():
        return {}
    rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(row["scenario"], row["seed"]): row for row in rows}


def table(rows: list[dict], consistency: str, markdown: bool) -> str:
    by_scenario: dict[str, list[dict]] = {}
    for row in rows:
        by_scenario.setdefault(row["scenario"], []).append(row)
    head = ["scenario", "seeds passed", "transactions", "lost", "stranded", "settled in both regions",
            "settled in one, refused in the other", "split-brain tx", "LWW conflicts",
            "decided differently", "in flight at failure", "re-driven", "cancelled", "adopted", "fenced",
            "max detection s (bound)", "clients gave up"]
    lines = []
    for path in scenario_files(consistency):
        runs = by_scenario.get(path.stem)
        if not runs:
            continue
        total = lambda key: sum(run[key] for run in runs)  # noqa: E731
        for run in runs:  # rows written before the split-brain breakdown was recorded: none had split-brain
            if "settled_in_both" not in run:
                assert run["split_brain"] == 0, run
                run.update(settled_in_both=0, settled_and_refused=0)
        seeds_split = sum(1 for run in runs if run["split_brain"])
        lines.append([
            path.stem, f"{sum(run['ok'] for run in runs)}/{len(runs)}", f"{total('transactions'):,}", str(total("lost")),
            str(total("stranded")), str(total("settled_in_both")),
            str(total("settled_and_refused")), f"{total('split_brain')} ({seeds_split} seeds)",
            str(total("lww_conflicts")), str(total("lww_disagreements")), str(total("in_flight_at_failure")),
            str(total("redriven")), str(total("cancelled")), str(total("adopted")), str(total("fenced")),
            f"{max(run['detection_time_s'] for run in runs):g} ({runs[0]['detection_bound_s']:g})",
            f"{total('client_give_ups'):,}",
        ])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
    else:
        widths = [max(len(head[i]), *(len(line[i]) for line in lines)) if lines else len(head[i]) for i in range(len(head))]
        out = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(head))]
        out += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in lines]
    failures = [run for run in rows if not run["ok"]]
    out.append("")
    out.append(f"{len(rows)} run(s), {len(failures)} failed" + (":" if failures else ""))
    for run in sorted(failures, key=lambda r: (r["scenario"], r["seed"])):
        reasons = list(run["failed_invariants"].values()) + run["unmet_expectations"]
        out.append(f"  {run['scenario']} seed {run['seed']}: " + " | ".join(reason[:240] for reason in reasons))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consistency", choices=("strong", "eventual"), required=True)
    parser.add_argument("--seeds", type=int, default=20, help="seeds 1..N of each scenario (default 20)")
    parser.add_argument("--first-seed", type=int, default=1, help="start at this seed (another machine or process can take the others)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--results", type=Path, help="JSON lines file (default out/multiregion-<mode>.jsonl)")
    parser.add_argument("--only", help="run only the scenarios whose name contains this")
    parser.add_argument("--table-only", action="store_true", help="print the table of the runs already in the file")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    results = args.results or ROOT / "out" / f"multiregion-{args.consistency}.jsonl"
    results.parent.mkdir(parents=True, exist_ok=True)
    done = done_runs(results)
    todo = [(str(path), seed) for seed in range(args.first_seed, args.seeds + 1) for path in scenario_files(args.consistency)
            if (path.stem, seed) not in done and (args.only is None or args.only in path.stem)]
    if not args.table_only and todo:
        print(f"{len(todo)} run(s) to do, {len(done)} already in {results}", file=sys.stderr, flush=True)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool, results.open("a", encoding="utf-8") as sink:
            futures = {pool.submit(one_run, path, seed): (path, seed) for path, seed in todo}
            for n, future in enumerate(as_completed(futures), 1):
                row = future.result()
                sink.write(json.dumps(row, sort_keys=True) + "\n")
                sink.flush()
                done[(row["scenario"], row["seed"])] = row
                verdict = "PASS" if row["ok"] else "FAIL " + ", ".join(row["failed_invariants"]) + " ".join(row["unmet_expectations"])
                print(f"[{n}/{len(todo)}] {row['scenario']} seed {row['seed']}: {verdict} ({row['transactions']} tx, "
                      f"{row['wall_s']:g} s)", file=sys.stderr, flush=True)
    rows = [row for (name, seed), row in done.items() if seed <= args.seeds and (args.only is None or args.only in name)]
    print(table(rows, args.consistency, args.markdown))


if __name__ == "__main__":
    main()
