"""``rp2 simulate`` and the pytest plugin that collects scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import metadata

from click.testing import CliRunner

from engine.cli import main

TINY = textwrap.dedent("""
    name = "tiny"
    duration_s = 5
    seeds = [4, 5]

    [load]
    rate_tps = 5

    [expect]
    max_rejection_rate = 0
    min_transactions = {min_transactions}
""")


def write(folder, min_transactions: int = 1, name: str = "tiny.toml"):
    path = folder / name
    path.write_text(TINY.format(min_transactions=min_transactions))
    return path


def test_simulate_writes_the_tables_report_manifest_and_plot(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["simulate", str(write(tmp_path)), "--seed", "5", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("rp2 simulate: tiny (seed 5, backend memory)\n")
    assert result.output.endswith(f"verdict: PASS\noutput: {out}\n")
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "dead_letters.csv", "fault_touches.csv", "faults.csv", "functions.csv", "job_runs.csv", "manifest.json", "messages.csv",
        "report.json", "report.txt", "requests.csv", "status_counts.png", "timeline.csv", "transactions.csv",
    ])
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["seed"], manifest["backend"], manifest["scenario"]["name"]) == (5, "memory", "tiny")
    assert (out / "status_counts.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_exits_1_when_an_expectation_fails(tmp_path):
    result = CliRunner().invoke(main, ["simulate", str(write(tmp_path, 10_000)), "--out", str(tmp_path / "o"), "--no-progress"])
    assert result.exit_code == 1
    assert "  FAIL transactions >= 10000 (observed " in result.output
    assert "verdict: FAIL" in result.output


def test_simulate_answers_a_typo_with_the_file_and_the_key(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text("duration_s = 5\n[load]\nrate_tsp = 5\n")
    result = CliRunner().invoke(main, ["simulate", str(path)])
    assert result.exit_code == 2
    assert f"Error: {path}: load.rate_tsp: unknown key; expected one of: bah_share, bursts, clients, " in result.output


def test_the_plugin_is_registered_for_pytest():
    plugins = {entry.name: entry.value for entry in metadata.entry_points(group="pytest11")}
    assert plugins.get("rp2_scenarios") == "sim.pytest_plugin"


def pytest_in(folder, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, str(folder)],
                          capture_output=True, text=True, cwd=folder.parent)


def test_pytest_collects_one_item_per_seed_and_prints_the_report_on_failure(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    write(scenarios, 1, "passing.toml")
    write(scenarios, 10_000, "failing.toml")
    run = pytest_in(scenarios, "-v")
    output = run.stdout
    assert run.returncode == 1, output
    for item, outcome in (("failing.toml::seed=4", "FAILED"), ("failing.toml::seed=5", "FAILED"),
                          ("passing.toml::seed=4", "PASSED"), ("passing.toml::seed=5", "PASSED")):
        assert f"scenarios/{item} {outcome}" in output
    assert "scenario tiny (seed 4) failed:\n  FAIL min_transactions: transactions >= 10000 (observed " in output
    assert "rp2 simulate: tiny (seed 4, backend memory)" in output
    assert "2 failed, 2 passed" in output


def test_pytest_reports_an_invalid_scenario_file_by_key(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "broken.toml").write_text("duration_s = 5\nseeds = [1]\n[engine]\nbatch_size = 11\n")
    run = pytest_in(scenarios, "-q")
    assert run.returncode == 2
    assert f"invalid scenario file: {scenarios / 'broken.toml'}: engine.batch_size: expected an integer from 1 to 10, got 11" in run.stdout


def test_simulate_refuses_a_negative_seed_as_a_scenario_file_does(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["simulate", str(write(tmp_path)), "--seed", "-3", "--out", str(out), "--no-progress"])
    assert result.exit_code == 2
    assert result.output.endswith("Error: Invalid value for '--seed': -3 is not in the range x>=0.\n")
    assert not out.exists()
