"""A dashboard on a temporary workspace, with users signed in through the JSON API (tokens) and the pages
(session cookie + CSRF token)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from storyreel.web.app import create_app


def api_client(app, username: str, password: str = "long enough password") -> TestClient:  # noqa: ANN001
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


def browser_client(app, username: str, password: str = "long enough password") -> TestClient:  # noqa: ANN001
    """A client that signs up through the register page: session cookie and CSRF cookie."""
    client = TestClient(app)
    response = client.post("/register", data={"csrftoken": csrf_token(client), "username": username, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def app(workspace: Path):  # noqa: ANN201
    """The dashboard with no job consumer (jobs stay queued): for everything but running jobs."""
    application = create_app(workspace, workers=0)
    with TestClient(application):  # runs the lifespan (migrations)
        yield application
