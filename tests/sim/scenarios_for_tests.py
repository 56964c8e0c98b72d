"""Scenarios the simulator's tests share."""

from __future__ import annotations

from tests.sim.conftest import scenario


def faulted(duration_s: float = 20, rate_tps: float = 10, seed: int = 1, with_faults: bool = True):
    """A short run with one fault of most kinds, so that every code path of the fault layer is exercised."""
    built = scenario(
        {
            "duration_s": duration_s,
            "seeds": [seed],
            "load": {"rate_tps": rate_tps, "invalid_share": 0.1, "max_payments": 2},
            "engine": {"visibility_timeout_s": 10, "timeout_schedule": "loop", "timeout_cadence_s": 15},
            "faults": [
                {"action": "aws:fis:inject-api-throttle-error", "start_s": 2, "duration_s": 6, "service": "dynamodb", "percentage": 40},
                {"action": "aws:fis:inject-api-internal-error", "start_s": 3, "duration_s": 5, "service": "s3", "percentage": 30},
                {"action": "aws:fis:inject-api-unavailable-error", "start_s": 4, "duration_s": 5, "service": "sqs", "percentage": 20},
                {"action": "rp2:worker-crash-after-calls", "start_s": 6, "duration_s": 6, "function": "release", "after_calls": 2, "percentage": 40},
                {"action": "rp2:duplicate-delivery", "start_s": 8, "duration_s": 6, "percentage": 40, "redeliver_after_s": 2},
                {"action": "rp2:api-latency", "start_s": 10, "duration_s": 5, "service": "sns", "added_p50_ms": 200, "added_p99_ms": 900},
                {"action": "aws:lambda:invocation-error", "start_s": 12, "duration_s": 3, "function": "process", "invocationPercentage": 30},
                {"action": "rp2:clock-skew", "start_s": 14, "duration_s": 3, "skew_s": 4},
            ] if with_faults else [],
        }
    )
    return built


def faulted_small():
    """About 90 transactions through API errors on DynamoDB, S3 and SQS, crashes and duplicates, in 8 s of load."""
    return scenario(
        {
            "duration_s": 8,
            "load": {"rate_tps": 10, "invalid_share": 0.1},
            "engine": {"visibility_timeout_s": 5, "timeout_schedule": "loop", "timeout_cadence_s": 10},
            "faults": [
                {"action": "aws:fis:inject-api-throttle-error", "start_s": 1, "duration_s": 4, "service": "dynamodb", "percentage": 50},
                {"action": "aws:fis:inject-api-internal-error", "start_s": 1, "duration_s": 4, "service": "s3", "percentage": 40},
                {"action": "aws:fis:inject-api-unavailable-error", "start_s": 2, "duration_s": 3, "service": "sns", "percentage": 60},
                {"action": "aws:fis:inject-api-unavailable-error", "start_s": 1, "duration_s": 3, "service": "sqs", "percentage": 30},
                {"action": "rp2:worker-crash-after-calls", "start_s": 2, "duration_s": 4, "function": "process", "after_calls": 2, "percentage": 50},
                {"action": "rp2:duplicate-delivery", "start_s": 3, "duration_s": 4, "percentage": 50, "redeliver_after_s": 1},
            ],
        }
    )
