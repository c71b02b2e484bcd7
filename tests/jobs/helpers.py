"""Waiting on jobs and reading what a job ran."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import pytest

from sqlalchemy import select

from storyreel.api import Workspace
from storyreel.jobs import service as jobs
from storyreel.store.models import Run

END = ("done", "failed", "canceled", "interrupted", "cost_limit")


def wait_for(job_id: str, workspace: Path, states: tuple[str, ...] = END, timeout: float = 240.0, until=None):  # noqa: ANN001, ANN201
    """Poll the job until its state is one of ``states`` (or ``until(view)`` holds); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    view = None
    while time.monotonic() < deadline:
        view = jobs.job(Workspace.open(workspace), job_id)
        if view is not None and (until(view) if until else view.state in states):
            return view
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {states}: {view}")


def successful_runs(sessions, project_id: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """(stage, unit) of every successful node run of the project, in order (repeats show re-runs)."""
    with sessions() as s:
        rows = s.execute(select(Run.stage, Run.unit).where(Run.project_id == project_id, Run.status == "success").order_by(Run.id)).all()
    return [tuple(r) for r in rows]


PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = f"redis://127.0.0.1:6379/{10 + int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0) % 6}"
"""A Redis database per test process (10–15): tests in two processes must not flush or consume each other's queue."""


@pytest.fixture
def scale_env(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A fresh PostgreSQL schema and Redis database for this test; the env the test and its workers share."""
    psycopg = pytest.importorskip("psycopg")
    redis = pytest.importorskip("redis")
    schema = f"storyreel_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        client = redis.Redis.from_url(REDIS)
        client.flushdb()
    except (psycopg.OperationalError, redis.ConnectionError) as exc:
        pytest.skip(f"PostgreSQL or Redis not reachable on 127.0.0.1: {exc}")
    env = {"STORYREEL_DATABASE_URL": f"{PG}?options=-csearch_path%3D{schema}", "STORYREEL_QUEUE_URL": REDIS,
           "STORYREEL_JOB_LEASE_S": "3"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    client.flushdb()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


BUCKET = "storyreel-test"


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A real S3 API on loopback (moto's server mode, in this process) with a fresh bucket; the env pointing
    storyreel (and its worker processes) at it through the standard AWS_* variables. Yields (env, boto3 client)."""
    pytest.importorskip("obstore")
    server_mod = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "storyreel-test", "AWS_SECRET_ACCESS_KEY": "storyreel-test-secret",
           "AWS_REGION": "us-east-1", "STORYREEL_STORAGE_URL": f"s3://{BUCKET}/deploy-{secrets.token_hex(3)}"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="storyreel-test",
                          aws_secret_access_key="storyreel-test-secret")
    client.create_bucket(Bucket=BUCKET)
    try:
        yield env, client
    finally:
        server.stop()


def bucket_keys(client, env: dict, under: str = "") -> dict[str, int]:  # noqa: ANN001
    """Key (relative to the storage URL's prefix) → size of every object in the test bucket under ``under``."""
    prefix = env["STORYREEL_STORAGE_URL"].split("/", 3)[3] + "/"
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + under):
        for item in page.get("Contents", []):
            found[item["Key"][len(prefix):]] = item["Size"]
    return found
