"""The planner on an LLM (pydantic-ai structured output) against a loopback OpenAI chat-completions server."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from storyreel.core.errors import InputError, ProviderError
from storyreel.core.settings import Settings
from storyreel.providers.base import PlannerRequest
from storyreel.providers.registry import resolve

from ..conftest import INPUTS

DRAFT = {
    "title": "The Hare and the Tortoise", "language": "en", "aspect_ratio": "16:9", "framework": None,
    "chapters": [
        {"title": "The challenge", "shots": [
            {"narration": "The Hare and the Tortoise.", "visual_type": "title_card", "visual_description": "A hare and a tortoise at a start line", "camera_move": "zoom_in"},
            {"narration": "A Hare one day ridiculed the short feet and slow pace of the Tortoise.", "visual_type": "b_roll",
             "visual_description": "A proud hare laughing beside a calm tortoise in a meadow", "camera_move": "pan_right"}]},
        {"title": "../../etc", "shots": [
            {"narration": "Slow but steady wins the race.", "visual_type": "b_roll", "visual_description": "The tortoise crossing the finish line",
             "camera_move": "zoom_out"}]},
    ],
}


def tool_call_reply(request: Request) -> Response:
    body = json.loads(request.data)
    tool = body["tools"][0]["function"]["name"] if body.get("tools") else "final_result"
    reply = {"id": "chatcmpl-2", "object": "chat.completion", "created": 1_790_000_000, "model": body["model"],
             "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": json.dumps(DRAFT)}}]}}],
             "usage": {"prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200}}
    return Response(json.dumps(reply), content_type="application/json")


def request() -> PlannerRequest:
    text = (INPUTS / "hare-and-tortoise.txt").read_text(encoding="utf-8")
    return PlannerRequest(kind="script", text=text, name="hare-and-tortoise.txt", sha256="sha256:" + "0" * 64)


def test_structured_output_becomes_a_valid_storyboard_with_our_ids(httpserver):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(tool_call_reply)
    settings = Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-plan"}, allow_network=False)
    board = resolve("planner", "openai:gpt-5-mini", settings).plan(request())
    assert board.plan.provider == "openai:gpt-5-mini"
    assert [c.chapter_id for c in board.chapters] == ["ch01", "ch02"]
    assert [s.shot_id for _, s in board.shots()] == ["ch01-s01", "ch01-s02", "ch02-s01"]
    assert board.chapters[1].title == "../../etc"  # a title is text, never a path: IDs are ours
    assert board.project_id == "the-hare-and-the-tortoise"
    sent = json.loads(httpserver.log[0][0].data)
    assert "Ridiculed" not in json.dumps(sent) and "ridiculed the short feet" in json.dumps(sent)  # the script went in
    assert any(m["role"] in ("system", "developer") and "storyboard" in json.dumps(m) for m in sent["messages"])


def test_planner_failures_are_provider_errors(httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_json({"error": {"message": "overloaded"}}, status=503)
    settings = Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-plan"}, allow_network=False)
    with pytest.raises(ProviderError, match="planning failed"):
        resolve("planner", "openai:gpt-5-mini", settings).plan(request())


def test_plan_command_calls_the_model_only_when_the_plan_must_run(httpserver, tmp_path):
    from ..conftest import cli_json

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(tool_call_reply)
    env = {"STORYREEL_PLANNER": "openai:gpt-5-mini", "STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-plan"}
    ws = tmp_path / "ws"
    first = cli_json("plan", str(INPUTS / "hare-and-tortoise.txt"), workspace=ws, env=env)
    assert (first["project_id"], first["chapters"], first["shots"]) == ("hare-and-tortoise", 2, 3)
    assert len(httpserver.log) == 1
    again = cli_json("plan", str(INPUTS / "hare-and-tortoise.txt"), workspace=ws, env=env)
    assert again["project_id"] == "hare-and-tortoise" and len(httpserver.log) == 1  # fresh: no model call
    import sqlite3

    cost, details = sqlite3.connect(ws / "storyreel.db").execute(
        "select cost_usd, details from runs where stage='plan' and status='success'").fetchone()
    assert cost == pytest.approx(900 * 0.25e-6 + 300 * 2e-6)
    assert json.loads(details)["usage"] == {"input_tokens": 900, "output_tokens": 300}
    listed = cli_json("list", workspace=ws)["projects"]
    assert listed[0]["title"] == "The Hare and the Tortoise"
    costs = cli_json("cost", "hare-and-tortoise", workspace=ws)  # the planning call is in the ledger
    assert costs["calls"] == 1 and costs["spent_usd"] == pytest.approx(cost)


def test_planning_respects_the_cost_cap(httpserver, tmp_path):
    from ..conftest import run_cli

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(tool_call_reply)
    env = {"STORYREEL_PLANNER": "openai:gpt-5-mini", "STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"),
           "OPENAI_API_KEY": "sk-plan", "STORYREEL_MAX_COST_USD": "0.0001"}
    proc = run_cli("plan", str(INPUTS / "hare-and-tortoise.txt"), workspace=tmp_path / "ws", env=env)
    assert proc.returncode == 1 and "cost cap" in proc.stderr
    assert len(httpserver.log) == 0


def test_registry_lists_every_pydantic_ai_vendor_without_importing_it():
    import subprocess
    import sys

    probe = (
        "import json, sys; from storyreel.providers import registry as r; "
        "print(json.dumps([sorted(r.vendors('llm')), sorted(r.vendors('planner')), "
        "[m for m in sys.modules if m.startswith(('pydantic_ai', 'storyreel.providers.llm', 'storyreel.providers.planner', 'httpx'))]]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    llm, planner, imported = json.loads(out)
    vendors = ["anthropic", "google", "local", "openai", "openai-compatible", "openrouter"]
    assert llm == vendors and planner == vendors
    assert imported == [], "listing vendors must not import any adapter"

    from storyreel.providers.llm.pydantic_ai_llm import PydanticAILlm
    from storyreel.providers.registry import provider_class

    for vendor in set(vendors) - {"local"}:
        cls = provider_class("llm", vendor)
        assert issubclass(cls, PydanticAILlm) and cls.vendor == vendor and cls.connection is not None
    with pytest.raises(InputError) as err:
        resolve("image", "nope:model")
    assert "openai-compatible:…" in str(err.value) and err.value.field == "image provider"
