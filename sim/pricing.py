"""A dated price table and the cost estimate built from a run's counted requests.

us-east-1 list prices as of 2025-08-01 (on-demand, no free tier, no volume tiers, no savings plans), from the
public pricing pages of each service. Update PRICE_DATE with the numbers.
"""

from __future__ import annotations

PRICE_DATE = "2025-08-01"
PRICE_REGION = "us-east-1"

PRICES = {
    # DynamoDB on-demand, Standard table class (after the November 2024 price cut)
    "dynamodb_wru": 0.625 / 1e6,  # per write request unit (1 KB)
    "dynamodb_rru": 0.125 / 1e6,  # per read request unit (4 KB strongly consistent)
    # S3 Standard requests (storage not included)
    "s3_put": 0.005 / 1e3,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1e3,  # GET, SELECT, HEAD
    # SQS FIFO: per request, each 64 KB chunk of payload a request
    "sqs_fifo_request": 0.50 / 1e6,
    # SNS standard topic: per publish (64 KB chunk); delivery to SQS and Lambda is free
    "sns_publish": 0.50 / 1e6,
    # Lambda, x86: requests, and duration in GB-seconds (INIT phase billed since 2025-08-01)
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    # API Gateway REST API, first 333 million requests a month
    "apigw_rest_request": 3.50 / 1e6,
    # EventBridge Scheduler invocations (the timeout job's schedule)
    "scheduler_invocation": 1.00 / 1e6,
}

NOT_INCLUDED = (
    "storage (DynamoDB, S3), data transfer, CloudWatch logs and metrics, KMS, Cognito token requests, "
    "the free tier, volume discounts"
)

# the event source mapping long-polls each queue while it is empty: 5 pollers, 20 s waits
ESM_POLLERS = 5
LONG_POLL_S = 20.0


def estimate(requests: dict[tuple[str, str], int], capacity: dict[str, float], lambda_requests: int, gb_seconds: float,
             api_requests: int, schedule_invocations: int, idle_polls: float) -> dict[str, float]:
    """Dollars per line item for the whole run."""
    def count(service: str, *operations: str) -> int:
        return sum(n for (s, op), n in requests.items() if s == service and (not operations or op in operations))

    sqs_requests = count("sqs") + idle_polls
    return {
        "dynamodb": capacity.get("dynamodb_wru", 0.0) * PRICES["dynamodb_wru"] + capacity.get("dynamodb_rru", 0.0) * PRICES["dynamodb_rru"],
        "s3": count("s3", "PutObject") * PRICES["s3_put"] + count("s3", "GetObject", "HeadBucket") * PRICES["s3_get"],
        "sqs": sqs_requests * PRICES["sqs_fifo_request"],
        "sns": count("sns", "Publish") * PRICES["sns_publish"],
        "lambda": lambda_requests * PRICES["lambda_request"] + gb_seconds * PRICES["lambda_gb_second"],
        "apigateway": api_requests * PRICES["apigw_rest_request"],
        "scheduler": schedule_invocations * PRICES["scheduler_invocation"],
    }
