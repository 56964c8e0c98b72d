"""Microseconds per message on the ISO 20022 hot path — read (hardened parse, locate, XSD validate), business
rules of the profile, and the pacs.002 reply (built and validated) — beside the floor: lxml parse + XSD
validation alone on the same bytes. Median and min-max over several runs, for a 1-transaction and a
100-transaction pacs.008.

    .venv/bin/python bench/iso.py [--runs 7] [--seconds 0.5] [--profile generic] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from lxml import etree

from engine.iso20022 import build_status_report, evaluate, profile_named
from engine.iso20022.schemas import _compiled_schema

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
NOW = datetime(2025, 3, 17, 8, 0, tzinfo=timezone.utc)


def one_transaction() -> bytes:
    return (SAMPLES / "own_pacs008_v08_single.xml").read_bytes().replace(b"2025-03-14</IntrBkSttlmDt>", b"2025-03-17</IntrBkSttlmDt>")


def many_transactions(count: int) -> bytes:
    """The 3-transaction SCT sample grown to count transactions, with distinct ids and a matching total."""
    text = (SAMPLES / "own_pacs008_v08_multi3_sct.xml").read_text(encoding="utf-8")
    blocks = re.findall(r"    <CdtTrfTxInf>.*?</CdtTrfTxInf>\n", text, flags=re.S)
    grown, total = [], Decimal(0)
    for number in range(count):
        block = blocks[number % len(blocks)]
        block = re.sub(r"<InstrId>[^<]*</InstrId>", f"<InstrId>B{number:05d}</InstrId>", block)
        block = re.sub(r"<TxId>[^<]*</TxId>", f"<TxId>TX{number:06d}</TxId><UETR>{uuid.UUID(int=number + 1, version=4)}</UETR>", block)
        total += Decimal(re.search(r'<IntrBkSttlmAmt Ccy="EUR">([^<]*)<', block)[1])
        grown.append(block)
    start, end = text.index(blocks[0]), text.index(blocks[-1]) + len(blocks[-1])
    text = text[:start] + "".join(grown) + text[end:]
    text = text.replace("<NbOfTxs>3</NbOfTxs>", f"<NbOfTxs>{count}</NbOfTxs>").replace(">1120.00<", f">{total}<")
    return text.encode("utf-8")


_FLOOR_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def floor(raw: bytes) -> None:
    """lxml parse + XSD validation of the same bytes, nothing else (parser and schema built once)."""
    root = etree.fromstring(raw, _FLOOR_PARSER)
    if not _compiled_schema("pacs.008.001.08").validate(root):
        raise SystemExit("the benchmark message is not valid")


def full_path(raw: bytes, profile) -> None:
    evaluation = evaluate(raw, profile=profile, now=NOW, max_bytes=10_000_000)
    if not evaluation.accepted:
        raise SystemExit(f"the benchmark message is rejected: {evaluation.reason}")
    message = evaluation.message
    build_status_report(
        message,
        group_status="ACSP",
        payment_status={i: status for i, status in enumerate(evaluation.payment_status)},
        report_id="RP2BENCH",
        created_at=NOW,
        original_reference="bench",
        original_definition=message.definition,
    )


def microseconds(function, raw: bytes, seconds: float, *args) -> float:
    """CPU time of this process per call (process_time: other processes on a shared machine do not count)."""
    function(raw, *args)
    count, started = 0, time.process_time()
    while True:
        function(raw, *args)
        count += 1
        elapsed = time.process_time() - started
        if elapsed >= seconds:
            return elapsed / count * 1e6


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu unknown"


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):9.1f} ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5, help="measuring time per run")
    parser.add_argument("--profile", default="generic")
    parser.add_argument("--json", action="store_true", help="print one JSON object (every run's figure) instead of the text")
    args = parser.parse_args()
    profile = profile_named(args.profile)
    if not args.json:
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_model()}, "
              f"Python {platform.python_version()}, lxml {etree.__version__}, libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}, "
              f"{platform.system()} {platform.release()}")
        print(f"profile {profile.name}; {args.runs} runs of {args.seconds} s CPU each, floor and full path alternating; "
              "CPU µs per message, median (min-max)")
    messages = {}
    for name, raw in (("1 transaction", one_transaction()), ("100 transactions", many_transactions(100))):
        floors, fulls = [], []
        for _ in range(args.runs):
            floors.append(microseconds(floor, raw, args.seconds))
            fulls.append(microseconds(full_path, raw, args.seconds, profile))
        messages[name] = {"bytes": len(raw), "floor_us": floors, "full_us": fulls}
        if args.json:
            continue
        ratio = statistics.median(fulls) / statistics.median(floors)
        print(f"{name:17} {len(raw):7} bytes  floor (parse+XSD) {summary(floors)}  "
              f"full (read+rules+reply) {summary(fulls)}  = {ratio:.2f}x floor, {1e6 / statistics.median(fulls):,.0f} msg/s")
    if args.json:
        print(json.dumps({
            "machine": {"arch": platform.machine(), "cores": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
                        "os": f"{platform.system()} {platform.release()}"},
            "lxml": etree.__version__, "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
            "profile": profile.name, "runs": args.runs, "seconds": args.seconds, "messages": messages,
        }, sort_keys=True))

if __name__ == "__main__":
    main()
