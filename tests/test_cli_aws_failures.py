"""Commands that talk to AWS answer a bad endpoint, missing credentials, an unreachable endpoint and missing
resources with one line on stderr and an exit status (2: configuration), never a traceback."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.settings import Settings, SettingsError
from tests.conftest import SAMPLES

SAMPLE = str(SAMPLES / "upstream_pacs.008.xml")
FORM = "an http or https URL with a host, such as http://127.0.0.1:5000"


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "RP2_ENDPOINT_URL", "RP2_REGION",
                 "RP2_PEER_REGION", "RP2_DEPLOYMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("RP2_LOG_LEVEL", "WARNING")


@pytest.mark.parametrize("value", ["notaurl", "ftp://127.0.0.1:5000", "http://", "http://host:port", "localhost:5000", "http://exa mple"])
def test_rp2_endpoint_url_must_be_an_http_url_with_a_host(value):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"RP2_ENDPOINT_URL": value})
    assert str(refused.value) == f"RP2_ENDPOINT_URL must be {FORM}, got {value!r}"


@pytest.mark.parametrize("value", ["http://127.0.0.1:5000", "https://sqs.us-east-1.amazonaws.com", "http://[::1]:4566", "http://localhost"])
def test_rp2_endpoint_url_takes_what_boto3_takes(value):
    assert Settings.from_env({"RP2_ENDPOINT_URL": value}).endpoint_url == value


def test_a_malformed_rp2_endpoint_url_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("RP2_ENDPOINT_URL", "notaurl")

    result = CliRunner().invoke(main, ["run", SAMPLE])

    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: RP2_ENDPOINT_URL must be {FORM}, got 'notaurl'\n")


@pytest.mark.parametrize(
    "arguments",
    [["run", SAMPLE, "--backend", "aws", "--stack", "rp2-x"], ["serve", "--backend", "aws"], ["deploy", "--stack", "rp2-x"]],
    ids=["run", "serve", "deploy"],
)
def test_a_malformed_endpoint_url_option_is_a_usage_error(arguments):
    result = CliRunner().invoke(main, [*arguments, "--endpoint-url", "notaurl"])

    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: Invalid value for '--endpoint-url': must be {FORM}, got 'notaurl'\n")


def test_no_credentials_for_a_reachable_endpoint_say_which_variables_to_set(monkeypatch, moto_server):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("RP2_ENDPOINT_URL", moto_server)

    result = CliRunner().invoke(main, ["run", SAMPLE])

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: no usable AWS credentials for {moto_server} (RP2_ENDPOINT_URL), region us-east-1: Unable to locate credentials; "
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a moto server takes any values), or AWS_PROFILE\n"
    )


def test_an_unreachable_endpoint_is_named_with_the_variable_that_gave_it(monkeypatch, closed_port_url):
    monkeypatch.setenv("RP2_ENDPOINT_URL", closed_port_url)

    result = CliRunner().invoke(main, ["run", SAMPLE])

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot reach {closed_port_url} (RP2_ENDPOINT_URL), region us-east-1: Could not connect to the endpoint URL: "
        f'"{closed_port_url}/"; start the server there or correct RP2_ENDPOINT_URL\n'
    )


def test_deploy_to_an_unreachable_endpoint_names_the_option(closed_port_url):
    result = CliRunner().invoke(main, ["deploy", "--stack", "rp2-x", "--endpoint-url", closed_port_url, "--artifact", SAMPLE])

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot reach {closed_port_url} (--endpoint-url), region us-east-1: Could not connect to the endpoint URL: "
        f'"{closed_port_url}/"; start the server there or correct --endpoint-url\n'
    )


def test_serve_on_missing_resources_says_which_command_creates_them(moto_server):
    result = CliRunner().invoke(main, ["serve", "--backend", "aws", "--endpoint-url", moto_server, "--port", "0"])

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: SQS queue rp2-inbox-local.fifo does not exist at {moto_server} (--endpoint-url), region us-east-1: "
        "create rp2's resources there with `rp2 deploy --stack NAME` (same RP2_DEPLOYMENT_ID and RP2_REGION), "
        "or serve with --backend moto, which creates them\n"
    )


def test_run_against_a_stack_that_does_not_exist_says_so(moto_server):
    result = CliRunner().invoke(main, ["run", SAMPLE, "--backend", "aws", "--stack", "rp2-missing", "--endpoint-url", moto_server])

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: DescribeStacks at {moto_server} (--endpoint-url), region us-east-1 failed: ValidationError: "
        "Stack with id rp2-missing does not exist\n"
    )
