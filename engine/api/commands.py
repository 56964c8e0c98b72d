"""The ``rp2 serve`` command."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from engine.endpoint_url import checked_endpoint_url
from engine.settings import Settings, SettingsError


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--backend", type=click.Choice(["moto", "aws"]), default="moto", show_default=True,
              help="moto: embedded moto server, resources created; aws: existing resources (AWS or --endpoint-url).")
@click.option("--endpoint-url", default=None, callback=checked_endpoint_url,
              help="AWS endpoint [default: RP2_ENDPOINT_URL; moto: start one].")
@click.option("--clients", type=click.IntRange(1, 20), default=1, show_default=True, help="OAuth2 clients to create.")
@click.option("--token-ttl", type=click.IntRange(1), default=3600, show_default=True, help="Access token lifetime, seconds.")
@click.option("--signing-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="HS256 key for the tokens (at least 32 bytes) [default: a random key per start].")
@click.option("--timeout-every", type=click.FloatRange(0.1), default=60.0, show_default=True,
              help="Seconds between runs of the timeout job (the deployed schedule: 60).")
def serve(port: int, backend: str, endpoint_url: str | None, clients: int, token_ttl: int, signing_key_file: Path | None,
          timeout_every: float) -> None:
    """Serve GET /, GET /uuid, POST /inbox, POST /outbox and POST /oauth2/token on 127.0.0.1."""
    from engine.api.serve import ServeOptions
    from engine.api.serve import serve as run_server
    from engine.aws_failures import DEPLOY_TO_CREATE, AwsEndpoint, explained_aws_failures

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise click.UsageError(str(error)) from None
    key = signing_key_file.read_bytes().strip() if signing_key_file else None
    if key is not None and len(key) < 32:
        raise click.UsageError("the signing key must be at least 32 bytes")
    options = ServeOptions(
        port=port, backend=backend, endpoint_url=endpoint_url or settings.endpoint_url, clients=clients,
        token_ttl=token_ttl, signing_key=key, timeout_every_seconds=timeout_every,
    )
    endpoint = AwsEndpoint(settings.region, options.endpoint_url, "--endpoint-url" if endpoint_url else "RP2_ENDPOINT_URL")
    try:
        with explained_aws_failures(endpoint, missing_resources=f"{DEPLOY_TO_CREATE}, or serve with --backend moto, which creates them"):
            run_server(replace(settings, endpoint_url=None), options, say=lambda line: click.echo(line))
    except OSError as error:
        raise click.ClickException(f"cannot serve on 127.0.0.1:{port}: {error}") from None
