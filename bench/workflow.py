"""Settled transactions per second through the Lambda handlers, on memory and on moto, and the AWS requests
each settled transaction costs (counted at botocore's before-call hook, so every API call is seen).

    .venv/bin/python bench/workflow.py [--transactions 200] [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from engine.local_runtime import LocalRuntime
from engine.settings import Settings
from engine.wiring import memory_ports

SAMPLE = (Path(__file__).resolve().parent.parent / "data" / "samples" / "upstream_pacs.008.xml").read_bytes()
SAMPLE_UETR = b"b94458f8-1f27-40e9-bf74-b07cbb339439"
SAMPLE_MSG_ID = b"qE5yVJIHAPxNoLiC"
CLIENT = "bench"
EVENT_SOURCE_CALLS = {"sqs.ReceiveMessage", "sqs.DeleteMessageBatch", "sqs.ChangeMessageVisibility"}
SETUP_CALLS = {"sqs.GetQueueUrl", "sns.ListTopics"}


@contextmanager
def runtime_on(backend: str, requests: Counter) -> Iterator[LocalRuntime]:
    settings = Settings()
    if backend == "memory":
        ports = memory_ports(settings)
        yield LocalRuntime(ports, ports.queues)
        return
    import boto3
    from moto import mock_aws

    from engine.adapters.aws import aws_ports
    from engine.adapters.aws.provision import provision

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")
    with mock_aws():
        session = boto3.Session(region_name=settings.region)
        provision(settings, session)
        session.events.register("before-call", lambda model, **_: requests.update([f"{model.service_model.service_name}.{model.name}"]))
        ports = aws_ports(settings, session=session)
        yield LocalRuntime(ports, ports.queues)


def unique_message(number: int) -> bytes:
    """The upstream sample with its own UETR and MsgId, so that no payment is a duplicate of another."""
    unique = SAMPLE.replace(SAMPLE_UETR, str(uuid.UUID(int=number, version=4)).encode())
    return unique.replace(SAMPLE_MSG_ID, b"BENCH%011d" % number)


def settle(runtime: LocalRuntime, count: int) -> list[str]:
    """Each client opens a transaction and posts its message; the workers run until the queues are empty."""
    ids = []
    for number in range(count):
        transaction_id = runtime.call("GET", "/uuid", identity=CLIENT, headers={"X-Message-Type": "pacs.008"}).body["transaction_id"]
        headers = {"X-Transaction-Id": transaction_id, "X-Message-Type": "pacs.008"}
        runtime.call("POST", "/inbox", identity=CLIENT, headers=headers, body=unique_message(number))
        ids.append(transaction_id)
    runtime.drain()
    return ids


def read_replies(runtime: LocalRuntime, ids: list[str]) -> None:
    """Each client reads its reply once, as the upstream's check does."""
    for transaction_id in ids:
        reply = runtime.call("POST", "/outbox", identity=CLIENT, headers={"X-Transaction-Id": transaction_id})
        if reply.status != 200 or "<TxSts>ACSC</TxSts>" not in reply.body["message"]:
            raise SystemExit(f"transaction {transaction_id} did not settle: {reply.body['message'][:300]}")


def measure(backend: str, count: int) -> tuple[float, Counter, Counter]:
    """Settled transactions per second (replies read included), the requests up to settlement, and those of the reads."""
    requests: Counter = Counter()
    with runtime_on(backend, requests) as runtime:
        started = time.perf_counter()
        ids = settle(runtime, count)
        to_settle = Counter(requests)
        read_replies(runtime, ids)
        elapsed = time.perf_counter() - started
    return count / elapsed, to_settle, requests - to_settle


def per_transaction(requests: Counter, count: int, title: str) -> None:
    engine = {op: n for op, n in requests.items() if op not in EVENT_SOURCE_CALLS and op not in SETUP_CALLS}
    print(f"{title}: {sum(engine.values()) / count:.2f}")
    for operation, n in sorted(engine.items(), key=lambda item: (-item[1], item[0])):
        print(f"    {operation:32} {n / count:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object (every run's figure) instead of the text")
    args = parser.parse_args()
    if not args.json:
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}")
        print(f"{args.transactions} transactions of the upstream sample per run, {args.repeats} runs; median (min-max)")
    rates_by_backend = {}
    for backend in ("memory", "moto"):
        rates = []
        for _ in range(args.repeats):
            rate, to_settle, reads = measure(backend, args.transactions)
            rates.append(rate)
        rates_by_backend[backend] = rates
        if not args.json:
            print(f"workflow settled tx/s, {backend:6}: {statistics.median(rates):8.1f} ({min(rates):.1f}-{max(rates):.1f})")
    if args.json:
        print(json.dumps(as_json(args.transactions, args.repeats, rates_by_backend, to_settle, reads), sort_keys=True))
        return
    per_transaction(to_settle, args.transactions, "AWS requests per settled transaction, engine code, GET /uuid to ACSC")
    per_transaction(reads, args.transactions, "AWS requests per POST /outbox read")
    polling = sum(n for op, n in (to_settle + reads).items() if op in EVENT_SOURCE_CALLS)
    print(f"not counted above: queue polling by Lambda's event source mappings, {polling / args.transactions:.2f} per transaction here")


def as_json(count: int, repeats: int, rates: dict[str, list[float]], to_settle: Counter, reads: Counter) -> dict:
    """The --json output: every run's rate by backend, and the requests of the last moto run per transaction."""
    def engine_calls(requests: Counter) -> dict[str, float]:
        return {op: n / count for op, n in sorted(requests.items()) if op not in EVENT_SOURCE_CALLS and op not in SETUP_CALLS}

    settle_ops, read_ops = engine_calls(to_settle), engine_calls(reads)
    polling = sum(n for op, n in (to_settle + reads).items() if op in EVENT_SOURCE_CALLS)
    return {
        "machine": {"arch": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "os": f"{platform.system()} {platform.release()}"},
        "transactions": count,
        "repeats": repeats,
        "settled_tx_per_s": rates,
        "aws_requests_per_settled_tx": sum(settle_ops.values()),
        "aws_requests_per_settled_tx_by_operation": settle_ops,
        "aws_requests_per_outbox_read": sum(read_ops.values()),
        "aws_requests_per_outbox_read_by_operation": read_ops,
        "event_source_polls_per_tx": polling / count,
    }

if __name__ == "__main__":
    main()
