"""The ``rp2 package`` and ``rp2 deploy`` commands."""

from __future__ import annotations

from pathlib import Path

import click

from engine.deploy.package import ARCHITECTURES
from engine.deploy.template import CONSISTENCY_MODES, TEMPLATE_PATH
from engine.endpoint_url import checked_endpoint_url
from engine.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


@click.command()
@click.option("--arch", type=click.Choice(sorted(ARCHITECTURES)), default="arm64", show_default=True, help="Lambda architecture.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"), show_default=True, help="Folder for the zip.")
@click.option("--from-environment", is_flag=True,
              help="Copy the dependencies installed here instead of downloading manylinux wheels (offline; fits this machine only).")
@click.option("--python", default=None, help="A Python 3.12 interpreter to precompile the bytecode with [default: python3.12 on PATH].")
def package(arch: str, out: Path, from_environment: bool, python: str | None) -> None:
    """Build the Lambda artifact: the engine and its runtime dependencies, for python3.12 on ARCH."""
    from engine.deploy.package import PackagingError, build

    try:
        artifact = build(out, arch, from_environment=from_environment, python=python)
    except PackagingError as error:
        raise click.ClickException(str(error)) from None
    click.echo(artifact.describe())


@click.command()
@click.option("--stack", "stack_name", required=True, help="CloudFormation stack name.")
@click.option("--endpoint-url", default=None, callback=checked_endpoint_url,
              help="CloudFormation/AWS endpoint (moto server or another emulator).")
@click.option("--region", default=None, help="Region to deploy in [default: RP2_REGION].")
@click.option("--peer-region", default=None, help="The other region of the pair [default: RP2_PEER_REGION].")
@click.option("--primary-region", default=None, help="The pair's region that owns the ledger global table [default: --region].")
@click.option("--artifact", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Lambda zip from `rp2 package` [default: build one now for --arch].")
@click.option("--arch", type=click.Choice(sorted(ARCHITECTURES)), default="arm64", show_default=True)
@click.option("--artifact-bucket", default=None, help="Bucket for the artifact [default: rp2-artifacts-<account>-<region>].")
@click.option("--consistency", type=click.Choice(CONSISTENCY_MODES), default=None, help="Ledger mode [default: RP2_CONSISTENCY].")
@click.option("--witness-region", default="us-east-2", show_default=True, help="Witness region of the ledger in strong mode.")
@click.option("--peer-health-url", default=None,
              help="The peer stack's ApiUrl + '/', probed by the recover job [default: RP2_PEER_HEALTH_URL; unset: recover schedule disabled].")
@click.option("--template", "template_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=TEMPLATE_PATH,
              show_default=True)
def deploy(stack_name: str, endpoint_url: str | None, region: str | None, peer_region: str | None, primary_region: str | None,
           artifact: Path | None, arch: str, artifact_bucket: str | None, consistency: str | None, witness_region: str,
           peer_health_url: str | None, template_path: Path) -> None:
    """Upload the artifact and create or update the stack (SAM template translated offline)."""
    import boto3

    from engine.aws_failures import AwsEndpoint, explained_aws_failures
    from engine.deploy.deploy import DeployError, default_artifact_bucket
    from engine.deploy.deploy import deploy as deploy_stack
    from engine.deploy.package import PackagingError, build
    from engine.deploy.template import StackParameters, TemplateError

    settings = _settings()
    region = region or settings.region
    peer = peer_region or settings.peer_region
    if peer == region:
        raise click.UsageError(f"the peer region must differ from the region ({region})")
    primary = primary_region or region
    if primary not in (region, peer):
        raise click.UsageError(f"--primary-region must be {region} or {peer}, got {primary}")
    secondary = peer if primary == region else region
    session = boto3.Session(region_name=region)
    with explained_aws_failures(AwsEndpoint(region, endpoint_url, "--endpoint-url")):
        try:
            if artifact is None:
                built = build(Path("dist"), arch)
                click.echo(built.describe())
                artifact = built.path
            parameters = StackParameters(
                deployment_id=settings.deployment_id,
                primary_region=primary,
                secondary_region=secondary,
                artifact_bucket=artifact_bucket or default_artifact_bucket(session, endpoint_url),
                artifact_key="",
                architecture=arch,
                consistency=consistency or settings.consistency,
                witness_region=witness_region,
                sla_seconds=settings.sla_seconds,
                retention_days=settings.retention_days,
                max_message_bytes=settings.max_message_bytes,
                log_level=settings.log_level,
                peer_health_url=peer_health_url or settings.peer_health_url or "",
                probe_timeout_seconds=settings.probe_timeout_seconds,
                down_after_probes=settings.down_after_probes,
                up_after_probes=settings.up_after_probes,
            )
            deployment = deploy_stack(session, stack_name, parameters, artifact, endpoint_url=endpoint_url,
                                      template_path=template_path, say=click.echo)
        except (PackagingError, TemplateError, DeployError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"stack {deployment.stack_name}: {deployment.action}, {deployment.status}")
    for key, value in sorted(deployment.outputs.items()):
        click.echo(f"   {key} = {value}")
