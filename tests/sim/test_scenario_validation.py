"""Scenario files are validated strictly: the error names the file, the key path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario, parse_scenario
from sim.schema import ScenarioError

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def error_of(raw: dict, source: str = "s.toml") -> str:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(raw, source=source)
    return str(raised.value)


def test_every_shipped_scenario_is_valid():
    names = sorted(path.stem for path in SCENARIOS.glob("*.toml"))
    assert names == ["baseline", "burst_over_concurrency", "crash_storm", "duplicate_delivery_storm", "dynamodb_brownout",
                     "latency_spike", "sqs_brownout"]
    for path in SCENARIOS.glob("*.toml"):
        scenario = load_scenario(path)
        assert scenario.name == path.stem
        assert scenario.expect, f"{path.name} has no expectations"


def test_defaults_are_the_documented_ones():
    scenario = parse_scenario({"duration_s": 60})
    assert scenario.regions == ("us-east-1",)
    assert scenario.seeds == (1,)
    assert scenario.engine.sla_seconds == 30
    assert scenario.engine.timeout_cadence_s == 60.0
    assert scenario.engine.visibility_timeout_s == 30.0
    assert scenario.engine.max_receive_count == 5
    assert scenario.engine.batch_size == 10
    assert scenario.engine.function_timeout_s == 15.0
    assert scenario.engine.concurrency.inbox == 50
    assert scenario.load.rate_tps == 10.0
    assert scenario.load.max_payments == 1
    assert scenario.latency["dynamodb"].p50_ms == 5.0
    assert scenario.epoch.isoformat() == "2026-01-05T09:00:00+00:00"
    assert scenario.name == "scenario"


def test_an_unknown_key_names_the_file_the_path_and_the_known_keys():
    assert error_of({"duration_s": 60, "engine": {"batch_sise": 5}}) == (
        "s.toml: engine.batch_sise: unknown key; expected one of: batch_size, concurrency, function_timeout_s, "
        "idle_eviction_s, lambda_memory_mb, max_message_bytes, max_receive_count, sla_seconds, timeout_cadence_s, "
        "timeout_schedule, visibility_timeout_s"
    )


def test_a_wrong_type_or_value_says_what_was_expected():
    assert error_of({"duration_s": "60"}) == "s.toml: duration_s: expected a number > 0 and <= 604800, got '60'"
    assert error_of({"duration_s": 60, "engine": {"batch_size": 12}}) == (
        "s.toml: engine.batch_size: expected an integer from 1 to 10, got 12"
    )
    assert error_of({"duration_s": 60, "engine": {"sla_seconds": True}}) == (
        "s.toml: engine.sla_seconds: expected an integer >= 1, got True"
    )
    assert error_of({"duration_s": 60, "seeds": []}) == "s.toml: seeds: expected a list of integers >= 0, got []"
    assert error_of({"duration_s": 60, "world": {"regions": ["us-east"]}}) == (
        "s.toml: world.regions: expected a list of strings such as us-east-1, got ['us-east']"
    )
    assert error_of({"duration_s": 60, "latency": {"s3": {"p50_ms": 50, "p99_ms": 10}}}) == (
        "s.toml: latency.s3.p99_ms: expected a number >= p50_ms (50), got 10"
    )
    assert error_of({}) == "s.toml: duration_s: missing; expected a number > 0 and <= 604800"


def test_the_timeout_cadence_follows_eventbridge_scheduler_unless_looping():
    assert error_of({"duration_s": 60, "engine": {"timeout_cadence_s": 20}}) == (
        "s.toml: engine.timeout_cadence_s: expected a whole number of minutes (EventBridge Scheduler's rate is at least "
        "1 minute), got 20; use timeout_schedule = \"loop\" for a sub-minute cadence"
    )
    looping = parse_scenario({"duration_s": 60, "engine": {"timeout_cadence_s": 20, "timeout_schedule": "loop"}})
    assert looping.engine.timeout_cadence_s == 20.0


def test_fault_parameters_are_checked_per_action():
    fault = {"action": "aws:fis:inject-api-throttle-error", "start_s": 5, "duration_s": 10, "service": "dynamodb", "percentage": 20}
    assert parse_scenario({"duration_s": 60, "faults": [fault]}).faults[0].param("percentage") == 20.0
    assert error_of({"duration_s": 60, "faults": [{**fault, "percentage": 120}]}) == (
        "s.toml: faults[0].percentage: expected a number > 0 and <= 100, got 120"
    )
    assert error_of({"duration_s": 60, "faults": [{**fault, "service": "dynamo"}]}) == (
        "s.toml: faults[0].service: expected a string, one of 'dynamodb', 's3', 'sqs', 'sns', got 'dynamo'"
    )
    assert error_of({"duration_s": 60, "faults": [{**fault, "operations": ["PutObject"]}]}) == (
        "s.toml: faults[0].operations: expected operations of dynamodb (PutItem, GetItem, UpdateItem, Query, DescribeTable), got ['PutObject']"
    )
    assert error_of({"duration_s": 60, "faults": [{**fault, "after_calls": 2}]}).startswith(
        "s.toml: faults[0].after_calls: unknown key; expected one of: action, duration_s, operations, percentage, region, service, start_s"
    )
    assert error_of({"duration_s": 60, "faults": [{**fault, "start_s": 60}]}) == (
        "s.toml: faults[0].start_s: expected a start before the end of the load (duration_s = 60), got 60"
    )
    assert error_of({"duration_s": 60, "faults": [{**fault, "action": "aws:fis:inject-chaos"}]}).startswith(
        "s.toml: faults[0].action: expected one of: aws:fis:inject-api-unavailable-error, "
    )
    assert error_of({"duration_s": 60, "faults": [{"action": "aws:dynamodb:global-table-pause-replication", "start_s": 1, "duration_s": 5}]}) == (
        "s.toml: faults[0].action: aws:dynamodb:global-table-pause-replication needs a multi-region world "
        "(replication arrives with the multi-region issue)"
    )


def test_expectations_name_a_known_metric_with_a_bound():
    assert parse_scenario({"duration_s": 60, "expect": {"max_p99_time_to_terminal_s": 8}}).expect[0].text() == "p99_time_to_terminal_s <= 8"
    message = error_of({"duration_s": 60, "expect": {"p99_time_to_terminal_s": 8}})
    assert message.startswith("s.toml: expect.p99_time_to_terminal_s: unknown expectation; expected max_<metric> or min_<metric> with a metric among: transactions, ")
    assert error_of({"duration_s": 60, "expect": {"max_rejection_rate": "low"}}) == "s.toml: expect.max_rejection_rate: expected a number, got 'low'"


def test_load_steps_and_bursts_are_tables_in_order():
    assert error_of({"duration_s": 60, "load": {"steps": [{"at_s": 30, "rate_tps": 5}, {"at_s": 10, "rate_tps": 1}]}}) == (
        "s.toml: load.steps[1].at_s: expected a time after the previous step's 30, got 10"
    )
    assert error_of({"duration_s": 60, "load": {"bursts": [{"start_s": 5, "rate_tps": 50}]}}) == (
        "s.toml: load.bursts[0].duration_s: missing; expected a number > 0"
    )
    assert error_of({"duration_s": 60, "load": {"bursts": "big"}}) == (
        "s.toml: load.bursts: expected a list of tables ([[load.bursts]]), got 'big'"
    )
    assert error_of({"duration_s": 60, "load": {"invalid_kinds": {"garbled": 1}}}).startswith(
        "s.toml: load.invalid_kinds: expected a table of numbers >= 0 keyed by 'truncated', 'wrong_namespace', "
    )


def test_a_file_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("duration_s = = 3\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"{path}: not valid TOML: ")
