"""The payload archive on one S3 bucket.

Replication (``stamp``, ``put_replica``; see engine.ports): where rp2 copies objects across regions itself, every put
also records its replication stamp in the object's metadata, and a copy from the other region is a put conditional
on the object read (If-Match on its ETag, If-None-Match when absent) that is skipped when the stored stamp is later.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from engine.adapters.aws.errors import any_failure_as_unavailable, error_code, outage_as_unavailable
from engine.ports import Stamp, StampSource

REPLICA_TIME = "rep-updatetime"
REPLICA_REGION = "rep-updateregion"
_MISSING = ("404", "NoSuchKey", "NotFound")
_PRECONDITION_FAILED = ("PreconditionFailed", "ConditionalRequestConflict")


def _metadata(stamp: Stamp) -> dict[str, str]:
    return {REPLICA_TIME: repr(stamp[0]), REPLICA_REGION: stamp[1]}


class S3Archive:
    """``stamp``: record each put's replication stamp; never on AWS, where S3 replication copies objects itself."""

    def __init__(self, client: Any, bucket: str, stamp: StampSource | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._stamp = stamp

    def put(self, key: str, body: bytes) -> None:
        extra = {"Metadata": _metadata(self._stamp())} if self._stamp is not None else {}
        with outage_as_unavailable("s3"):
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body, **extra)

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

    def put_replica(self, key: str, body: bytes, stamp: Stamp) -> bool:
        while True:
            try:
                with outage_as_unavailable("s3"):
                    head = self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as error:
                if error_code(error) not in _MISSING:
                    raise
                condition = {"IfNoneMatch": "*"}
            else:
                metadata = head.get("Metadata", {})
                if REPLICA_TIME in metadata and stamp <= (float(metadata[REPLICA_TIME]), metadata[REPLICA_REGION]):
                    return False
                condition = {"IfMatch": head["ETag"]}
            try:
                with outage_as_unavailable("s3"):
                    self._client.put_object(Bucket=self._bucket, Key=key, Body=body, Metadata=_metadata(stamp), **condition)
            except ClientError as error:
                if error_code(error) not in _PRECONDITION_FAILED:
                    raise
                continue  # written in between: read again
            return True
