"""compose.yaml's S3 server: moto on port 9000 with the bucket OGMINT_S3_BUCKET already made,
until SIGTERM. Objects live in memory: a restart of this service loses them."""

import os
import signal

import boto3
from moto.server import ThreadedMotoServer

# Blocked before any thread starts (they inherit the mask), so sigwait() below receives them: as
# a container's process 1 this one would otherwise never see a SIGTERM.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
bucket = os.environ.get("OGMINT_S3_BUCKET", "ogmint")
server = ThreadedMotoServer(ip_address="0.0.0.0", port=9000)  # noqa: S104 - its own network
server.start()
boto3.client(
    "s3",
    endpoint_url="http://127.0.0.1:9000",
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
).create_bucket(Bucket=bucket)
print(f"S3 (moto) on :9000, bucket {bucket}", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
server.stop()
