"""``storyreel doctor`` (issue 29 item 5): on a fresh machine every check passes offline (ffmpeg, the encoder, fonts,
the workspace, the database, the queue, the offline providers); a configured vendor is checked with its free preflight
against a loopback server — a refused key and an unknown model each fail naming the fix, a good key passes; with no
key, or a database or queue that does not answer, the check fails with the variable to set; nothing is ever paid for."""

from __future__ import annotations

import json

import pytest

from ..conftest import run_cli

pytestmark = pytest.mark.e2e
MODEL = "replicate:black-forest-labs/flux-schnell"


def _doctor(ws, env: dict | None = None, *args: str) -> tuple[int, dict]:  # noqa: ANN001
    done = run_cli("doctor", "--json", *args, workspace=ws, env=env or {})
    return done.returncode, json.loads(done.stdout)


def test_a_fresh_machine_is_ready(tmp_path) -> None:  # noqa: ANN001
    code, report = _doctor(tmp_path / "ws")
    names = [c["name"] for c in report["checks"]]
    assert code == 0 and report["ok"], report
    assert names[:6] == ["ffmpeg", "video encoder", "fonts", "workspace", "database", "job queue"]
    assert {"images", "planner and prompts"} <= set(names) and any(n.startswith("voice") for n in names)
    db = next(c for c in report["checks"] if c["name"] == "database")
    assert db["detail"].startswith("sqlite") and "migrations at" in db["detail"]


def test_a_vendor_is_checked_with_its_free_preflight(tmp_path, httpserver) -> None:  # noqa: ANN001
    env = {"STORYREEL_IMAGE_PROVIDER": MODEL, "STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1")}
    code, report = _doctor(tmp_path / "ws", env)
    images = next(c for c in report["checks"] if c["name"] == "images")
    assert code == 1 and not images["ok"] and images["fix"] == "set REPLICATE_API_TOKEN"

    env["REPLICATE_API_TOKEN"] = "r8_wrong"
    httpserver.expect_ordered_request("/v1/models/black-forest-labs/flux-schnell").respond_with_json({"detail": "no"}, status=401)
    code, report = _doctor(tmp_path / "ws", env)
    images = next(c for c in report["checks"] if c["name"] == "images")
    assert code == 1 and "refused" in images["detail"] and "REPLICATE_API_TOKEN" in images["fix"]

    env["STORYREEL_IMAGE_PROVIDER"] = "replicate:nobody/no-such-model"
    httpserver.expect_ordered_request("/v1/models/nobody/no-such-model").respond_with_json({"detail": "not found"}, status=404)
    code, report = _doctor(tmp_path / "ws", env)
    assert code == 1 and "no model" in next(c for c in report["checks"] if c["name"] == "images")["detail"]

    env["STORYREEL_IMAGE_PROVIDER"] = MODEL
    httpserver.expect_ordered_request("/v1/models/black-forest-labs/flux-schnell").respond_with_json({"owner": "black-forest-labs"})
    code, report = _doctor(tmp_path / "ws", env)
    assert code == 0 and "the vendor answered" in next(c for c in report["checks"] if c["name"] == "images")["detail"]
    assert all(r.method == "GET" for r, _ in httpserver.log)  # a free check: nothing created, nothing paid

    offline = _doctor(tmp_path / "ws", env, "--offline")[1]
    assert "no call made" in next(c for c in offline["checks"] if c["name"] == "images")["detail"]


def test_a_database_and_a_queue_that_do_not_answer_are_named_with_the_fix(tmp_path) -> None:  # noqa: ANN001
    env = {"STORYREEL_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none", "STORYREEL_QUEUE_URL": "redis://127.0.0.1:1/0"}
    code, report = _doctor(tmp_path / "ws", env)
    checks = {c["name"]: c for c in report["checks"]}
    assert code == 1 and not checks["database"]["ok"] and "STORYREEL_DATABASE_URL" in checks["database"]["fix"]
    assert not checks["job queue"]["ok"] and "STORYREEL_QUEUE_URL" in checks["job queue"]["fix"]
    assert checks["ffmpeg"]["ok"] and checks["fonts"]["ok"]  # the rest is still checked
    text = run_cli("doctor", workspace=tmp_path / "ws", env=env)
    assert text.returncode == 1 and "check(s) failed" in text.stderr and "Traceback" not in text.stderr
