"""`rp2 deploy --endpoint-url` into a moto server, then `rp2 run --backend aws --stack` against that stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from tests.conftest import SAMPLES
from tests.deploy.conftest import FAKE_AWS, small_artifact

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "RP2_ENDPOINT_URL", "RP2_REGION", "RP2_PEER_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RP2_DEPLOYMENT_ID", "srv")
    return dict(FAKE_AWS)


def test_deploy_then_run_a_file_through_the_stack(moto_server: str, environment: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    artifact = small_artifact(tmp_path / "rp2-lambda.zip")
    deployed = runner.invoke(main, ["deploy", "--stack", "rp2-srv", "--endpoint-url", moto_server, "--artifact", str(artifact)])
    assert deployed.exit_code == 0, deployed.output
    assert "stack rp2-srv: created, CREATE_COMPLETE" in deployed.output
    assert "LedgerTable  AWS::DynamoDB::GlobalTable" in deployed.output  # reported as not created by the endpoint
    assert "created regional table rp2-transaction-srv" in deployed.output

    ran = runner.invoke(main, ["run", str(SAMPLES / "upstream_pacs.008.xml"), "--backend", "aws", "--stack", "rp2-srv",
                               "--endpoint-url", moto_server])
    assert ran.exit_code == 0, ran.output
    assert "backend aws, region us-east-1, deployment srv, SLA 30 s" in ran.output
    trail = [line.split()[-1] for line in ran.output.splitlines() if line.startswith("   20")]
    assert trail == ["ACCP", "ACTC", "ACSP", "ACSC"]
    assert "<OrgnlMsgId>qE5yVJIHAPxNoLiC</OrgnlMsgId>" in ran.output
    assert "<TxSts>ACSC</TxSts>" in ran.output


def test_run_needs_a_stack_for_the_aws_backend(environment: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["run", str(SAMPLES / "upstream_pacs.008.xml"), "--backend", "aws"])
    assert result.exit_code == 2
    assert "--backend aws needs --stack" in result.output
