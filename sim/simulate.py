"""``run(scenario, seed=..., backend=...)``: one deterministic run, its tables, report and verdicts."""

from __future__ import annotations

import gc
import hashlib
import json
import platform
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from sim import invariants, metrics
from sim import report as reporting
from sim.backends import make_backend
from sim.invariants import Verdict
from sim.scenario import Scenario, load_scenario
from sim.world import World

FLOAT_FORMAT = "%.6f"
TABLES = ("transactions", "messages", "timeline", "faults", "fault_touches", "requests", "functions", "job_runs", "dead_letters")


@dataclass
class Result:
    scenario: Scenario
    seed: int
    backend: str
    end_s: float
    drained: bool
    transactions: pd.DataFrame
    messages: pd.DataFrame
    timeline: pd.DataFrame
    faults: pd.DataFrame
    fault_touches: pd.DataFrame
    requests: pd.DataFrame
    functions: pd.DataFrame
    job_runs: pd.DataFrame
    dead_letters: pd.DataFrame
    invariants: list[Verdict]
    expectations: list[Verdict]
    metrics: dict[str, Any]
    report: dict[str, Any]
    report_text: str
    world: Any  # the World after the run: regions, queues, faults' bookkeeping, clients
    snapshot: Any  # the backend's final state (metrics.Snapshot)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.invariants) and all(v.ok for v in self.expectations)

    @property
    def failures(self) -> list[Verdict]:
        return [v for v in self.invariants + self.expectations if not v.ok]

    def csv(self, table: str) -> bytes:
        frame: pd.DataFrame = getattr(self, table)
        return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n").encode("utf-8")

    def manifest(self, digests: dict[str, str] | None = None) -> dict[str, Any]:
        """``digests``: SHA-256 of each table's CSV, when the caller has them already."""
        if digests is None:
            digests = {table: hashlib.sha256(self.csv(table)).hexdigest() for table in TABLES}
        return {
            "scenario": self.scenario.as_dict(),
            "scenario_file": self.scenario.source,
            "seed": self.seed,
            "backend": self.backend,
            "versions": versions(self.backend),
            "files": {f"{table}.csv": digests[table] for table in TABLES},
        }

    def write(self, out: str | Path, *, plot: bool = True) -> Path:
        """CSV tables, manifest.json, report.txt, report.json and (plot=True) status_counts.png."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        digests = {}
        for table in TABLES:
            path = folder / f"{table}.csv"
            getattr(self, table).to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n", encoding="utf-8")
            digests[table] = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest = self.manifest(digests)
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (folder / "report.json").write_text(json.dumps(self.report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (folder / "report.txt").write_text(self.report_text, encoding="utf-8")
        if plot:
            from sim.plot import status_counts

            status_counts(self, folder / "status_counts.png")
        return folder


def versions(backend: str) -> dict[str, str]:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    found = {"rp2": version("rp2"), "python": platform.python_version(), "simpy": version("simpy"), "pandas": version("pandas"),
             "numpy": version("numpy"), "lxml": version("lxml")}
    if backend == "moto":
        found.update({"moto": version("moto"), "boto3": version("boto3"), "botocore": version("botocore")})
    return found


@contextmanager
def _rare_collections():
    """A run keeps hundreds of thousands of long-lived objects (ledger, archive, per-transaction records);
    the cyclic collector would rescan them all, over and over, for the few cycles the run creates. It runs
    a hundred times less often during the run, and as set before it afterwards."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(before[0] * 100, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def run(scenario: Scenario | str | Path, *, seed: int | None = None, backend: str = "memory",
        progress: Callable[[float, float], None] | None = None, keep_state: bool = False) -> Result:
    """Run a scenario (a parsed Scenario or a path to a .toml) once; ``seed`` defaults to its first seed.

    ``keep_state``: keep the backend's final state (ledger, archive) reachable from ``result.world`` (regions'
    ``inner`` and ``ports``); by default it is released once read, before the tables are built."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    seed = scenario.seeds[0] if seed is None else seed
    with make_backend(backend) as state, _rare_collections():
        world = World(scenario, seed, state, progress=progress)
        outcome = world.run()
        snap = metrics.snapshot(world)
        if not keep_state:
            for region in world.regions.values():
                region.inner = region.ports = None
    transactions = metrics.transactions_frame(world, snap)
    result = Result(
        scenario=scenario, seed=seed, backend=backend, end_s=outcome.end_s, drained=outcome.drained,
        transactions=transactions,
        messages=metrics.messages_frame(world),
        timeline=metrics.timeline_frame(world, transactions, outcome.end_s),
        faults=metrics.faults_frame(world),
        fault_touches=metrics.fault_touches_frame(world),
        requests=metrics.requests_frame(world),
        functions=metrics.functions_frame(world),
        job_runs=metrics.job_runs_frame(world),
        dead_letters=metrics.dead_letters_frame(world),
        invariants=invariants.check_all(world, snap, outcome.drained, outcome.end_s),
        expectations=[], metrics={}, report={}, report_text="", world=world, snapshot=snap,
    )
    result.metrics = reporting.compute_metrics(result)
    result.expectations = reporting.expectation_verdicts(scenario, result.metrics)
    result.report = reporting.build(result)
    result.report_text = reporting.text(result.report, result.functions)
    return result
