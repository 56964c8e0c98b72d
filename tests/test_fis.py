"""rp2 fis: a scenario's faults as an AWS FIS experiment template, and what FIS cannot express."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine.cli import main
from sim.fis import experiment_for
from sim.scenario import parse_scenario

SCENARIO = {
    "name": "gameday",
    "description": "delay, outage, brownout",
    "duration_s": 300,
    "faults": [
        {"action": "aws:lambda:invocation-add-delay", "start_s": 30, "duration_s": 90, "function": "process",
         "startupDelayMilliseconds": 1500, "invocationPercentage": 30},
        {"action": "rp2:region-outage", "start_s": 0, "duration_s": 45},
        {"action": "aws:fis:inject-api-throttle-error", "start_s": 10, "duration_s": 60, "service": "dynamodb", "percentage": 25},
    ],
}


def test_expressible_faults_become_actions_with_waits_and_targets():
    experiment = experiment_for(parse_scenario(SCENARIO), deployment_id="prod", role_arn="arn:aws:iam::123456789012:role/fis")
    template = experiment.template()

    assert template["actions"]["wait-0"] == {
        "actionId": "aws:fis:wait",
        "description": "start fault-0-invocation-add-delay 30 s after the experiment starts",
        "parameters": {"duration": "PT30S"},
    }
    assert template["actions"]["fault-0-invocation-add-delay"] == {
        "actionId": "aws:lambda:invocation-add-delay",
        "parameters": {"duration": "PT90S", "invocationPercentage": "30", "startupDelayMilliseconds": "1500"},
        "targets": {"Functions": "functions-0"},
        "startAfter": ["wait-0"],
    }
    assert template["targets"]["functions-0"] == {
        "resourceType": "aws:lambda:function",
        "resourceArns": ["arn:aws:lambda:us-east-1:${AccountId}:function:rp2-process-prod"],
        "selectionMode": "ALL",
    }
    outage = template["actions"]["fault-1-region-outage"]
    assert (outage["actionId"], outage["parameters"]) == (
        "aws:lambda:invocation-error",
        {"duration": "PT60S", "invocationPercentage": "100", "preventExecution": "true"},
    )
    assert "startAfter" not in outage
    assert experiment.approximated == [
        "#1 rp2:region-outage: lasts 45 s, FIS runs it for its minimum of one minute",
        "#1 rp2:region-outage in us-east-1: every rp2 function there fails without running; DynamoDB, S3 and SQS stay up",
    ]
    assert experiment.not_expressed == [
        "#2 aws:fis:inject-api-throttle-error at 10 s for 60 s: FIS injects API throttling only into EC2 API calls, not dynamodb"
    ]


def test_the_command_prints_the_template_and_lists_the_rest(tmp_path):
    scenario = tmp_path / "gameday.toml"
    scenario.write_text(
        'name = "gameday"\nduration_s = 120\n[[faults]]\naction = "rp2:clock-skew"\nstart_s = 5\nduration_s = 60\nskew_s = 3\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["fis", str(scenario), "--deployment-id", "prod"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["actions"] == {}
    assert result.stderr == "not expressible in FIS: #0 rp2:clock-skew at 5 s for 60 s: FIS cannot skew a Lambda function's clock\n"


def test_a_bad_scenario_file_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["fis", str(tmp_path / "missing.toml")])
    assert result.exit_code == 1
    assert "no such file" in result.output
