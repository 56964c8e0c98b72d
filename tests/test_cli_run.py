"""rp2 run: what the trail says a cancellation request's workflow ended with."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from engine.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def test_a_refused_cancellation_request_reads_as_answered_with_its_resolution_not_as_a_settled_payment():
    result = CliRunner().invoke(main, ["run", "--backend", "memory", "--message-type", "camt.056",
                                       str(SAMPLES / "own_camt056_v08_cancel_request.xml")])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    statuses = [line.split()[-1] for line in lines if line[:4].isdigit()]
    assert statuses == ["ACCP", "ACTC", "ACSP", "ACSC"]
    at = lines.index("(the cancellation request's own workflow: ACSC means the request was answered, not a payment settled)")
    assert lines[at + 1:at + 3] == ["resolution: RJCR", "payment 1: RJCR NOOR (no payment with this reference was received)"]
    assert not any(line.startswith("reason:") for line in lines)
