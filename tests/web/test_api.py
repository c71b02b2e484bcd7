"""The JSON API and the pages' security: accounts, tokens, throttling, CSRF, ownership (another user's
project or job is 404 everywhere), uploads, inline edits and what they make stale, escaping, headers."""

from __future__ import annotations

import json
from pathlib import Path

from storyreel.store.accounts import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER_AND_ADDRESS
from tests.conftest import INPUTS
from tests.web.conftest import api_client, browser_client, csrf_token

HARE = (INPUTS / "hare-and-tortoise.txt").read_text(encoding="utf-8")


def test_register_token_and_profile(app) -> None:  # noqa: ANN001
    alice = api_client(app, "alice")
    me = alice.get("/api/me").json()
    assert me["username"] == "alice" and me["videos_made"] == 0 and me["total_cost_usd"] == 0 and me["last_login_at"]
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    assert anon.get("/api/me").status_code == 401
    assert anon.get("/api/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    taken = anon.post("/api/auth/register", json={"username": "ALICE", "password": "another long passphrase"})
    assert taken.status_code == 422 and taken.json()["field"] == "username"
    for weak in ("short", "12345678", "password", " " * 15, "passwordpassword1", "carolcarolcarol1"):
        refused = anon.post("/api/auth/register", json={"username": "carol", "password": weak})
        assert refused.status_code == 422 and refused.json()["field"] == "password", weak
    bad = anon.post("/api/auth/register", json={"username": "../etc", "password": "long enough password"})
    assert bad.status_code == 422 and bad.json()["field"] == "username"


def test_failed_logins_are_throttled_per_account_and_address_and_never_lock_the_owner_out(app) -> None:  # noqa: ANN001
    """Issue 24 item 1: six wrong passwords for alice from one address used to keep alice's right password out
    for 15 minutes from anywhere. Now the attacker's address waits; alice, elsewhere, signs in."""
    from fastapi.testclient import TestClient

    api_client(app, "dave")
    attacker = TestClient(app, client=("203.0.113.7", 4000))
    for _ in range(MAX_FAILURES_PER_USER_AND_ADDRESS):
        wrong = attacker.post("/api/auth/token", json={"username": "dave", "password": "wrong password!"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    throttled = attacker.post("/api/auth/token", json={"username": "dave", "password": "long enough password"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0  # this address waits, even with the password
    owner = TestClient(app, client=("198.51.100.20", 5000))
    assert owner.post("/api/auth/token", json={"username": "dave", "password": "long enough password"}).status_code == 200
    page = TestClient(app, client=("198.51.100.20", 5001))
    page.get("/login")
    form = page.post("/login", data={"csrftoken": csrf_token(page), "username": "dave", "password": "long enough password"},
                     follow_redirects=False)
    assert form.status_code == 303  # the owner's page sign-in too
    attacked = TestClient(app, client=("203.0.113.7", 4001))
    attacked.get("/login")
    refused = attacked.post("/login", data={"csrftoken": csrf_token(attacked), "username": "dave", "password": "long enough password"})
    assert refused.status_code == 429 and "too many failed logins" in refused.text


def test_password_spraying_from_one_address_is_limited(app) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    sprayer = TestClient(app, client=("203.0.113.9", 4000))
    for i in range(MAX_FAILURES_PER_ADDRESS):
        assert sprayer.post("/api/auth/token", json={"username": f"user{i}", "password": "Summer2026!"}).status_code == 401
    assert sprayer.post("/api/auth/token", json={"username": "someone-else", "password": "Summer2026!"}).status_code == 429


def test_state_changing_requests_need_the_csrf_token(app) -> None:  # noqa: ANN001
    browser = browser_client(app, "erin")
    token = csrf_token(browser)
    assert browser.post("/api/projects", json={"text": HARE}).status_code == 403  # a session cookie and no token
    assert browser.post("/new", data={"text": HARE}).status_code == 403
    assert browser.post("/logout", data={}).status_code == 403
    made = browser.post("/api/projects", json={"text": HARE, "title": "Hare"}, headers={"x-csrftoken": token})
    assert made.status_code == 201, made.text
    upload = {"file": ("hare.txt", HARE.encode(), "text/plain")}
    assert browser.post("/new", data={"title": "Hare 3"}, files=upload).status_code == 403  # multipart, no token
    assert browser.post("/new", data={"csrftoken": "forged", "title": "Hare 3"}, files=upload).status_code == 403
    uploaded = browser.post("/new", data={"csrftoken": token, "title": "Hare 3"}, files=upload, follow_redirects=False)
    assert uploaded.status_code == 303 and uploaded.headers["location"].startswith("/projects/hare-3-")
    form = browser.post("/new", data={"csrftoken": token, "text": HARE, "title": "Hare 2"}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith("/projects/hare-2-")


def test_another_users_work_is_not_found_anywhere(app) -> None:  # noqa: ANN001
    alice, bob = api_client(app, "alice"), api_client(app, "bob")
    made = alice.post("/api/projects", json={"text": HARE, "title": "The Hare"}).json()
    pid, job = made["id"], made["job_id"]
    shot = "ch01-s01"
    assert alice.get(f"/api/projects/{pid}").status_code == 200
    assert alice.get(f"/api/jobs/{job}").json()["state"] == "queued"
    for method, url, body in [
        ("GET", f"/api/projects/{pid}", None), ("GET", f"/api/projects/{pid}/status", None),
        ("GET", f"/api/projects/{pid}/video", None), ("GET", f"/api/projects/{pid}/subtitles.vtt", None),
        ("GET", f"/api/projects/{pid}/thumbnail", None), ("GET", f"/api/projects/{pid}/images/{shot}", None),
        ("GET", f"/api/projects/{pid}/qc", None), ("PATCH", f"/api/projects/{pid}/shots/{shot}", {"narration": "mine now"}),
        ("POST", f"/api/projects/{pid}/make", None), ("POST", f"/api/projects/{pid}/regenerate", {"shots": []}),
        ("DELETE", f"/api/projects/{pid}", None), ("GET", f"/api/jobs/{job}", None), ("POST", f"/api/jobs/{job}/cancel", None),
        ("POST", f"/api/jobs/{job}/resume", None), ("GET", f"/api/jobs/{job}/events", None),
    ]:
        response = bob.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.status_code, response.text)
    assert bob.get("/api/projects").json()["total"] == 0
    assert bob.get("/api/jobs").json()["items"] == []
    assert alice.get(f"/api/jobs/{job}").json()["cancel_requested"] is False  # bob's cancel did nothing
    page = browser_client(app, "mallory")
    assert page.get(f"/projects/{pid}").status_code == 404
    assert page.post(f"/projects/{pid}/delete", data={"csrftoken": csrf_token(page)}).status_code == 404
    assert alice.get(f"/api/projects/{pid}").status_code == 200


def test_files_never_leave_the_project_folder(app, workspace: Path) -> None:  # noqa: ANN001
    alice = api_client(app, "alice")
    pid = alice.post("/api/projects", json={"text": HARE}).json()["id"]
    (workspace / "secret.txt").write_text("no")
    for shot in ("..%2F..%2Fstoryreel.db", "ch01-s01.png", "%2e%2e", "ch01-s01%00", "..%5Csecret.txt"):
        assert alice.get(f"/api/projects/{pid}/images/{shot}").status_code == 404
    link = workspace / "projects" / pid / "video.vtt"
    link.symlink_to(workspace / "secret.txt")
    assert alice.get(f"/api/projects/{pid}/subtitles.vtt").status_code == 404  # a link out of the folder is refused


def test_uploads_validate_like_the_cli_and_have_a_size_limit(app, monkeypatch) -> None:  # noqa: ANN001
    alice = api_client(app, "alice")
    chapters = (INPUTS / "chapters-bitcoin-tr.json").read_bytes()
    ok = alice.post("/api/projects/upload", files={"file": ("chapters-bitcoin-tr.json", chapters, "application/json")})
    assert ok.status_code == 201 and ok.json()["input_kind"] == "chapters"
    broken = alice.post("/api/projects/upload", files={"file": ("bad.json", chapters[:200], "application/json")})
    assert broken.status_code == 422 and broken.json()["field"] == "file" and "JSON" in broken.json()["detail"]
    binary = alice.post("/api/projects/upload", files={"file": ("x.txt", b"\x00\x01\x02" * 10, "text/plain")})
    assert binary.status_code == 422 and "binary" in binary.json()["detail"]
    wrong = alice.post("/api/projects/upload", files={"file": ("movie.mp4", b"abc", "video/mp4")})
    assert wrong.status_code == 422 and wrong.json()["field"] == "file"
    limit = app.state.settings.max_upload_bytes
    huge = alice.post("/api/projects/upload", files={"file": ("big.txt", b"word " * (limit // 5 + 10), "text/plain")})
    assert huge.status_code == 413
    short = alice.post("/api/projects", json={"text": "too short"})
    assert short.status_code == 422 and "10–500" in short.json()["detail"]
    projects = alice.get("/api/projects").json()
    assert projects["total"] == 1  # nothing half-made by the refused inputs
    assert sorted(p.name for p in (app.state.root / "projects").iterdir()) == [ok.json()["id"]]


def test_user_text_is_escaped_in_every_page(app) -> None:  # noqa: ANN001
    browser = browser_client(app, "alice")
    token = csrf_token(browser)
    evil = '<script>alert("x")</script>'
    made = browser.post("/api/projects", json={"text": HARE, "title": f"Hare {evil}"}, headers={"x-csrftoken": token}).json()
    pid = made["id"]
    edited = browser.patch(f"/api/projects/{pid}/shots/ch01-s02", json={"narration": f"The hare said {evil} loudly.",
                                                                           "image_prompt": f"a hare {evil}"}, headers={"x-csrftoken": token})
    assert edited.status_code == 200
    assert browser.get(f"/api/projects/{pid}").json()["project"]["title"] == f"Hare {evil}"  # JSON keeps the text as given
    sidecar = app.state.root / "projects" / pid / "images" / "ch01-s02.meta.json"
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    sidecar.write_text(json.dumps({"prompt": f"a hare {evil}", "provider": "local:cards"}))  # as the image stage records it
    for url in ("/", f"/projects/{pid}", "/jobs", f"/?q={evil}", f"/projects/{pid}/shots/ch01-s02/provenance"):
        html = browser.get(url).text
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;" in html, url


def test_editing_a_shot_makes_exactly_its_nodes_stale(app) -> None:  # noqa: ANN001
    alice = api_client(app, "alice")
    pid = alice.post("/api/projects", json={"text": HARE}).json()["id"]
    bad = alice.patch(f"/api/projects/{pid}/shots/ch01-s02", json={"narration": "   "})
    assert bad.status_code == 422 and bad.json()["field"] == "narration"
    assert alice.patch(f"/api/projects/{pid}/shots/nope", json={"narration": "x"}).status_code == 422
    edited = alice.patch(f"/api/projects/{pid}/shots/ch01-s02", json={"narration": "The hare laughed at the slow tortoise."})
    assert edited.status_code == 200
    board = alice.get(f"/api/projects/{pid}").json()["storyboard"]
    shot = next(s for ch in board["chapters"] for s in ch["shots"] if s["shot_id"] == "ch01-s02")
    assert shot["narration"] == "The hare laughed at the slow tortoise."
    # nothing was made yet (no consumer): every node is missing, and the edit is in the storyboard the job will read
    assert {n["state"] for n in edited.json()["stale"]} == {"MISSING"}


def test_security_headers_on_pages_api_and_errors(app) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    for url in ("/login", "/api/me", "/static/app.css", "/no-such-page"):
        response = anon.get(url, follow_redirects=False)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp, url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert anon.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    login = anon.get("/login?next=//evil.example/x")
    assert 'value="/"' in login.text  # no open redirect
    browser = browser_client(app, "alice")
    cookie = next(c for c in browser.cookies.jar if c.name == "storyreel_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
    assert anon.get("/openapi.json").json()["paths"]["/api/projects"]


def test_openapi_documents_the_listed_endpoints(app) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    paths = TestClient(app).get("/openapi.json").json()["paths"]
    for path, method in [("/api/auth/register", "post"), ("/api/auth/token", "post"), ("/api/projects", "post"), ("/api/projects", "get"),
                         ("/api/projects/{project_id}", "get"), ("/api/projects/{project_id}/shots/{shot_id}", "patch"),
                         ("/api/projects/{project_id}/make", "post"), ("/api/jobs/{job_id}", "get"), ("/api/jobs/{job_id}/events", "get"),
                         ("/api/jobs/{job_id}/cancel", "post"), ("/api/projects/{project_id}/video", "get"),
                         ("/api/projects/{project_id}", "delete"), ("/api/me", "get")]:
        assert method in paths.get(path, {}), (method, path)
    assert not any(p.startswith("/projects") or p == "/" for p in paths)  # pages are not API
    json.dumps(paths)


def test_the_new_video_form_prices_the_plan_before_submitting(app, monkeypatch) -> None:  # noqa: ANN001
    browser = browser_client(app, "alice")
    token = csrf_token(browser)
    free = browser.post("/new/estimate", data={"csrftoken": token, "text": HARE})
    assert free.status_code == 200 and "Priced plan" in free.text and "$0.0000" in free.text
    assert "local:cards" in browser.get("/new").text and "openai:gpt-image-2" not in browser.get("/new").text  # no key: not offered
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("STORYREEL_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # allowed by the tests' network guard; never called
    assert "openai:gpt-image-2" in browser.get("/new").text
    paid = browser.post("/new/estimate", data={"csrftoken": token, "text": HARE, "image_provider": "openai:gpt-image-2"})
    price = float(paid.text.split("Estimated cost <strong>$")[1].split("<")[0])
    assert price > 0 and "by openai:gpt-image-2" in paid.text
    bad = browser.post("/new/estimate", data={"csrftoken": token, "text": "short"})
    assert "10–500" in bad.text and "error" in bad.text
    assert not (app.state.root / "projects").exists() or not any((app.state.root / "projects").iterdir())  # nothing written


def test_a_queued_project_can_be_deleted_and_its_job_goes_with_it(app, workspace: Path) -> None:  # noqa: ANN001
    """Deleting a project whose job waits in the queue cancels the job first (nothing ran: nothing to lose)."""
    alice = api_client(app, "alice")
    made = alice.post("/api/projects", json={"text": HARE, "title": "Queued"}).json()
    assert alice.get(f"/api/jobs/{made['job_id']}").json()["state"] == "queued"
    assert alice.delete(f"/api/projects/{made['id']}").status_code == 204
    assert alice.get(f"/api/jobs/{made['job_id']}").status_code == 404
    assert not (workspace / "projects" / made["id"]).exists() and alice.get("/api/projects").json()["total"] == 0


def test_the_voice_is_chosen_in_the_form_priced_kept_and_shown(app, monkeypatch) -> None:  # noqa: ANN001
    """The new-video form offers the offline voices, and a cloud voice only once its key is set; the estimate
    prices a paid voice's narration; an unconfigured voice or an unknown Piper voice is refused by its field
    with nothing written; the choice is kept in the project's options and the project page says which voice
    reads it."""
    browser = browser_client(app, "alice")
    token = csrf_token(browser)
    page = browser.get("/new").text
    assert 'value="local"' in page and 'value="local:espeak"' in page and "elevenlabs:" not in page
    refused = browser.post("/new", data={"csrftoken": token, "text": HARE, "voice": "elevenlabs:eleven_multilingual_v2"})
    assert refused.status_code == 422 and "ELEVENLABS_API_KEY" in refused.text
    unknown = browser.post("/new", data={"csrftoken": token, "text": HARE, "voice": "local", "voice_name": "en_GB-nobody"})
    assert unknown.status_code == 422 and "en_GB-nobody" in unknown.text and "en_US-joe-medium" in unknown.text
    assert not (app.state.root / "projects").exists() or not any((app.state.root / "projects").iterdir())  # nothing written

    monkeypatch.setenv("ELEVENLABS_API_KEY", "xi-test-not-a-real-key")
    monkeypatch.setenv("STORYREEL_ELEVENLABS_BASE_URL", "http://127.0.0.1:9/v1")  # allowed by the tests' network guard; never called
    assert "ElevenLabs · eleven_multilingual_v2 (paid)" in browser.get("/new").text
    paid = browser.post("/new/estimate", data={"csrftoken": token, "text": HARE, "voice": "elevenlabs:eleven_multilingual_v2"})
    assert "Read by ElevenLabs · eleven_multilingual_v2 ($0.0" in paid.text
    free = browser.post("/new/estimate", data={"csrftoken": token, "text": HARE})
    assert "Read by Offline neural voice (Piper), free" in free.text or "Read by Offline voice (espeak-ng), free" in free.text

    made = browser.post("/new", data={"csrftoken": token, "text": HARE, "title": "Told slowly", "voice": "local:espeak",
                                      "voice_style": "slow and clear"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    pid = made.headers["location"].rsplit("/", 1)[-1]
    from storyreel.api.session import Workspace

    job_id = browser.get(f"/api/projects/{pid}").json()["job"]["id"]
    request = Workspace.open(app.state.root).jobs.get(job_id).request  # what the queued make will be given
    assert request["voice"] == "local:espeak" and request["voice_style"] == "slow and clear"
    shown = browser.get(f"/projects/{pid}").text
    assert "Voice: Offline voice (espeak-ng) — style “slow and clear”" in shown
