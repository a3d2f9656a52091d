"""A real S3-compatible server for the off-site backup tests: moto's server mode (S3 over HTTP, the
protocol boto3 speaks to Amazon, signatures checked) on a free port of this machine.

``s3_storage`` (module scope) starts it with one bucket and an IAM user whose keys may use only that
bucket; from then on every request must be signed with known keys, so a wrong secret is refused with
S3's own SignatureDoesNotMatch. ``offsite_target`` saves those keys in the Backups settings (the real
store, secret encrypted) and empties the bucket after the test. A module takes both fixtures as:

    from . import s3_kit
    s3_storage, offsite_target = s3_kit.s3_storage, s3_kit.offsite_target
"""
import json
from dataclasses import dataclass
from functools import cached_property

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from siteconfig import store

from .browser import free_port

BUCKET = "hotspot-offsite-test"


@dataclass(frozen=True)
class S3Storage:
    url: str
    bucket: str
    access_key: str
    secret_key: str

    @cached_property
    def client(self):
        """A client with the bucket's keys, to look at what landed (made once: half a second each)."""
        return boto3.session.Session().client("s3", endpoint_url=self.url, region_name="us-east-1",
                                              aws_access_key_id=self.access_key,
                                              aws_secret_access_key=self.secret_key)

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def empty(self) -> None:
        for key in self.keys():
            self.client.delete_object(Bucket=self.bucket, Key=key)


@pytest.fixture(scope="module")
def s3_storage():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # Set up while the server still takes any keys: the bucket, and a user allowed only into it.
    anyone = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "setup",
              "aws_secret_access_key": "setup"}
    boto3.client("s3", **anyone).create_bucket(Bucket=BUCKET)
    iam = boto3.client("iam", **anyone)
    iam.create_user(UserName="hotspot-backups")
    iam.put_user_policy(UserName="hotspot-backups", PolicyName="offsite", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*",
                       "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]}))
    key = iam.create_access_key(UserName="hotspot-backups")["AccessKey"]
    # From now on every request is checked: signed by a known key, allowed by its policy.
    httpx.post(f"{url}/moto-api/reset-auth", content=b"0").raise_for_status()
    try:
        yield S3Storage(url, BUCKET, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        httpx.post(f"{url}/moto-api/reset-auth", content=b"inf")
        httpx.post(f"{url}/moto-api/reset")
        server.stop()


@pytest.fixture
def offsite_target(s3_storage, db):
    """The off-site copy switched on in the Backups settings, pointed at ``s3_storage``."""
    store.save("backups", {"offsite": True, "s3_endpoint": s3_storage.url, "s3_region": "us-east-1",
                           "s3_bucket": s3_storage.bucket, "s3_prefix": "isp-1/db/",
                           "s3_access_key": s3_storage.access_key, "s3_secret_key": s3_storage.secret_key})
    yield s3_storage
    s3_storage.empty()
