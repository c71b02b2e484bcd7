"""A dashboard on a temporary workspace, with users signed in through the JSON API (tokens) and the pages
(session cookie + CSRF token)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from storyreel.web.app import create_app


def api_client(app, username: str, password: str = "long enough password") -> TestClient:
    """A cookie-less client with a bearer token for a new account."""
    client = TestClient(app)
    assert client.post("/api/auth/register", json={"username": username, "password": password}).status_code == 201
    token = client.post("/api/auth/token", json={"username": username, "password": password}).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def csrf_token(client: TestClient) -> str:
    """The CSRF token the client's pages carry now — bound to its session, so read it again after signing in."""
    page = client.get("/login")
    return re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)


def browser_client(app, username: str, password: str = "long enough password") -> TestClient:
    """A client that signs up through the register page: session cookie and CSRF cookie."""
    client = TestClient(app)
    response = client.post("/register", data={"csrftoken": csrf_token(client), "username": username, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def app(workspace: Path):
    """The dashboard with no job consumer (jobs stay queued): for everything but running jobs."""
    application = create_app(workspace, workers=0)
    with TestClient(application):  # runs the lifespan (migrations)
        yield application


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(workspace: Path, *args: str, log: Path, env: dict | None = None):
    """A real ``storyreel serve`` process of ``workspace`` (extra CLI ``args``), its output in ``log``; yields its
    base URL once it accepts connections, and stops it on exit."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "storyreel", "serve", "--port", str(port), "--workspace", str(workspace), *args],
                                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"storyreel serve did not start: {log.read_text(errors='replace')[-2000:]}") from None
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)
