"""The dashboard's security suite (issue 24), as tables of requests and the answers they must get.

alice owns a made project (two candidates per shot), a job and a named API token; bob and mallory are other
users. Every route of the site is listed once in :data:`ROUTES`; the tables run each of them:

- as another user (IDOR): 404 everywhere, exactly like a missing project, and alice's work unchanged after;
- every state-changing request with cookies without a CSRF token, with a wrong one, another session's, one
  made before sign-in, and from another origin: 403, and nothing changed; with the right token the request
  passes the check (a positive control on a missing project answers 404, not 403);
- multipart bodies without and with a boundary, and oversized bodies: never a 5xx, 413 over the route's limit;
- throttling, logout and token revocation across two real server processes, forwarded-header trust, hostile
  uploads (deep nesting, huge, binary, odd names), API error shapes, file modes.

No answer is a 5xx and no error is logged during the suite (:func:`no_errors_logged`); the two real servers'
output is read for tracebacks.
"""

from __future__ import annotations

import json
import logging
import re
import stat
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from storyreel.store.accounts import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER_AND_ADDRESS
from storyreel.web import csrf
from storyreel.web.app import create_app
from tests.conftest import INPUTS
from tests.web.conftest import csrf_token, serving

pytestmark = pytest.mark.e2e

PASSWORD = "long enough password"
BRIEF = (INPUTS / "ad-brief.txt").read_text(encoding="utf-8")

# (method, path, body): {p} alice's project, {s} one of its shots, {j} its job, {t} alice's token id.
# A dict body is JSON for /api and a form for pages.
ROUTES: list[tuple[str, str, dict | None]] = [
    ("GET", "/api/projects/{p}", None),
    ("GET", "/api/projects/{p}/status", None),
    ("GET", "/api/projects/{p}/quality", None),
    ("GET", "/api/projects/{p}/video", None),
    ("GET", "/api/projects/{p}/subtitles.vtt", None),
    ("GET", "/api/projects/{p}/thumbnail", None),
    ("GET", "/api/projects/{p}/images/{s}", None),
    ("GET", "/api/projects/{p}/images/{s}/candidates/1", None),
    ("GET", "/api/projects/{p}/qc", None),
    ("PATCH", "/api/projects/{p}/shots/{s}", {"narration": "bob was here"}),
    ("POST", "/api/projects/{p}/shots/{s}/pick", {"candidate": 2}),
    ("POST", "/api/projects/{p}/make", None),
    ("POST", "/api/projects/{p}/regenerate", {"shots": []}),
    ("DELETE", "/api/projects/{p}", None),
    ("GET", "/api/jobs/{j}", None),
    ("POST", "/api/jobs/{j}/cancel", None),
    ("POST", "/api/jobs/{j}/resume", None),
    ("GET", "/api/jobs/{j}/events", None),
    ("DELETE", "/api/auth/tokens/{t}", None),
    ("GET", "/projects/{p}", None),
    ("GET", "/projects/{p}/summary", None),
    ("GET", "/projects/{p}/stale", None),
    ("GET", "/projects/{p}/quality", None),
    ("GET", "/projects/{p}/regenerate", None),
    ("POST", "/projects/{p}/make", {}),
    ("POST", "/projects/{p}/regenerate", {"shots": "ch01-s01"}),
    ("POST", "/projects/{p}/delete", {}),
    ("POST", "/projects/{p}/shots/{s}", {"narration": "bob was here"}),
    ("POST", "/projects/{p}/shots/{s}/pick", {"candidate": "2"}),
    ("GET", "/projects/{p}/shots/{s}/provenance", None),
    ("GET", "/jobs/{j}/log", None),
    ("POST", "/jobs/{j}/cancel", {}),
    ("POST", "/jobs/{j}/resume", {}),
    ("POST", "/me/tokens/{t}/revoke", {}),
]
"""Every route that names something a user owns."""

OPEN_FORMS: list[tuple[str, dict]] = [
    ("/new", {"text": BRIEF[:300], "title": "csrf"}),
    ("/new/estimate", {"text": BRIEF[:300]}),
    ("/me/tokens", {"name": "csrf probe", "days": "30"}),
    ("/api/projects", {"text": BRIEF[:300]}),
    ("/api/auth/tokens", {"name": "csrf probe api"}),
]
"""State-changing routes that name nothing owned (checked with alice's cookies)."""
SIGN_IN_FORMS = ("/login", "/register", "/logout")
UPLOADS = {"/new", "/new/estimate", "/api/projects", "/api/projects/upload"}
"""Routes with the larger body limit (:data:`storyreel.web.csrf.UPLOAD_BODY`)."""


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_errors_logged():  # noqa: ANN201
    """Every test here: nothing logged at ERROR (a handler's traceback included)."""
    handler = _Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    assert not handler.records, [f"{r.name}: {r.getMessage()}" for r in handler.records]


def _client(app, address: str = "testclient") -> TestClient:  # noqa: ANN001
    """A client that sees a server error as a 500 answer (then asserted away), never as a test crash."""
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def _sign_up(app, username: str, address: str = "testclient") -> TestClient:  # noqa: ANN001
    page = _client(app, address)
    made = page.post("/register", data={"csrftoken": csrf_token(page), "username": username, "password": PASSWORD},
                     follow_redirects=False)
    assert made.status_code == 303, made.text
    return page


def _bearer(app, username: str, name: str) -> TestClient:  # noqa: ANN001
    client = _client(app)
    got = client.post("/api/auth/token", json={"username": username, "password": PASSWORD, "name": name})
    assert got.status_code == 200, got.text
    client.headers["Authorization"] = f"Bearer {got.json()['access_token']}"
    return client


@pytest.fixture(scope="module")
def site(tmp_path_factory):  # noqa: ANN201
    """alice's made project (the ad brief, two candidates per shot), her token and pages; bob's too."""
    from storyreel.api import Workspace
    from storyreel.jobs import service as jobs
    from storyreel.jobs.runner import run_job

    workspace = tmp_path_factory.mktemp("security") / "ws"
    app = create_app(workspace, workers=0)
    with TestClient(app):
        alice_page = _sign_up(app, "alice")
        made = alice_page.post("/new", data={"csrftoken": csrf_token(alice_page), "text": BRIEF, "title": "Tide & Stone",
                                             "candidates": "2"}, follow_redirects=False)
        assert made.status_code == 303, made.text
        pid = made.headers["location"].rsplit("/", 1)[1]
        job = jobs.active(Workspace.open(workspace), pid)
        assert run_job(job.id, workspace) == "done"
        alice = _bearer(app, "alice", "laptop")
        shot = alice.get(f"/api/projects/{pid}").json()["storyboard"]["chapters"][0]["shots"][0]["shot_id"]
        token_id = alice.get("/api/auth/tokens").json()["items"][0]["id"]
        bob_page = _sign_up(app, "bob")
        bob = _bearer(app, "bob", "bob's laptop")
        ids = {"p": pid, "s": shot, "j": job.id, "t": str(token_id)}
        yield {"app": app, "workspace": workspace, "alice": alice, "alice_page": alice_page, "bob": bob, "bob_page": bob_page,
               "ids": ids}


def _fill(path: str, ids: dict) -> str:
    return path.format(**ids)


def _send(client: TestClient, method: str, path: str, body: dict | None, *, token: str | None = None,
          headers: dict | None = None) -> httpx.Response:
    """``body`` as JSON for /api, as a form (with ``token`` as its CSRF field) for pages."""
    headers = dict(headers or {})
    if path.startswith("/api/"):
        if token is not None:
            headers[csrf.HEADER] = token
        return client.request(method, path, json=body, headers=headers, follow_redirects=False)
    form = dict(body or {})
    if token is not None:
        form["csrftoken"] = token
    return client.request(method, path, data=form if method != "GET" else None, headers=headers, follow_redirects=False)


def _alice_intact(site: dict) -> None:
    """alice's project, shot, job and token are as she left them."""
    alice, ids = site["alice"], site["ids"]
    project = alice.get(f"/api/projects/{ids['p']}")
    assert project.status_code == 200, "alice's project is gone"
    shot = project.json()["storyboard"]["chapters"][0]["shots"][0]
    assert "bob was here" not in json.dumps(project.json())
    assert shot["shot_id"] == ids["s"]
    quality = alice.get(f"/api/projects/{ids['p']}/quality").json()
    assert all(s["picked_by"] == "auto" for s in quality["shots"]), "a pick was made for alice"
    assert alice.get(f"/api/jobs/{ids['j']}").json()["state"] == "done"
    assert [j["kind"] for j in alice.get("/api/jobs").json()["items"]] == ["make"], "a job was queued for alice"
    assert alice.get(f"/api/projects/{ids['p']}/status").json()["stale"] == []
    assert alice.get("/api/me").status_code == 200, "alice's token was revoked"


# ------------------------------------------------------------------------------------------ IDOR
def test_alice_reaches_every_route_of_hers(site) -> None:  # noqa: ANN001
    """The control of the next test: the reads answer alice 200 (so a 404 for bob means the ownership check)."""
    for method, path, _body in ROUTES:
        if method != "GET" or path.endswith("/events"):
            continue
        client = site["alice"] if path.startswith("/api/") else site["alice_page"]
        answer = client.get(_fill(path, site["ids"]))
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])


@pytest.mark.parametrize("who", ["api", "page"])
def test_every_route_answers_another_user_404_and_changes_nothing(site, who: str) -> None:  # noqa: ANN001
    bob = site["bob"] if who == "api" else site["bob_page"]
    token = csrf_token(site["bob_page"]) if who == "page" else None
    for method, path, body in ROUTES:
        if who == "api" and not path.startswith("/api/"):
            continue
        answer = _send(bob, method, _fill(path, site["ids"]), body, token=token)
        assert answer.status_code == 404, (who, method, path, answer.status_code, answer.text[:200])
        if not path.startswith("/api/"):
            assert answer.headers["content-type"].startswith("text/html") and "<h1" in answer.text
    assert site["bob"].get("/api/projects").json()["total"] == 0
    assert site["bob"].get("/api/jobs").json()["items"] == []
    assert site["bob"].get(f"/api/jobs?project_id={site['ids']['p']}").json()["items"] == []
    _alice_intact(site)


# ------------------------------------------------------------------------------------------ CSRF
def _unsafe_with_cookies(site: dict) -> list[tuple[str, str, dict | None]]:
    owned = [(m, _fill(p, site["ids"]), b) for m, p, b in ROUTES if m != "GET"]
    return owned + [("POST", path, body) for path, body in OPEN_FORMS]


def test_every_state_changing_request_with_cookies_needs_this_sessions_token(site) -> None:  # noqa: ANN001
    app, alice = site["app"], site["alice_page"]
    right, foreign = csrf_token(alice), csrf_token(site["bob_page"])
    anonymous = _client(app)
    anonymous.get("/login")
    before_sign_in = csrf_token(anonymous)  # a token of the page alice had before signing in
    cases = {"none": (None, {}), "wrong": ("0" * 64, {}), "another session's": (foreign, {}),
             "made before sign-in": (before_sign_in, {}), "from another origin": (right, {"Origin": "https://evil.example"}),
             "referred from another origin": (right, {"Referer": "https://evil.example/form"}),
             "opaque origin": (right, {"Origin": "null"})}
    for method, path, body in _unsafe_with_cookies(site):
        for case, (token, headers) in cases.items():
            answer = _send(alice, method, path, body, token=token, headers=headers)
            assert answer.status_code == 403, (case, method, path, answer.status_code, answer.text[:200])
            if path.startswith("/api/"):
                assert set(answer.json()) == {"detail"} and "reload the page" in answer.json()["detail"]
            else:
                assert "reload the page" in answer.text and answer.headers["content-type"].startswith("text/html")
    _alice_intact(site)
    assert [t["name"] for t in site["alice"].get("/api/auth/tokens").json()["items"]] == ["laptop"]
    assert site["alice"].get("/api/projects").json()["total"] == 1


def test_the_right_token_passes_the_check(site) -> None:  # noqa: ANN001
    """Positive control: the same requests with the session's token, on a project that does not exist, get past
    the check to the route (404), and the open forms do what they do."""
    alice = site["alice_page"]
    right = csrf_token(alice)
    missing = {**site["ids"], "p": "no-such-project", "j": "0" * 32, "t": "999999"}
    for method, path, body in ROUTES:
        if method == "GET":
            continue
        answer = _send(alice, method, _fill(path, missing), body, token=right, headers={"Origin": "http://testserver"})
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text[:200])
    estimate = _send(alice, "POST", "/new/estimate", {"text": BRIEF[:300]}, token=right)
    assert estimate.status_code == 200 and "shot" in estimate.text
    named = _send(alice, "POST", "/me/tokens", {"name": "control", "days": "30"}, token=right)
    assert named.status_code == 201 and "control" in named.text
    gone = next(t["id"] for t in site["alice"].get("/api/auth/tokens").json()["items"] if t["name"] == "control")
    assert _send(alice, "POST", f"/me/tokens/{gone}/revoke", {}, token=right).status_code == 303


def test_sign_in_forms_need_a_token_even_without_cookies(site) -> None:  # noqa: ANN001
    """Login CSRF: a cross-site form signing the victim into the attacker's account arrives without cookies
    (SameSite) — the token is required all the same, and another origin is refused."""
    app = site["app"]
    for path in SIGN_IN_FORMS:
        fresh = _client(app)
        answer = fresh.post(path, data={"username": "mallory", "password": PASSWORD}, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
        assert "set-cookie" not in answer.headers or "storyreel_session" not in answer.headers["set-cookie"]
        page = _client(app)
        token = csrf_token(page)
        cross = page.post(path, data={"csrftoken": token, "username": "mallory", "password": PASSWORD},
                          headers={"Origin": "https://evil.example"}, follow_redirects=False)
        assert cross.status_code == 403, (path, cross.status_code)
    page = _client(app)
    made = page.post("/register", data={"csrftoken": csrf_token(page), "username": "mallory", "password": PASSWORD},
                     headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert made.status_code == 303  # the same form from this site works


def test_bearer_and_cookieless_api_calls_need_no_csrf_token(site) -> None:  # noqa: ANN001
    alice = site["alice"]
    assert alice.post("/api/auth/tokens", json={"name": "ci runner", "days": 30}).status_code == 201
    assert alice.post("/api/auth/tokens", json={"name": "ci runner"}).status_code == 422  # a live token has that name
    anonymous = _client(site["app"])
    assert anonymous.post("/api/projects", json={"text": "x"}).status_code == 401  # no cookies: to the login check


# ------------------------------------------------------------------------------------------ bodies
def _every_post_route(ids: dict) -> list[str]:
    owned = sorted({_fill(p, ids) for m, p, _ in ROUTES if m == "POST"})
    return owned + [path for path, _ in OPEN_FORMS] + ["/api/projects/upload", "/api/auth/register", "/api/auth/token",
                                                          *SIGN_IN_FORMS, "/nowhere"]


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=xyz",
                                          "multipart/form-data; boundary=", "application/x-www-form-urlencoded",
                                          "application/json", "text/plain"])
def test_odd_bodies_on_every_route_never_fail_the_server(site, content_type: str) -> None:  # noqa: ANN001
    """Issue 24 item 2a: any POST carrying a cookie and a multipart type answered 500 on every route but /new."""
    bodies = [b"", b"x", b"--xyz\r\nContent-Disposition: form-data; name=\"csrftoken\"\r\n\r\nabc\r\n--xyz--\r\n",
              b"--xyz\r\nContent-Disposition: form-data\r\n\r\n\xff\xfe\r\n--xyz", b"\x00" * 100, b"%%%%=&&=="]
    missing = {**site["ids"], "p": "no-such-project", "j": "0" * 32, "t": "999999"}  # a bearer needs no CSRF token:
    for client, ids in ((site["alice_page"], site["ids"]), (_client(site["app"]), site["ids"]), (site["alice"], missing)):
        for path in _every_post_route(ids):
            for body in bodies:
                answer = client.post(path, content=body, headers={"Content-Type": content_type}, follow_redirects=False)
                assert answer.status_code < 500, (path, content_type, body[:20], answer.status_code, answer.text[:300])
                assert "Traceback" not in answer.text
    _alice_intact(site)


def test_bodies_over_the_routes_limit_are_refused_before_they_are_read(site) -> None:  # noqa: ANN001
    """Issue 24 item 5: a 32 MB urlencoded body was read whole. Every route now stops at its limit: 413, before
    the route runs (a route that reads no body would otherwise act and only then be answered 413)."""
    over_small = b"a=" + b"b" * csrf.SMALL_BODY
    over_upload = b"a=" + b"b" * csrf.UPLOAD_BODY
    for client in (site["alice_page"], site["alice"]):
        for path in _every_post_route(site["ids"]):
            big = over_upload if path in UPLOADS else over_small
            answer = client.post(path, content=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert answer.status_code == 413, (path, answer.status_code, answer.text[:200])
            if path.startswith("/api/"):
                assert set(answer.json()) == {"detail"} and "too large" in answer.json()["detail"]
            else:
                assert "too large" in answer.text and answer.headers["content-type"].startswith("text/html")
            assert answer.headers["x-content-type-options"] == "nosniff"
    _alice_intact(site)  # refused before the route ran: no job queued, no token revoked, nothing deleted
    token = csrf_token(site["alice_page"])
    pasted = "The tide comes in over the stone. " * 40_000  # 1.36 MB: Starlette's 1 MB form part limit used to refuse it
    long = site["alice_page"].post("/new/estimate", data={"csrftoken": token, "text": pasted})
    assert long.status_code == 200 and "200,000" in long.text  # the script's own limit, said in words
    assert not long.text.lstrip().startswith("{")


# ------------------------------------------------------------------------------------------ throttling
def test_wrong_passwords_never_lock_the_owner_out_and_spraying_is_limited(site) -> None:  # noqa: ANN001
    app = site["app"]
    _sign_up(app, "dora")
    attacker = _client(app, "203.0.113.50")
    table = [("dora", "wrong password!", 401)] * MAX_FAILURES_PER_USER_AND_ADDRESS + [("dora", PASSWORD, 429)]
    for username, password, expected in table:
        answer = attacker.post("/api/auth/token", json={"username": username, "password": password})
        assert answer.status_code == expected, (username, answer.status_code)
    assert int(answer.headers["Retry-After"]) > 0
    for address in ("198.51.100.7", "2001:db8::1"):  # the owner elsewhere, at once
        assert _client(app, address).post("/api/auth/token", json={"username": "dora", "password": PASSWORD}).status_code == 200
    sprayer = _client(app, "203.0.113.51")
    answers = [sprayer.post("/api/auth/token", json={"username": f"user{i}", "password": "Winter2026!"}).status_code
               for i in range(MAX_FAILURES_PER_ADDRESS + 1)]
    assert answers == [401] * MAX_FAILURES_PER_ADDRESS + [429]
    page = _client(app, "203.0.113.51")
    refused = page.post("/login", data={"csrftoken": csrf_token(page), "username": "dora", "password": PASSWORD})
    assert refused.status_code == 429 and "<form" in refused.text and PASSWORD not in refused.text


def test_forwarded_for_counts_only_from_trusted_proxies(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Without STORYREEL_TRUSTED_PROXIES the header is ignored (a local caller cannot dodge the throttle); with it,
    only the listed proxies' header counts."""
    def failures(app, address: str, spoofed: bool) -> list[int]:  # noqa: ANN001
        client = _client(app, address)
        return [client.post("/api/auth/token", json={"username": "erin", "password": "wrong password!"},
                            headers={"X-Forwarded-For": f"192.0.2.{i}" if spoofed else "192.0.2.1"}).status_code
                for i in range(MAX_FAILURES_PER_USER_AND_ADDRESS + 1)]

    limit = MAX_FAILURES_PER_USER_AND_ADDRESS
    plain = create_app(tmp_path / "plain", workers=0)
    with TestClient(plain):
        assert failures(plain, "127.0.0.1", spoofed=True) == [401] * limit + [429]  # one address, whatever it claims
    monkeypatch.setenv("STORYREEL_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.2")
    proxied = create_app(tmp_path / "proxied", workers=0)
    with TestClient(proxied):
        assert failures(proxied, "10.0.0.2", spoofed=True) == [401] * (limit + 1)  # each client behind the proxy apart
        assert failures(proxied, "10.0.0.2", spoofed=False) == [401] * (limit - 1) + [429, 429]  # one client: throttled
        assert failures(proxied, "203.0.113.60", spoofed=True) == [401] * limit + [429]  # not a proxy: header ignored


# ------------------------------------------------------------------------------------------ sessions across processes
def test_logout_and_token_revoke_count_at_once_on_every_process(tmp_path: Path) -> None:
    """Issue 24 items 3 and 4: two server processes of one workspace; sign out (or revoke) on one, and the very
    next request to the other is refused. The servers' output has no traceback."""
    workspace = tmp_path / "ws"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with serving(workspace, "--workers", "0", "--processes", "1", log=logs[0]) as a, \
            serving(workspace, "--workers", "0", "--processes", "1", log=logs[1]) as b:
        with httpx.Client(base_url=a) as on_a, httpx.Client(base_url=b) as on_b:
            login = on_a.get("/register")
            token = re.search(r'name="csrftoken" value="([^"]+)"', login.text).group(1)
            assert on_a.post("/register", data={"csrftoken": token, "username": "ivy", "password": PASSWORD}).status_code == 303
            on_b.cookies.update(on_a.cookies)
            assert on_b.get("/me").status_code == 200
            page_token = re.search(r'name="csrftoken" value="([^"]+)"', on_a.get("/me").text).group(1)
            api = httpx.post(f"{a}/api/auth/token", json={"username": "ivy", "password": PASSWORD, "name": "script"}).json()
            bearer = {"Authorization": f"Bearer {api['access_token']}"}
            assert httpx.get(f"{b}/api/me", headers=bearer).status_code == 200
            listed = httpx.get(f"{a}/api/auth/tokens", headers=bearer).json()["items"]
            assert [(t["name"], t["last_used_at"] is not None) for t in listed] == [("script", True)]
            assert "access_token" not in listed[0] and api["access_token"] not in json.dumps(listed)

            assert httpx.delete(f"{a}/api/auth/tokens/{listed[0]['id']}", headers=bearer).status_code == 204
            assert [httpx.get(f"{b}/api/me", headers=bearer).status_code for _ in range(5)] == [401] * 5

            assert on_a.post("/logout", data={"csrftoken": page_token}).status_code == 303
            answers = [on_b.get("/me").status_code for _ in range(12)]
            assert answers == [303] * 12, answers  # to the login page, every time, at once
    for log in logs:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text and "ERROR" not in text, text[-2000:]


# ------------------------------------------------------------------------------------------ hostile uploads
def _projects(workspace: Path) -> set[str]:
    folder = workspace / "projects"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("nested.json", ('{"chapters": ' + "[" * 3000 + "]" * 3000 + "}").encode(), 422),
    ("nested-objects.json", ('{"a":' * 3000 + "1" + "}" * 3000).encode(), 422),
    ("huge.txt", b"word " * 500_000, 413),
    ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, 422),
    ("latin1.txt", "Café au lait, crème brûlée.".encode("latin-1") * 20, 422),
    ("empty.txt", b"", 422),
    ("script.exe", b"MZ\x90\x00" * 100, 422),
])
def test_hostile_uploads_are_refused_with_a_reason_and_leave_nothing(site, name: str, data: bytes, expected: int) -> None:  # noqa: ANN001
    """Issue 24 item 2b: a chapter JSON nested 3,000 deep (6 KB) raised RecursionError and left a project folder
    without its row."""
    workspace, alice = site["workspace"], site["alice"]
    before, total = _projects(workspace), alice.get("/api/projects").json()["total"]
    answer = alice.post("/api/projects/upload", files={"file": (name, data, "application/octet-stream")})
    assert answer.status_code == expected, (name, answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["detail"] and "Traceback" not in body["detail"] and len(answer.text) < 2000
    page = site["alice_page"]
    form = page.post("/new", data={"csrftoken": csrf_token(page)}, files={"file": (name, data, "text/plain")}, follow_redirects=False)
    assert form.status_code == expected and 'class="error field"' in form.text
    assert _projects(workspace) == before and alice.get("/api/projects").json()["total"] == total


@pytest.mark.parametrize("name", ["../../../etc/passwd.txt", "..\\..\\win.ini.txt", "a\x00b.txt", "CON.txt", "\u202etxt.exe.txt",
                                  ".hidden.txt", "x" * 300 + ".txt", "spaced name (1).md", "日本語.txt"])
def test_odd_file_names_stay_inside_the_workspace(site, name: str) -> None:  # noqa: ANN001
    workspace, alice = site["workspace"], site["alice"]
    answer = alice.post("/api/projects/upload", files={"file": (name, BRIEF.encode(), "text/plain")})
    assert answer.status_code in (201, 422), (name, answer.status_code, answer.text[:300])
    if answer.status_code == 201:
        made = answer.json()
        folder = workspace / "projects" / made["id"]
        assert folder.is_dir() and folder.resolve().parent == (workspace / "projects").resolve()
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", made["id"]), made["id"]
        assert alice.delete(f"/api/projects/{made['id']}").status_code == 204
    else:
        assert answer.json()["field"]
    assert not (workspace.parent / "etc").exists() and not list(workspace.parent.glob("*win.ini*"))


# ------------------------------------------------------------------------------------------ API errors
def test_api_errors_are_plain_and_truthful(site) -> None:  # noqa: ANN001
    """Issue 24 item 6 and 10: no stray ``headers`` field, 401 for wrong credentials, HEAD like GET, a password
    never echoed, unknown routes as a page for people and JSON for the API."""
    anonymous = _client(site["app"])
    wrong = anonymous.post("/api/auth/token", json={"username": "alice", "password": "not her password"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer" and set(wrong.json()) == {"detail"}
    unauth = anonymous.get("/api/me")
    assert unauth.status_code == 401 and set(unauth.json()) == {"detail"}
    secret = "s3cret-" * 50
    long = anonymous.post("/api/auth/token", json={"username": "alice", "password": secret})
    assert long.status_code == 422 and secret not in long.text and long.json()["field"] == "password"
    page = _client(site["app"])
    form = page.post("/login", data={"csrftoken": csrf_token(page), "username": "alice", "password": secret})
    assert form.status_code == 401 and secret not in form.text and "<form" in form.text
    for path in ("/", "/login", "/api/projects", f"/api/projects/{site['ids']['p']}/video"):
        client = site["alice"] if path.startswith("/api/") else site["alice_page"]
        head, get = client.head(path), client.get(path)
        assert head.status_code == get.status_code == 200, (path, head.status_code)
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    missing_page = site["alice_page"].get("/no/such/page")
    assert missing_page.status_code == 404 and missing_page.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in missing_page.text and "<title>" in missing_page.text and "/no/such/page" in missing_page.text
    missing_api = site["alice"].get("/api/no-such-thing")
    assert missing_api.status_code == 404 and set(missing_api.json()) == {"detail"}
    wrong_method = site["alice"].put("/api/projects")
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"detail"}
    invalid = site["alice"].post("/api/projects", json={"text": "x", "candidates": 99})
    assert invalid.status_code == 422 and invalid.json()["field"] == "candidates" and "input" not in json.dumps(invalid.json())


# ------------------------------------------------------------------------------------------ files
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_workspace_and_database_are_private(site) -> None:  # noqa: ANN001
    workspace = site["workspace"]
    assert stat.S_IMODE(workspace.stat().st_mode) == 0o700
    for name in ("storyreel.db", "storyreel.db-wal", "storyreel.db-shm", ".secret_key", "queue.db"):
        path = workspace / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (name, oct(path.stat().st_mode))
    assert (workspace / "storyreel.db").exists() and (workspace / ".secret_key").exists()
