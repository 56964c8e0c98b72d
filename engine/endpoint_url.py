"""The check of the commands' --endpoint-url options: the form RP2_ENDPOINT_URL must have too."""

from __future__ import annotations

import click

from engine.settings import ENDPOINT_URL_FORM, is_endpoint_url


def checked_endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not is_endpoint_url(value):
        raise click.BadParameter(f"must be {ENDPOINT_URL_FORM}, got {value!r}")
    return value
