"""The message factory: varied, valid pacs.008.001.08 messages, and invalid ones for one stated reason each."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

from engine.iso20022 import evaluate, profile_named, read_message
from engine.steps.process import decide
from sim.messages import EXPECTED_REASON, INVALID_KINDS, MessageFactory, iban_check_digits

AT = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
GENERIC = profile_named("generic")


def test_every_valid_message_reads_and_passes_every_rule_without_warnings():
    seen = Counter()
    for seed in (1, 2, 3):
        factory = MessageFactory(random.Random(seed), max_payments=4, bah_share=0.3)
        for n in range(400):
            generated = factory.next(AT + timedelta(seconds=n))
            message = read_message(generated.payload, max_bytes=184_320)
            assert message.definition == "pacs.008.001.08"
            assert [p.uetr for p in message.payments] == list(generated.uetrs)
            evaluation = evaluate(generated.payload, profile=GENERIC, now=AT, max_bytes=184_320)
            assert evaluation.accepted, (generated.index, evaluation.rejections)
            assert evaluation.warnings == ()
            seen["header"] += b"<AppHdr" in generated.payload
            seen["payments"] = max(seen["payments"], len(message.payments))
            seen.update(p.currency for p in message.payments)
    assert seen["header"] > 200
    assert seen["payments"] == 4
    assert {"EUR", "USD", "GBP", "JPY", "BHD", "KWD"} <= set(seen)


def test_messages_vary_and_repeat_only_with_the_seed():
    a = [MessageFactory(random.Random(5)).next(AT).payload for _ in range(1)]
    factory_a, factory_b = MessageFactory(random.Random(5)), MessageFactory(random.Random(5))
    first = [factory_a.next(AT).payload for _ in range(100)]
    assert first == [factory_b.next(AT).payload for _ in range(100)]
    assert len(set(first)) == 100
    assert a[0] == first[0]


def test_each_invalid_kind_is_rejected_with_its_reason():
    factory = MessageFactory(random.Random(11), invalid_share=1.0)
    valid = MessageFactory(random.Random(11))
    outcomes = Counter()
    # the duplicates need valid one-payment messages made a minute before
    for n in range(50):
        factory._single_valid.append((n, valid.next(AT).uetrs[0]))
        factory._single_valid_at.append((AT - timedelta(minutes=5)).timestamp())
    for n in range(700):
        generated = factory.next(AT)
        evaluation = evaluate(generated.payload, profile=GENERIC, now=AT, max_bytes=184_320)
        decision = decide(evaluation, AT)
        if generated.kind == "duplicate_uetr":
            assert decision.status.value == "ACSP"  # only the ledger's claim makes it a duplicate
            assert generated.duplicate_of is not None and generated.uetrs[0] in {u for _, u in factory._single_valid}
            outcomes[(generated.kind, "claim")] += 1
            continue
        assert (decision.status.value, decision.reason_code) == ("RJCT", EXPECTED_REASON[generated.kind]), generated.kind
        outcomes[(generated.kind, decision.reason_code)] += 1
    assert {kind for kind, _ in outcomes} == set(INVALID_KINDS)


def test_iban_check_digits_are_iso_13616():
    assert iban_check_digits("GB", "WEST12345698765432") == "82"
    assert iban_check_digits("DE", "370400440532013000") == "89"
    assert iban_check_digits("NL", "ABNA0417164300") == "91"
