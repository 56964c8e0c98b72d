"""The commands' answer when AWS, or the endpoint standing in for it, cannot be used: one line on stderr that
names the endpoint and what to do. Exit status 2 for configuration (credentials, missing resources), 1 for an
endpoint that cannot be reached or refuses a call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from engine.adapters.aws import MissingResource
from engine.adapters.aws.errors import error_code

DEPLOY_TO_CREATE = "create rp2's resources there with `rp2 deploy --stack NAME` (same RP2_DEPLOYMENT_ID and RP2_REGION)"
_REFUSED_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


class ConfigurationError(click.ClickException):
    exit_code = 2


@dataclass(frozen=True)
class AwsEndpoint:
    region: str
    url: str | None = None  # None: AWS itself
    given_by: str = "RP2_ENDPOINT_URL"  # the variable or option that named ``url``

    def __str__(self) -> str:
        return f"AWS in {self.region}" if self.url is None else f"{self.url} ({self.given_by}), region {self.region}"


@contextmanager
def explained_aws_failures(endpoint: AwsEndpoint, *, missing_resources: str = DEPLOY_TO_CREATE) -> Iterator[None]:
    """``missing_resources``: what the user does when a queue or topic does not exist."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as error:
        any_values = " (a moto server takes any values)" if endpoint.url else ""
        raise ConfigurationError(
            f"no usable AWS credentials for {endpoint}: {error}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY{any_values}, "
            "or AWS_PROFILE"
        ) from None
    except (ConnectionError, ConnectionClosedError, ReadTimeoutError) as error:
        if endpoint.url is None:
            raise click.ClickException(f"cannot reach {endpoint}: {error}; check the network") from None
        raise click.ClickException(
            f"cannot reach {endpoint}: {error}; start the server there or correct {endpoint.given_by}"
        ) from None
    except MissingResource as error:
        raise ConfigurationError(f"{error} at {endpoint}: {missing_resources}") from None
    except ClientError as error:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code in _REFUSED_CREDENTIAL_CODES:
            raise ConfigurationError(
                f"{endpoint} refused the AWS credentials ({code}: {message}); set valid ones in AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            ) from None
        raise click.ClickException(f"{error.operation_name} at {endpoint} failed: {code}: {message}") from None
