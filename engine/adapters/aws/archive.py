"""The payload archive on one S3 bucket."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from engine.adapters.aws.errors import any_failure_as_unavailable, error_code, outage_as_unavailable


class S3Archive:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        with outage_as_unavailable("s3"):
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes | None:
        try:
            with outage_as_unavailable("s3"):
                response = self._client.get_object(Bucket=self._bucket, Key=key)
                return response["Body"].read()
        except ClientError as error:
            if error_code(error) == "NoSuchKey":
                return None
            raise

    def check(self) -> None:
        with any_failure_as_unavailable("s3"):
            self._client.head_bucket(Bucket=self._bucket)
