"""sim/analysis.py: scenario variants, sweeps, summaries, CDFs, marks and the written conclusion."""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import sim  # noqa: E402
from sim import analysis  # noqa: E402
from sim.schema import Field, ScenarioError  # noqa: E402

SMALL = {"name": "small", "duration_s": 30, "seeds": [1], "load": {"rate_tps": 5, "invalid_share": 0.1}}
OUTAGE = {"action": "rp2:region-outage"}


@pytest.fixture(scope="module")
def outage_run():
    return sim.run(analysis.scenario(SMALL, analysis.fault_changes(OUTAGE, 5, 20)), seed=1)


@pytest.fixture(scope="module")
def calm_run():
    return sim.run(analysis.scenario(SMALL), seed=1)


@pytest.fixture(scope="module")
def small_sweep():
    axes = [analysis.outage_axis([0, 20], start_s=5), analysis.cadence_axis([10, 60])]
    return analysis.sweep(SMALL, axes, seeds=[1])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# -- scenarios as data -------------------------------------------------------------------------------------------
def test_with_settings_reaches_into_sub_tables_and_leaves_the_original_alone() -> None:
    raw = {"duration_s": 10, "engine": {"sla_seconds": 30}, "load": {"rate_tps": 5}}
    changed = analysis.with_settings(raw, {"engine.visibility_timeout_s": 10, "client.give_up_s": 60, "load.rate_tps": analysis.DELETE,
                                           "duration_s": 20})
    assert changed == {"duration_s": 20, "engine": {"sla_seconds": 30, "visibility_timeout_s": 10}, "load": {}, "client": {"give_up_s": 60}}
    assert raw == {"duration_s": 10, "engine": {"sla_seconds": 30}, "load": {"rate_tps": 5}}


def test_load_raw_finds_a_scenario_file_and_remembers_it(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # not under the project: found from the project's root
    raw = analysis.load_raw("scenarios/baseline.toml")
    assert raw["name"] == "baseline" and raw.source.endswith("scenarios/baseline.toml")
    changed = analysis.with_settings(raw, {"duration_s": 5})
    assert changed.source == raw.source and raw["duration_s"] == 75
    scenario = analysis.scenario(raw, {"duration_s": 5})
    assert scenario.duration_s == 5 and scenario.name == "baseline" and scenario.source == f"{raw.source} with duration_s=5"
    with pytest.raises(FileNotFoundError):
        analysis.load_raw("scenarios/no_such_scenario.toml")


def test_a_variant_is_validated_like_a_scenario_file() -> None:
    with pytest.raises(ScenarioError, match=r"engine\.visiblity_timeout_s: unknown key"):
        analysis.scenario(SMALL, {"engine.visiblity_timeout_s": 10})
    with pytest.raises(ScenarioError, match="timeout_cadence_s"):
        analysis.scenario(SMALL, {"engine.timeout_cadence_s": 90})  # EventBridge needs whole minutes


@pytest.mark.parametrize(("cadence", "schedule"), [(10, "loop"), (30, "loop"), (60, "eventbridge"), (90, "loop"), (120, "eventbridge")])
def test_cadence_picks_the_schedule_that_can_run_it(cadence: float, schedule: str) -> None:
    changes = analysis.cadence_changes(cadence)
    assert changes == {"engine.timeout_schedule": schedule, "engine.timeout_cadence_s": float(cadence)}
    engine = analysis.scenario(SMALL, changes).engine
    assert (engine.timeout_schedule, engine.timeout_cadence_s) == (schedule, cadence)


def test_fault_changes_replace_the_faults_and_zero_means_none() -> None:
    assert analysis.fault_changes(OUTAGE, 5, 0) == {"faults": []}
    brownout = {"action": "aws:fis:inject-api-unavailable-error", "service": "dynamodb", "percentage": 50}
    (fault,) = analysis.scenario(SMALL, analysis.fault_changes(brownout, 5, 8)).faults
    assert (fault.action, fault.start_s, fault.duration_s, fault.param("service"), fault.param("percentage")) == (brownout["action"], 5, 8, "dynamodb", 50)


def test_find_setting_and_setting_value_use_the_schema() -> None:
    path, field = analysis.find_setting("visibility_timeout_s")
    assert path == "engine.visibility_timeout_s" and field.default == 30.0
    assert analysis.find_setting("engine.concurrency.inbox")[0] == "engine.concurrency.inbox"
    assert analysis.find_setting("no_such_setting") is None
    assert analysis.setting_value(SMALL, "load.rate_tps") == 5
    assert analysis.setting_value(SMALL, "engine.visibility_timeout_s") == 30.0


def test_consistency_axis_follows_the_schema(monkeypatch) -> None:
    from sim.scenario import SPEC

    if analysis.find_setting("consistency") is None:
        assert analysis.consistency_axis() is None and analysis.consistency_axis([]) is None
        with pytest.raises(KeyError, match="no consistency setting"):
            analysis.consistency_axis(["strong"])
        monkeypatch.setitem(SPEC["engine"], "consistency", Field("str", default="eventual", choices=("eventual", "strong")))
    path, field = analysis.find_setting("consistency")
    axis = analysis.consistency_axis()
    assert axis.name == "consistency" and axis.values == tuple(field.choices)
    assert axis.changes("strong") == {path: "strong"}
    assert analysis.consistency_axis(["strong"]).values == ("strong",)


def test_grid_and_changes_for() -> None:
    axes = [analysis.outage_axis([0, 30], start_s=5), analysis.cadence_axis([10, 60])]
    assert analysis.grid(axes) == [{"outage_s": 0, "timeout_cadence_s": 10}, {"outage_s": 0, "timeout_cadence_s": 60},
                                   {"outage_s": 30, "timeout_cadence_s": 10}, {"outage_s": 30, "timeout_cadence_s": 60}]
    changes = analysis.changes_for(axes, {"outage_s": 30, "timeout_cadence_s": 60}, {"duration_s": 50})
    assert changes == {"expect": {}, "duration_s": 50, "faults": [{**OUTAGE, "start_s": 5.0, "duration_s": 30.0}],
                       "engine.timeout_schedule": "eventbridge", "engine.timeout_cadence_s": 60.0}
    assert analysis.setting_axis("visibility_timeout_s", [10]).changes(10) == {"engine.visibility_timeout_s": 10}
    with pytest.raises(KeyError):
        analysis.setting_axis("no_such_setting", [1])


# -- one run ------------------------------------------------------------------------------------------------------
def test_message_outcomes_account_for_every_arrival(outage_run) -> None:
    outcomes = analysis.message_outcomes(outage_run)
    assert len(outcomes) == len(outage_run.messages)
    never = outcomes["outcome"] == "no transaction"
    assert never.sum() == outage_run.messages["transaction_id"].isna().sum() > 0  # the outage kept clients out
    settled = outcomes["outcome"] == "ACSC"
    assert settled.sum() == outage_run.metrics["settled"]


def test_summarize_adds_up(outage_run) -> None:
    row = analysis.summarize(outage_run)
    parts = ("settled", "rejected", "cancelled", "failed", "not_terminal", "unserved")
    assert sum(row[p] for p in parts) == row["valid_messages"]
    assert math.isclose(sum(row[f"{p}_rate"] for p in parts), 1.0)
    assert row["unserved"] > 0 and row["faults_fired"] == 1
    assert row["aws_requests"] == sum(outage_run.metrics["aws_requests"].values())
    assert math.isclose(sum(v for k, v in row.items() if k.startswith("requests_per_tx_")), row["aws_requests_per_tx"])
    assert math.isclose(sum(v for k, v in row.items() if k.startswith("cost_per_million_") and k != "cost_per_million_usd"),
                        row["cost_per_million_usd"], abs_tol=0.01)
    times = outage_run.transactions["time_to_terminal_s"].dropna()
    assert row["p99_s"] == pytest.approx(np.percentile(times, 99)) and row["max_s"] == times.max()
    assert row["ok"] is outage_run.ok


def test_ecdf() -> None:
    x, y = analysis.ecdf([3.0, 1.0, float("nan"), 2.0])
    assert x.tolist() == [1.0, 2.0, 3.0] and y.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    x, y = analysis.ecdf([])
    assert len(x) == len(y) == 0


def test_failover_marks_come_from_the_tables_that_carry_them(outage_run) -> None:
    assert analysis.failover_marks(outage_run).empty  # one region: nothing to detect
    fake = SimpleNamespace(
        failovers=pd.DataFrame({"region": ["us-east-1"], "detected_s": [42.0], "took_over_s": [44.5]}),
        job_runs=pd.DataFrame({"region": ["us-west-2", "us-west-2"], "started_s": [40.0, 50.0], "outcome": ["ok", "declared-peer-down"]}),
        transactions=pd.DataFrame({"detected_s": [1.0]}),  # per-transaction tables are not marks
    )
    marks = analysis.failover_marks(fake)
    assert marks.to_dict("records") == [
        {"t_s": 42.0, "region": "us-east-1", "label": "detected"},
        {"t_s": 44.5, "region": "us-east-1", "label": "took over"},
        {"t_s": 50.0, "region": "us-west-2", "label": "declared-peer-down"},
    ]


def test_pick_transactions_and_status_segments(outage_run) -> None:
    ids = analysis.pick_transactions(outage_run, 6)
    assert len(ids) == len(set(ids)) == 6
    tx = outage_run.transactions.set_index("transaction_id")
    assert set(tx.loc[ids, "final_status"]) == set(outage_run.transactions["final_status"])  # one of each first
    segments = analysis.status_segments(outage_run, ids)
    for transaction_id, group in segments.groupby("transaction_id"):
        assert group["from_s"].is_monotonic_increasing
        assert (group["to_s"].iloc[:-1].to_numpy() == group["from_s"].iloc[1:].to_numpy()).all()
        if tx.loc[transaction_id, "final_status"] == "ACSC":
            assert group["status"].tolist() == ["ACCP", "ACTC", "ACSP", "ACSC"]


def test_compare_status_counts_and_change_summary(outage_run, calm_run) -> None:
    table = analysis.compare({"calm": calm_run, "outage": outage_run})
    assert table.loc["unserved_rate", "calm"] == 0 and table.loc["unserved_rate", "change (outage)"] > 0
    counts = analysis.status_counts({"calm": calm_run, "outage": outage_run})
    assert counts["calm"].sum() == len(calm_run.transactions) and counts["outage"].sum() == len(outage_run.transactions)
    text = analysis.change_summary(SMALL, {"faults": "an outage"}, calm_run, outage_run)
    assert text.startswith("Changing `faults` from None to 'an outage'")
    calm, hit = analysis.summarize(calm_run), analysis.summarize(outage_run)
    assert f"never opened {calm['unserved_rate'] * 100:.2f}% → {hit['unserved_rate'] * 100:.2f}%" in text


def test_plots_draw(outage_run, small_sweep) -> None:
    assert len(analysis.plot_timeline(outage_run).axes) == 2
    assert len(analysis.plot_status_timeline(outage_run, analysis.pick_transactions(outage_run, 4)).axes) == 1
    assert len(analysis.plot_cdfs(small_sweep.transactions, hue="outage_s", facet="timeout_cadence_s", sla_s=30).axes) == 2
    assert len(analysis.plot_rates(small_sweep.runs, hue="timeout_cadence_s").axes) == len(analysis.RATES)
    assert len(analysis.plot_cost(small_sweep.runs, small_sweep.axes).axes) == 2


# -- sweeps ---------------------------------------------------------------------------------------------------------
def test_sweep_runs_every_setting_and_seed(small_sweep) -> None:
    runs = small_sweep.runs
    assert small_sweep.axes == ["outage_s", "timeout_cadence_s"]
    assert runs[["outage_s", "timeout_cadence_s", "seed"]].values.tolist() == [[0, 10, 1], [0, 60, 1], [20, 10, 1], [20, 60, 1]]
    assert (runs.loc[runs["outage_s"] == 0, "faults_fired"] == 0).all() and (runs.loc[runs["outage_s"] == 20, "faults_fired"] == 1).all()
    assert (runs.loc[runs["outage_s"] == 20, "unserved"] > 0).all()
    per_run = small_sweep.transactions.groupby(["outage_s", "timeout_cadence_s"]).size()
    assert per_run.tolist() == runs["transactions"].tolist()
    assert set(small_sweep.messages["outcome"].astype(str)) <= set(analysis.OUTCOMES)
    by = small_sweep.by_setting(["p99_s"])
    assert list(by.columns) == ["outage_s", "timeout_cadence_s", "p99_s"] and len(by) == 4


def test_sweep_is_deterministic(small_sweep) -> None:
    axes = [analysis.outage_axis([20], start_s=5), analysis.cadence_axis([60])]
    again = analysis.sweep(SMALL, axes, seeds=[1])
    columns = ["transactions", "settled", "unserved", "p99_s", "aws_requests", "cost_per_million_usd"]
    expected = small_sweep.runs[(small_sweep.runs["outage_s"] == 20) & (small_sweep.runs["timeout_cadence_s"] == 60)]
    assert again.runs[columns].values.tolist() == expected[columns].values.tolist()


def test_conclusions_are_computed_from_the_runs(small_sweep) -> None:
    text = analysis.conclusions(small_sweep)
    runs = small_sweep.runs
    reference, longest = runs[runs["outage_s"] == 0], runs[runs["outage_s"] == 20]
    assert f"estimated ${reference['cost_per_million_usd'].median():.2f} per million" in text
    assert f"**Longest fault** (20 s): {longest['unserved_rate'].median() * 100:.2f}% of valid messages never got a transaction" in text
    assert "**Trend**" in text and "**Timeout cadence**" in text and "**Cost**" in text
    assert f"all {len(runs)} runs kept the simulator's invariants" in text or "broke an invariant" in text
    assert "$" not in analysis.conclusions(analysis.Sweep([], runs.iloc[0:0], pd.DataFrame(), pd.DataFrame()))
