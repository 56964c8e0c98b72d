"""A handoff survives its queue: every field, any payload bytes, every decision shape."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from engine.ledger import Decision, PaymentOutcome, Status
from engine.steps.handoff import Handoff

text = st.none() | st.text(max_size=20)
outcomes = st.builds(PaymentOutcome, st.sampled_from(("ACSP", "ACSC", "RJCT")), text, text)
decisions = st.none() | st.builds(
    Decision,
    st.sampled_from(list(Status)),
    st.datetimes(timezones=st.just(timezone.utc)),
    text,
    text,
    st.lists(outcomes, max_size=4).map(tuple),
)


@given(
    payload=st.binary(max_size=200),
    version=st.integers(min_value=1, max_value=10**6),
    decision=decisions,
    warnings=st.lists(st.text(max_size=30), max_size=3).map(tuple),
)
def test_a_handoff_reads_back_equal(payload, version, decision, warnings):
    handoff = Handoff("5f0c2b1e-8a7d-4c3e-9b6a-0d1e2f3a4b5c", "pacs.008", datetime(2026, 12, 3, 20, 0, 1, 250000, tzinfo=timezone.utc),
                      payload, version, "client-7", decision, warnings)
    assert Handoff.from_json(handoff.to_json()) == handoff


def test_the_decision_encoding_names_every_field():
    """A field added to Decision or PaymentOutcome must be carried too."""
    decision = Decision(Status.ACSP, datetime(2026, 12, 3, tzinfo=timezone.utc), "AB01", "late", (PaymentOutcome("RJCT", "AM05", "dup"),))
    encoded = Handoff("t", "pacs.008", decision.decided_at, b"", decision=decision).to_json()
    for name in [f.name for f in fields(Decision)] + [f.name for f in fields(PaymentOutcome)]:
        assert f'"{name}":' in encoded
