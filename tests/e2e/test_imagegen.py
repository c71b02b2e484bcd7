"""``storyreel imagegen`` (seed 001 §11 test plan): dry run, idempotency, --force, --chapter/--shot,
bad IDs, template edits and description edits — against the loopback OpenAI server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storyreel.prompts.registry import BUILTIN

from ..conftest import INPUTS, cli_json, run_cli
from .test_openai_make import FakeOpenAI, env_for

pytestmark = pytest.mark.e2e

PID = "btc-ep-0042"
GENERATED = ["ch02-s01", "ch03-s01", "ch04-s01", "ch05-s01"]  # diagram / b_roll / screen_share shots
TEMPLATED = ["ch01-s01", "ch06-s01"]  # title cards
FROM_TEMPLATE = ["ch02-s01", "ch04-s01", "ch05-s01"]  # generated shots whose prompt comes from imagegen.md


@pytest.fixture
def project(httpserver, tmp_path):
    fake = FakeOpenAI(rate_limited=0, reject=None)
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake)
    ws = tmp_path / "ws"
    cli_json("plan", str(INPUTS / "chapters-bitcoin-tr.json"), workspace=ws)
    env = {**env_for(httpserver), "STORYREEL_IMAGE_PROVIDER": "openai:gpt-image-2"}
    return ws, env, fake


def imagegen(ws, env, *args):
    return cli_json("imagegen", PID, *args, workspace=ws, env=env)


def test_dry_run_writes_payloads_prices_and_calls_nothing(project):
    ws, env, fake = project
    plan = imagegen(ws, env, "--dry-run")
    assert fake.calls == []
    runs = {r["shot_id"]: r for r in plan["shots"]}
    assert {s for s, r in runs.items() if r["method"] == "generated"} == set(GENERATED)
    images = ws / "projects" / PID / "images"
    payload = json.loads((images / "ch02-s01" / "request-1.json").read_text())["payload"]
    assert payload["size"] == "1536x864" and payload["model"] == "gpt-image-2" and "No text" in payload["prompt"]
    # ch03's visual carries its own image_prompt in the chapter JSON: it wins over the template
    own = json.loads((INPUTS / "chapters-bitcoin-tr.json").read_text())["chapters"][2]["visuals"][0]["image_prompt"]
    assert json.loads((images / "ch03-s01" / "request-1.json").read_text())["payload"]["prompt"] == own
    assert plan["estimate_usd"] == pytest.approx(4 * 0.041 * 864 / 1024, rel=1e-3)
    assert not (images / "ch03-s01.png").exists()
    # best-of-3 is priced as three images per generated shot, asked for in one call (the Images API's n); still
    # nothing called
    three = imagegen(ws, env, "--dry-run", "--candidates", "3")
    assert three["estimate_usd"] == pytest.approx(3 * plan["estimate_usd"], rel=1e-6) and fake.calls == []
    batch = json.loads((images / "ch02-s01" / "request-1.json").read_text())
    assert batch["payload"]["n"] == 3 and batch["candidates"] == [1, 2, 3]
    assert sorted(p.name for p in (images / "ch02-s01").glob("request-*.json")) == ["request-1.json"]


def test_second_run_reuses_everything_and_force_regenerates(project):
    ws, env, fake = project
    first = imagegen(ws, env)
    assert (first["generated"], first["reused"], first["failed"]) == (6, 0, 0)
    assert len(fake.calls) == 4 and first["cost_usd"] > 0
    manifest = json.loads((ws / "projects" / PID / "images" / "manifest.json").read_text())
    assert [e["status"] for e in manifest["images"]] == ["template", "generated", "generated", "generated", "generated", "template"]
    sources = {e["shot_id"]: (e["prompt_source"], e["prompt_version"]) for e in manifest["images"] if e["status"] == "generated"}
    assert sources.pop("ch03-s01") == ("storyboard", None)  # its own image_prompt
    assert set(sources.values()) == {("local:direct", 1)}
    again = imagegen(ws, env)
    assert (again["generated"], again["reused"], again["cost_usd"]) == (0, 6, 0)
    assert len(fake.calls) == 4
    forced = imagegen(ws, env, "--force", "--chapter", "ch03")
    assert (forced["generated"], forced["reused"]) == (1, 0)
    assert len(fake.calls) == 5


def test_chapter_and_shot_selection_and_bad_ids(project):
    ws, env, fake = project
    one = imagegen(ws, env, "--shot", "ch04-s01")
    assert [s["shot_id"] for s in one["shots"]] == ["ch04-s01"] and len(fake.calls) == 1
    assert not (ws / "projects" / PID / "images" / "ch02-s01.png").exists()
    for args, flag in ((["--chapter", "ch99"], "--chapter"), (["--shot", "ch02-s09"], "--shot"),
                       (["--chapter", "ch02", "--shot", "ch04-s01"], "--shot")):
        proc = run_cli("imagegen", PID, *args, workspace=ws, env=env)
        assert proc.returncode == 2 and flag in proc.stderr
    assert run_cli("imagegen", "no-such-project", workspace=ws, env=env).returncode == 2


def test_template_edit_makes_exactly_the_generated_images_stale(project):
    ws, env, fake = project
    imagegen(ws, env)
    user_copy = ws / "prompts" / "imagegen.md"
    user_copy.parent.mkdir(parents=True)
    shutil.copy(BUILTIN / "imagegen.md", user_copy)
    assert all(n["state"] == "FRESH" for n in _image_nodes(ws, env))  # identical copy: nothing changes
    user_copy.write_text(user_copy.read_text().replace("clear negative space", "generous negative space"))
    stale = {n["node"] for n in _image_nodes(ws, env) if n["state"] != "FRESH"}
    # ch03's own image_prompt does not depend on the template; title cards never do
    assert stale == {f"{stage}[{s}]" for s in FROM_TEMPLATE for stage in ("image_prompt", "image")} | {"manifest[images]"}
    rerun = imagegen(ws, env)
    assert rerun["generated"] == 3 and rerun["reused"] == 3
    assert json.loads((ws / "projects" / PID / "prompts" / "ch02-s01.json").read_text())["prompt_version"] == 2


def test_description_edit_makes_only_that_shot_stale(project):
    ws, env, fake = project
    imagegen(ws, env)
    board = ws / "projects" / PID / "storyboard.json"
    data = json.loads(board.read_text())
    data["chapters"][3]["shots"][0]["visual"]["description"] = "Madenci bilgisayarları bir bulmacayı çözmek için yarışıyor"
    board.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    stale = {n["node"] for n in _image_nodes(ws, env) if n["state"] != "FRESH"}
    assert stale == {"image_prompt[ch04-s01]", "image[ch04-s01]", "manifest[images]"}
    again = imagegen(ws, env)
    assert (again["generated"], again["reused"]) == (1, 5) and len(fake.calls) == 5


def _image_nodes(ws: Path, env: dict) -> list[dict]:
    nodes = cli_json("status", PID, workspace=ws, env=env)["nodes"]
    return [n for n in nodes if n["stage"] in ("image_prompt", "image", "manifest")]


def test_a_dry_run_changes_nothing_but_the_request_files(project):
    ws, env, fake = project
    root = ws / "projects" / PID
    options_before = (root / "options.json").read_text() if (root / "options.json").exists() else None
    listed_before = {p["project_id"]: p["status"] for p in cli_json("list", workspace=ws)["projects"]}
    plan = imagegen(ws, env, "--dry-run", "--max-cost", "0.5", "--image-provider", "gemini:gemini-2.5-flash-image")
    assert plan["cap_usd"] == 0.5 and {r["provider"] for r in plan["shots"] if r["method"] == "generated"} == {"gemini:gemini-2.5-flash-image"}
    assert ((root / "options.json").read_text() if (root / "options.json").exists() else None) == options_before
    assert {p["project_id"]: p["status"] for p in cli_json("list", workspace=ws)["projects"]} == listed_before
    assert fake.calls == [] and not (root / "images" / "manifest.json").exists()


def test_imagegen_keeps_the_project_status_true_and_logs_every_call_without_the_key(project):
    ws, env, fake = project
    imagegen(ws, env)
    status = {p["project_id"]: p["status"] for p in cli_json("list", workspace=ws)["projects"]}[PID]
    assert status == "partial"  # images made; narration and video not yet
    log = (ws / "projects" / PID / "logs" / "storyreel.log").read_text()
    assert log.count("POST /v1/images/generations -> HTTP 200") == len(fake.calls) == 4
    assert "image[ch02-s01] done" in log and "sk-e2e-key" not in log


def test_without_a_key_nothing_is_made_and_the_variable_is_named(project):
    ws, env, fake = project
    keyless = {k: v for k, v in env.items() if k != "OPENAI_API_KEY"}
    proc = run_cli("imagegen", PID, workspace=ws, env={**keyless, "OPENAI_API_KEY": ""})
    assert proc.returncode == 1 and "OPENAI_API_KEY" in proc.stderr and "Traceback" not in proc.stderr
    assert fake.calls == [] and not list((ws / "projects" / PID / "images").glob("*.png"))
