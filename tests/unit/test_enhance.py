"""Two-agent prompt enhancement: the loop's three stop conditions, the seed's trace files, the offline
agents on real prompts, and the model agents against a loopback OpenAI chat-completions server."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from storyreel.core.errors import ProviderError
from storyreel.core.settings import Settings
from storyreel.prompts.enhance import Brief, Critique, Said, enhance
from storyreel.providers.llm.enhance_rules import ChecklistCritic, RuleDirector
from storyreel.providers.registry import resolve

from ..conftest import INPUTS


class ScriptedDirector:
    provider_id = "fake:director"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def rewrite(self, prompt: str, feedback: list[str], brief: Brief) -> Said:
        self.calls.append((prompt, feedback))
        return Said(text=f"{prompt} +{len(self.calls)}", usage={"input_tokens": 10, "output_tokens": 5}, cost_usd=0.001)


class ScriptedCritic:
    """Scores each round with the next overall value (all five scores equal, so overall = that value)."""

    provider_id = "fake:critic"

    def __init__(self, *overall: int) -> None:
        self.overall = list(overall)

    def critique(self, prompt: str, brief: Brief) -> Said:
        v = self.overall.pop(0)
        return Said(critique=Critique(completeness=v, specificity=v, professionalism=v, cinematography=v, brand_alignment=v,
                                      feedback=[f"round feedback {v}"]), cost_usd=0.002)


def test_the_loop_stops_at_the_threshold(tmp_path):
    director = ScriptedDirector()
    out = enhance("a hare and a tortoise", director, ScriptedCritic(70, 90, 99), threshold=85, trace_dir=tmp_path)
    assert out.stop_reason == "threshold" and len(out.iterations) == 2 and out.final == "a hare and a tortoise +1 +2"
    assert director.calls[1][1] == ["round feedback 70"]  # the critic's feedback reaches the director
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "00_original_prompt.txt", "01_agent1_iteration_1.txt", "02_agent2_iteration_1.txt", "03_agent1_iteration_2.txt",
        "04_agent2_iteration_2.txt", "05_final_enhanced_prompt.txt", "prompt_trace_summary.json"]
    assert (tmp_path / "00_original_prompt.txt").read_text() == "a hare and a tortoise\n"
    assert "overall: 70.0" in (tmp_path / "02_agent2_iteration_1.txt").read_text()
    summary = json.loads((tmp_path / "prompt_trace_summary.json").read_text())
    assert summary["stop_reason"] == "threshold" and [r["overall"] for r in summary["iterations"]] == [70, 90]
    assert summary["cost_usd"] == pytest.approx(2 * 0.003) and summary["usage"] == {"input_tokens": 20, "output_tokens": 10}


def test_the_loop_stops_at_max_iterations(tmp_path):
    out = enhance("a hare", ScriptedDirector(), ScriptedCritic(50, 60, 70, 80), max_iterations=3, trace_dir=tmp_path)
    assert out.stop_reason == "max_iterations" and len(out.iterations) == 3 and out.final_score == 70
    assert (tmp_path / "07_final_enhanced_prompt.txt").read_text().strip() == "a hare +1 +2 +3"


def test_the_loop_stops_when_it_converges_and_keeps_the_best_version(tmp_path):
    out = enhance("a hare", ScriptedDirector(), ScriptedCritic(60, 61, 95), trace_dir=tmp_path)
    assert out.stop_reason == "converged" and len(out.iterations) == 2
    out = enhance("a hare", ScriptedDirector(), ScriptedCritic(64, 58, 95))  # a worse second round: the first wins
    assert out.stop_reason == "converged" and out.final == "a hare +1" and out.final_score == 64


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="empty"):
        enhance("  ", ScriptedDirector(), ScriptedCritic(1))
    with pytest.raises(ValueError, match="max_iterations"):
        enhance("a hare", ScriptedDirector(), ScriptedCritic(1), max_iterations=0)


def test_offline_agents_improve_real_prompts_to_the_threshold(tmp_path):
    brief = Brief(visual_type="b_roll", camera_move="pan_right", style="Warm storybook illustration", palette=["#2E4057", "#F2A541"],
                  brand="Tide & Stone")
    ad = (INPUTS / "ad-brief.txt").read_text(encoding="utf-8").split("\n")[0][:300]
    for text in ("A hare laughing at a slow tortoise", ad):
        before = ChecklistCritic().critique(text, brief).critique
        out = enhance(text, RuleDirector(), ChecklistCritic(), brief, trace_dir=tmp_path / str(len(text)))
        assert out.final_score >= 85 > before.overall, (text, out.iterations)
        assert out.final.startswith(" ".join(text.split()).rstrip(".")) and "#2E4057" in out.final and "Tide & Stone" in out.final
        assert out.stop_reason == "threshold"
    # deterministic: the same input gives the same output
    assert enhance("A hare laughing at a slow tortoise", RuleDirector(), ChecklistCritic(), brief).final == \
        enhance("A hare laughing at a slow tortoise", RuleDirector(), ChecklistCritic(), brief).final


def test_the_checklist_critic_names_what_is_missing():
    crit = ChecklistCritic().critique("nice things, cool stuff, awesome, amazing, very good, great, beautiful, wow", Brief(brand="Acme")).critique
    assert crit.professionalism < 100 and crit.cinematography == 0 and crit.brand_alignment == 0
    assert any("vague" in f for f in crit.feedback) and any("lens" in f for f in crit.feedback) and "name the brand: Acme" in crit.feedback


def _chat(request: Request) -> Response:
    body = json.loads(request.data)
    if body.get("tools"):  # the critic: structured output through the output tool
        args = {"completeness": 90, "specificity": 88, "professionalism": 92, "cinematography": 95, "brand_alignment": 100,
                "feedback": ["name the film stock"]}
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": body["tools"][0]["function"]["name"], "arguments": json.dumps(args)}}]}
    else:
        message = {"role": "assistant", "content": "Wide establishing shot of a hare mocking a tortoise at dawn, 35mm lens."}
    return Response(json.dumps({"id": "c1", "object": "chat.completion", "created": 1_790_000_000, "model": body["model"],
                                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                                "usage": {"prompt_tokens": 300, "completion_tokens": 100, "total_tokens": 400}}),
                    content_type="application/json")


def test_model_agents_speak_the_vendors_wire_format(httpserver, tmp_path):
    from storyreel.providers.llm.enhance_agents import LlmCritic, LlmDirector

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(_chat)
    llm = resolve("llm", "openai:gpt-5-mini", Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-x"}, allow_network=False))
    out = enhance("a hare mocking a tortoise", LlmDirector(llm), LlmCritic(llm), Brief(brand="Aesop"), trace_dir=tmp_path)
    assert out.stop_reason == "threshold" and out.final.startswith("Wide establishing shot")
    assert out.iterations[0]["scores"]["cinematography"] == 95 and out.usage == {"input_tokens": 600, "output_tokens": 200}
    assert out.cost_usd > 0
    sent = [json.loads(r.data) for r, _ in httpserver.log]
    user = next(m["content"] for m in sent[0]["messages"] if m["role"] == "user")
    assert user == "Brief:\nbrand: Aesop\n\nPrompt:\na hare mocking a tortoise"


def test_a_malformed_critique_is_a_provider_error(httpserver):
    from storyreel.providers.llm.enhance_agents import LlmCritic

    def bad(request: Request) -> Response:
        body = json.loads(request.data)
        call = {"id": "call_1", "type": "function", "function": {"name": body["tools"][0]["function"]["name"],
                                                                  "arguments": json.dumps({"completeness": 400})}}
        return Response(json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
                                    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None,
                                                                                                       "tool_calls": [call]}}]}),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(bad)
    llm = resolve("llm", "openai:gpt-5-mini", Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-x"}, allow_network=False))
    with pytest.raises(ProviderError):
        LlmCritic(llm).critique("a hare", Brief())


def test_the_cli_writes_the_seeds_trace_files_and_refuses_an_empty_prompt(tmp_path):
    from ..conftest import run_cli

    ws = tmp_path / "ws"
    proc = run_cli("enhance-prompt", "A lighthouse on a cliff at night", "--json", workspace=ws, check=True)
    out = json.loads(proc.stdout)
    assert out["stop_reason"] == "threshold" and out["final"].startswith("A lighthouse on a cliff at night.")
    assert "Soft directional morning light" in out["final"]  # 'lighthouse' is not a lighting cue
    folder = ws / "prompt_traces"
    (trace,) = folder.iterdir()
    assert sorted(p.name for p in trace.iterdir()) == ["00_original_prompt.txt", "01_agent1_iteration_1.txt", "02_agent2_iteration_1.txt",
                                                         "03_final_enhanced_prompt.txt", "prompt_trace_summary.json"]
    assert (trace / "03_final_enhanced_prompt.txt").read_text().strip() == out["final"]
    for bad, needle in ((["   "], "empty"), (["a hare", "--max-iterations", "0"], "--max-iterations"), (["a hare", "--type", "audio"], "--type")):
        proc = run_cli("enhance-prompt", *bad, workspace=ws)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
