"""sim/proof.py: the multi-region proof's table and its resumable results file (the runs themselves are the full
scenarios of `make test-all`; `make proof` runs them over 20 seeds)."""

from __future__ import annotations

import json

import pytest

from sim import proof as proof_module


@pytest.fixture
def proof():
    return proof_module


def run(scenario: str, seed: int, **changes) -> dict:
    row = {
        "scenario": scenario, "seed": seed, "ok": True, "wall_s": 1.0, "failed_invariants": {}, "unmet_expectations": [],
        "transactions": 1000, "settled": 990, "rejected": 10, "lost": 0, "settled_in_both": 0,
        "settled_and_refused": 0, "split_brain": 0, "lww_conflicts": 0, "lww_disagreements": 0, "stranded": 0,
        "redriven": 1, "cancelled": 2, "adopted": 3, "fenced": 4, "in_flight_at_failure": 6, "redrives_lost": 0,
        "declared_down": 1, "detection_time_s": 120.0, "detection_bound_s": 182.0, "client_give_ups": 50,
        "p99_time_to_terminal_s": 1.0,
    }
    row.update(changes)
    return row


def test_the_table_sums_each_scenario_over_its_seeds_and_lists_the_failed_runs(proof):
    rows = [
        run("mr_outage_3min_eventual", 1, split_brain=3, settled_and_refused=2, lww_conflicts=5, stranded=1),
        run("mr_outage_3min_eventual", 2, ok=False, detection_time_s=180.0,
            failed_invariants={"no_overdue_in_flight": "FAIL no_overdue_in_flight: 1 transaction left"}),
        run("mr_partition_full_eventual", 1),
    ]
    lines = proof.table(rows, "eventual", markdown=True).splitlines()
    assert lines[2] == ("| mr_outage_3min_eventual | 1/2 | 2,000 | 0 | 1 | 0 | 2 | 3 (1 seeds) | 5 | 0 | 12 | 2 | 4 | 6 | 8 "
                        "| 180 (182) | 100 |")
    assert lines[3].startswith("| mr_partition_full_eventual | 1/1 | 1,000 |")
    assert lines[-2:] == ["3 run(s), 1 failed:",
                          "  mr_outage_3min_eventual seed 2: FAIL no_overdue_in_flight: 1 transaction left"]


def test_runs_already_in_the_results_file_are_not_run_again(proof, tmp_path):
    results = tmp_path / "proof.jsonl"
    results.write_text("".join(json.dumps(run(name, seed)) + "\n" for name, seed in (("mr_outage_1min_strong", 1), ("mr_outage_1min_strong", 2))))
    assert sorted(proof.done_runs(results)) == [("mr_outage_1min_strong", 1), ("mr_outage_1min_strong", 2)]
    assert proof.done_runs(tmp_path / "missing.jsonl") == {}


def test_every_scenario_of_the_proof_exists_in_both_modes(proof):
    for mode in ("strong", "eventual"):
        files = proof.scenario_files(mode)
        assert len(files) == 9 and all(path.exists() for path in files), [p for p in files if not p.exists()]
