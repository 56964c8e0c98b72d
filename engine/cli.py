"""The ``rp2`` command."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import click
from lxml import etree

from engine.api.commands import serve
from engine.deploy.commands import deploy, package
from engine.endpoint_url import checked_endpoint_url
from engine.settings import Settings, SettingsError
from engine.validate import validate
from sim.cli import simulate
from sim.fis import fis

if TYPE_CHECKING:
    from engine.local_runtime import LocalRuntime

CLI_IDENTITY = "rp2-cli"


@click.group()
def main() -> None:
    """rp2: ISO 20022 payment workflows on AWS, simulated, tested and deployed."""


for command in (validate, simulate, fis, serve, package, deploy):
    main.add_command(command)


@contextmanager
def local_runtime(backend: str, settings: Settings) -> Iterator["LocalRuntime"]:
    from engine.local_runtime import LocalRuntime

    if backend == "memory":
        from engine.wiring import memory_ports

        ports = memory_ports(settings)
        yield LocalRuntime(ports, ports.queues)
        return
    with ExitStack() as stack:
        if settings.endpoint_url is None:
            from moto import mock_aws

            stack.enter_context(mock_aws())
        import boto3

        from engine.adapters.aws import aws_ports
        from engine.adapters.aws.provision import provision

        provision(settings, boto3.Session(region_name=settings.region))
        ports = aws_ports(settings)
        yield LocalRuntime(ports, ports.queues)


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backend", type=click.Choice(["moto", "memory", "aws"]), default="moto", show_default=True,
              help="moto: AWS APIs in-process (or RP2_ENDPOINT_URL); memory: in-process adapters; aws: a deployed --stack.")
@click.option("--message-type", default="pacs.008", show_default=True, help="The X-Message-Type the client sends.")
@click.option("--verbose", is_flag=True, help="Show the engine's JSON log lines (on stderr).")
@click.option("--stack", "stack_name", default=None, help="aws backend: the deployed stack (rp2 deploy) to drive.")
@click.option("--endpoint-url", default=None, callback=checked_endpoint_url,
              help="aws backend: endpoint of an emulator (moto server); the stack's handlers then run in-process.")
def run(files: tuple[Path, ...], backend: str, message_type: str, verbose: bool, stack_name: str | None, endpoint_url: str | None) -> None:
    """Drive each FILE through the workflow (transaction, inbox, process, release, outbox) and print its trail."""
    settings = load_settings()
    if not verbose:
        os.environ["RP2_LOG_LEVEL"] = "WARNING"
    if (backend == "aws") != (stack_name is not None):
        raise click.UsageError("--stack goes with --backend aws, and --backend aws needs --stack")
    from engine.aws_failures import AwsEndpoint, ConfigurationError, explained_aws_failures
    from engine.deploy.stack import StackError

    unfinished = 0
    if backend == "aws":
        from engine.deploy.drive import stack_runtime

        redeploy = f"deploy it again: rp2 deploy --stack {stack_name}"
        failures = explained_aws_failures(AwsEndpoint(settings.region, endpoint_url, "--endpoint-url"), missing_resources=redeploy)
        runtimes = stack_runtime(stack_name, region=settings.region, endpoint_url=endpoint_url)
    else:
        failures = explained_aws_failures(AwsEndpoint(settings.region, settings.endpoint_url))
        runtimes = local_runtime(backend, settings)
    try:
        with failures, runtimes as runtime:
            shown = runtime.ports.settings
            click.echo(f"backend {backend}, region {shown.region}, deployment {shown.deployment_id}, SLA {shown.sla_seconds} s")
            for path in files:
                unfinished += not drive_file(runtime, path, message_type)
    except StackError as error:
        raise ConfigurationError(f"{error}; {redeploy}") from None
    sys.exit(1 if unfinished else 0)


def drive_file(runtime: "LocalRuntime", path: Path, message_type: str) -> bool:
    click.echo(f"\n== {path.name}")
    opened = runtime.call("GET", "/uuid", identity=CLI_IDENTITY, headers={"X-Message-Type": message_type})
    if opened.status != 200:
        click.echo(f"   GET /uuid -> {opened.status}: {opened.body['message']}")
        return False
    transaction_id = opened.body["transaction_id"]
    click.echo(f"   transaction {transaction_id}")
    payload = path.read_bytes()
    submitted = runtime.call(
        "POST", "/inbox", identity=CLI_IDENTITY,
        headers={"X-Transaction-Id": transaction_id, "X-Message-Type": message_type, "Content-Type": "application/xml"},
        body=payload,
    )
    click.echo(f"   POST /inbox -> {submitted.status}: {submitted.body['message']}")
    runtime.drain()
    record = runtime.ports.ledger.get(transaction_id)
    for entry in record.history:
        reason = f"  {entry.reason_code}" if entry.reason_code else ""
        click.echo(f"   {entry.at.isoformat(timespec='milliseconds')}  {entry.status.value}{reason}")
    if message_type == "camt.056":
        click.echo("   (the cancellation request's own workflow: ACSC means the request was answered, not a payment settled)")
        if record.decision:
            click.echo(f"   resolution: {record.decision.info}")
            for n, payment in enumerate(record.decision.payments, start=1):
                detail = " ".join(part for part in (payment.status, payment.reason_code, payment.info and f"({payment.info})") if part)
                click.echo(f"   payment {n}: {detail}")
    elif record.decision and record.decision.info:
        click.echo(f"   reason: {record.decision.info}")
    for warning in record.warnings:
        click.echo(f"   warning: {warning}")
    reply = runtime.call("POST", "/outbox", identity=CLI_IDENTITY, headers={"X-Transaction-Id": transaction_id})
    click.echo(f"   POST /outbox -> {reply.status}")
    if reply.status == 200:
        tree = etree.fromstring(reply.body["message"].encode("utf-8"))
        click.echo(etree.tostring(tree, pretty_print=True, encoding="unicode"))
    return record.status.is_terminal
