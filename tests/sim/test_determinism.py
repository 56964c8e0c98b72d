"""The same scenario and seed give byte-identical files; a fault never changes the load's draws."""

from __future__ import annotations

import json

import sim
from tests.sim.scenarios_for_tests import faulted

FILES = ("transactions.csv", "messages.csv", "timeline.csv", "faults.csv", "fault_touches.csv", "requests.csv", "functions.csv",
         "job_runs.csv", "dead_letters.csv", "manifest.json", "report.json", "report.txt", "status_counts.png")


def test_same_scenario_and_seed_give_byte_identical_files(tmp_path):
    first = sim.run(faulted(), seed=3).write(tmp_path / "first")
    second = sim.run(faulted(), seed=3).write(tmp_path / "second")
    for name in FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert set(manifest["versions"]) == {"rp2", "python", "simpy", "pandas", "numpy", "lxml"}
    text = (first / "manifest.json").read_text()
    for wall_clock_or_host in ("hostname", "node", "created", "wall"):
        assert wall_clock_or_host not in text


def test_another_seed_gives_another_run():
    a, b = sim.run(faulted(), seed=3), sim.run(faulted(), seed=4)
    assert a.csv("transactions") != b.csv("transactions")
    assert list(a.transactions["transaction_id"]) != list(b.transactions["transaction_id"])


def test_a_fault_does_not_change_the_arrivals_or_the_messages():
    quiet = sim.run(faulted(duration_s=15, with_faults=False))
    noisy = sim.run(faulted(duration_s=15))
    columns = ["message_index", "client", "arrived_s", "kind", "expected_reason", "payments"]
    assert quiet.messages[columns].equals(noisy.messages[columns])
    assert len(quiet.messages) == 168
    assert quiet.csv("transactions") != noisy.csv("transactions")
