"""From simulation to a game-day: the AWS Fault Injection Service experiment template that performs a
scenario's faults on a deployed stack, for the faults FIS can express, and the list of those it cannot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from engine.deploy.template import function_names, load_sam_template
from sim.faults import FUNCTIONS, FaultSpec
from sim.scenario import Scenario, load_scenario
from sim.schema import ScenarioError

NOT_EXPRESSIBLE = {
    "aws:fis:inject-api-unavailable-error": "FIS injects API errors only into EC2 API calls, not {service}",
    "aws:fis:inject-api-throttle-error": "FIS injects API throttling only into EC2 API calls, not {service}",
    "aws:fis:inject-api-internal-error": "FIS injects API errors only into EC2 API calls, not {service}",
    "rp2:api-latency": "FIS has no action that slows a managed service's API",
    "rp2:lambda-throttle": "no FIS action; set the function's reserved concurrency by hand for the window",
    "aws:network:disrupt-connectivity": "FIS disrupts subnets; the template's functions run outside a VPC",
    "rp2:worker-crash-after-calls": "FIS cannot stop a function after its k-th I/O call",
    "rp2:duplicate-delivery": "FIS cannot make SQS deliver a message twice",
    "rp2:clock-skew": "FIS cannot skew a Lambda function's clock",
    "aws:network:route-table-disrupt-cross-region-connectivity": "FIS cuts a VPC subnet's cross-region routes; the template's functions and "
    "DynamoDB's replication run outside a VPC (pause the global table's replication instead)",
    "rp2:replication-lag": "FIS cannot slow a global table's or a bucket's replication down",
}


FIS_MINIMUM_DURATION_S = 60  # FIS fault actions last from one minute to 12 hours


def iso_duration(seconds: float) -> str:
    return f"PT{int(round(seconds))}S"


def function_arn(region: str, function_name: str) -> str:
    return f"arn:aws:lambda:{region}:${{AccountId}}:function:{function_name}"


@dataclass
class Experiment:
    scenario: Scenario
    deployment_id: str
    role_arn: str
    deployed_functions: dict[str, str]  # short name (process) -> deployed name (rp2-process-<id>), from the SAM template
    targets: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)
    approximated: list[str] = field(default_factory=list)
    not_expressed: list[str] = field(default_factory=list)

    def _duration(self, fault: FaultSpec) -> str:
        if fault.duration_s < FIS_MINIMUM_DURATION_S:
            self.approximated.append(f"{fault.label}: lasts {fault.duration_s:g} s, FIS runs it for its minimum of one minute")
            return iso_duration(FIS_MINIMUM_DURATION_S)
        return iso_duration(fault.duration_s)

    def _delayed(self, fault: FaultSpec, name: str, action: dict[str, Any]) -> None:
        if fault.start_s > 0:
            wait = f"wait-{fault.index}"
            self.actions[wait] = {
                "actionId": "aws:fis:wait",
                "description": f"start {name} {fault.start_s:g} s after the experiment starts",
                "parameters": {"duration": iso_duration(fault.start_s)},
            }
            action["startAfter"] = [wait]
        self.actions[name] = action

    def _functions_target(self, fault: FaultSpec, functions: tuple[str, ...]) -> str:
        name = f"functions-{fault.index}"
        self.targets[name] = {
            "resourceType": "aws:lambda:function",
            "resourceArns": [function_arn(fault.region, self.deployed_functions[f]) for f in functions],
            "selectionMode": "ALL",
        }
        return name

    def add(self, fault: FaultSpec) -> None:
        name = f"fault-{fault.index}-{fault.action.rsplit(':', 1)[-1]}"
        if fault.action in ("aws:lambda:invocation-add-delay", "aws:lambda:invocation-error"):
            function = fault.param("function")
            functions = FUNCTIONS if function == "all" else (function,)
            parameters = {"duration": self._duration(fault), "invocationPercentage": f"{fault.param('invocationPercentage'):g}"}
            if fault.action == "aws:lambda:invocation-add-delay":
                parameters["startupDelayMilliseconds"] = str(fault.param("startupDelayMilliseconds"))
            else:
                parameters["preventExecution"] = str(fault.param("preventExecution")).lower()
            target = self._functions_target(fault, functions)
            self._delayed(fault, name, {"actionId": fault.action, "parameters": parameters, "targets": {"Functions": target}})
        elif fault.action == "rp2:region-outage":
            target = self._functions_target(fault, tuple(self.deployed_functions))
            parameters = {"duration": self._duration(fault), "invocationPercentage": "100", "preventExecution": "true"}
            self._delayed(fault, name, {"actionId": "aws:lambda:invocation-error", "parameters": parameters, "targets": {"Functions": target}})
            self.approximated.append(
                f"{fault.label} in {fault.region}: every rp2 function there fails without running; DynamoDB, S3 and SQS stay up"
            )
        elif fault.action == "aws:dynamodb:global-table-pause-replication":
            target = f"table-{fault.index}"
            self.targets[target] = {
                "resourceType": "aws:dynamodb:global-table",
                "resourceArns": [f"arn:aws:dynamodb:{fault.region}:${{AccountId}}:table/rp2-transaction-{self.deployment_id}"],
                "selectionMode": "ALL",
            }
            self._delayed(fault, name, {"actionId": fault.action, "parameters": {"duration": self._duration(fault)}, "targets": {"Tables": target}})
        else:
            reason = NOT_EXPRESSIBLE[fault.action].format(**dict(fault.params))
            self.not_expressed.append(f"{fault.label} at {fault.start_s:g} s for {fault.duration_s:g} s: {reason}")

    def template(self) -> dict[str, Any]:
        notes = (
            "Lambda actions need the AWS FIS Lambda extension layer and its AWS_FIS_CONFIGURATION_LOCATION and "
            "AWS_LAMBDA_EXEC_WRAPPER environment on the targeted functions. Replace ${AccountId}."
        )
        return {
            "description": f"rp2 scenario {self.scenario.name}: {self.scenario.description}"[:512],
            "roleArn": self.role_arn,
            "stopConditions": [{"source": "none"}],
            "targets": self.targets,
            "actions": self.actions,
            "tags": {"rp2-scenario": self.scenario.name, "rp2-notes": notes[:256]},
        }


def experiment_for(scenario: Scenario, *, deployment_id: str, role_arn: str) -> Experiment:
    experiment = Experiment(scenario, deployment_id, role_arn, function_names(load_sam_template(), deployment_id))
    for fault in scenario.faults:
        experiment.add(fault)
    return experiment


@click.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--deployment-id", default="local", show_default=True, help="The RP2_DEPLOYMENT_ID of the target stack.")
@click.option("--role-arn", default="arn:aws:iam::${AccountId}:role/rp2-fis-experiments", show_default=True,
              help="The IAM role FIS assumes to run the experiment.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the JSON here instead of stdout.")
def fis(scenario_file: Path, deployment_id: str, role_arn: str, out: Path | None) -> None:
    """Write the AWS FIS experiment template that performs SCENARIO_FILE's faults on a deployed stack."""
    try:
        scenario = load_scenario(scenario_file)
    except ScenarioError as error:
        raise click.ClickException(str(error)) from None
    experiment = experiment_for(scenario, deployment_id=deployment_id, role_arn=role_arn)
    for line in experiment.approximated:
        click.echo(f"approximated: {line}", err=True)
    for line in experiment.not_expressed:
        click.echo(f"not expressible in FIS: {line}", err=True)
    if not scenario.faults:
        raise click.ClickException(f"scenario {scenario.name} has no faults: nothing for FIS to perform; no template written")
    if not experiment.actions:
        raise click.ClickException(
            f"scenario {scenario.name} has nothing FIS can perform: it can express none of its faults (listed above); no template written"
        )
    document = json.dumps(experiment.template(), indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(document, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(document, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}: {error.filename}") from None
