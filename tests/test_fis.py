"""rp2 fis: a scenario's faults as an AWS FIS experiment template, and what FIS cannot express."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine.cli import main
from engine.deploy.template import function_names, load_sam_template
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
    assert template["targets"]["functions-1"]["resourceArns"] == [
        f"arn:aws:lambda:us-east-1:${{AccountId}}:function:rp2-{name}-prod"
        for name in ("api", "inbox", "process", "release", "timeout", "recover")
    ]
    assert experiment.approximated == [
        "#1 rp2:region-outage: lasts 45 s, FIS runs it for its minimum of one minute",
        "#1 rp2:region-outage in us-east-1: every rp2 function there fails without running; DynamoDB, S3 and SQS stay up",
    ]
    assert experiment.not_expressed == [
        "#2 aws:fis:inject-api-throttle-error at 10 s for 60 s: FIS injects API throttling only into EC2 API calls, not dynamodb"
    ]


CLOCK_SKEW = '[[faults]]\naction = "rp2:clock-skew"\nstart_s = 5\nduration_s = 60\nskew_s = 3\n'
PROCESS_ERRORS = '[[faults]]\naction = "aws:lambda:invocation-error"\nstart_s = 0\nduration_s = 60\nfunction = "process"\n'


def write_scenario(folder, *faults: str):
    path = folder / "gameday.toml"
    path.write_text('name = "gameday"\nduration_s = 120\n' + "".join(faults), encoding="utf-8")
    return path


def test_a_region_outage_fails_every_function_the_stack_deploys():
    deployed = function_names(load_sam_template(), "prod")
    outage = {"name": "outage", "duration_s": 120, "faults": [{"action": "rp2:region-outage", "start_s": 0, "duration_s": 60}]}

    template = experiment_for(parse_scenario(outage), deployment_id="prod", role_arn="arn:aws:iam::123456789012:role/fis").template()

    assert "recover" in deployed
    assert template["targets"]["functions-0"]["resourceArns"] == [
        f"arn:aws:lambda:us-east-1:${{AccountId}}:function:{name}" for name in deployed.values()
    ]


def test_the_command_prints_the_template_and_lists_the_rest(tmp_path):
    scenario = write_scenario(tmp_path, PROCESS_ERRORS, CLOCK_SKEW)

    result = CliRunner().invoke(main, ["fis", str(scenario), "--deployment-id", "prod"])

    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["actions"]) == ["fault-0-invocation-error"]
    assert result.stderr == "not expressible in FIS: #1 rp2:clock-skew at 5 s for 60 s: FIS cannot skew a Lambda function's clock\n"


def test_a_scenario_fis_can_express_nothing_of_writes_no_template(tmp_path):
    out = tmp_path / "experiment.json"

    result = CliRunner().invoke(main, ["fis", str(write_scenario(tmp_path, CLOCK_SKEW)), "--out", str(out)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "not expressible in FIS: #0 rp2:clock-skew at 5 s for 60 s: FIS cannot skew a Lambda function's clock\n"
        "Error: scenario gameday has nothing FIS can perform: it can express none of its faults (listed above); no template written\n"
    )
    assert not out.exists()


def test_a_scenario_without_faults_writes_no_template(tmp_path):
    result = CliRunner().invoke(main, ["fis", str(write_scenario(tmp_path))])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: scenario gameday has no faults: nothing for FIS to perform; no template written\n"


def test_out_creates_the_missing_folders(tmp_path):
    out = tmp_path / "missing" / "dir" / "experiment.json"

    result = CliRunner().invoke(main, ["fis", str(write_scenario(tmp_path, PROCESS_ERRORS)), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert list(json.loads(out.read_text(encoding="utf-8"))["actions"]) == ["fault-0-invocation-error"]


def test_out_that_cannot_be_written_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")

    result = CliRunner().invoke(main, ["fis", str(write_scenario(tmp_path, PROCESS_ERRORS)), "--out", str(blocker / "experiment.json")])

    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write {blocker / 'experiment.json'}: File exists: {blocker}\n"


def test_a_bad_scenario_file_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["fis", str(tmp_path / "missing.toml")])
    assert result.exit_code == 1
    assert "no such file" in result.output
