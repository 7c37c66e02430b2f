"""A local S3 (moto's server on a loopback port): the object-storage tests and benchmarks run against it.

moto comes with the ``test`` extra. The credentials are made up; only this stand-in accepts them.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from geodem_cli.webserver import free_port

# Made-up credentials that only this stand-in accepts; tests look for them where they must never land.
ACCESS_KEY = "AKIATESTGEODEM7Q2X"
SECRET_KEY = "s3-SECRET-4f9b2c7e1a"
REGION = "eu-west-2"


@dataclass(frozen=True)
class LocalS3:
    """A running moto server: its endpoint and the AWS environment that points at it."""

    endpoint: str
    env: dict[str, str]

    def bucket(self, prefix: str = "geodem") -> str:
        """A new empty bucket; its name."""
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def upload(self, local: Path, url: str) -> None:
        """A local file, or every file under a local folder, to ``s3://bucket/prefix``."""
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
        for path in files:
            key = prefix if local.is_file() else f"{prefix.rstrip('/')}/{path.relative_to(local).as_posix()}"
            self.client().upload_file(str(path), bucket, key)

    def download(self, url: str, target: Path) -> list[Path]:
        """Every object under ``s3://bucket/prefix`` into ``target`` (keys as relative paths)."""
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        got = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                dest = target / obj["Key"][len(prefix) :].lstrip("/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                self.client().download_file(bucket, obj["Key"], str(dest))
                got.append(dest)
        return got

    def keys(self, url: str) -> list[str]:
        """The keys under ``s3://bucket/prefix``, relative to the prefix, sorted."""
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        out = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out += [o["Key"][len(prefix) :].lstrip("/") for o in page.get("Contents", [])]
        return sorted(out)


@contextlib.contextmanager
def local_s3() -> Iterator[LocalS3]:
    """moto's threaded S3 server on a free loopback port, stopped on exit."""
    from moto.server import ThreadedMotoServer

    # One line per request otherwise, in every failing test's captured log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }
    try:
        yield LocalS3(endpoint=endpoint, env=env)
    finally:
        server.stop()
