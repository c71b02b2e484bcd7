"""Motion prompts and end frames (issue 26 item 4; seed 004 stories 8.3, 8.4, 9.1): the motion rubric of the
enhancement loop (offline rules; the LLM agents get the motion instructions), the prompt within the model's limit,
an end frame drawn from the shot's end state and sent as the model's last frame, and an edited description that
re-buys only that shot's clip."""

from __future__ import annotations

import base64
import json

from storyreel.prompts.enhance import Brief, enhance
from storyreel.providers.llm.enhance_agents import MOTION_CRITIC, MOTION_DIRECTOR, LlmCritic, LlmDirector
from storyreel.providers.llm.enhance_rules import ChecklistCritic, RuleDirector
from storyreel.stages.pipeline import MEDIA_STAGES

from ..providers.video_fakes import TOKEN, FakeReplicate, vendor_mp4
from .conftest import project  # noqa: F401 - the in-process project fixture

DRAFT = "A hare laughing at a tortoise in a meadow."


def test_the_motion_rubric_asks_for_camera_action_pacing_end_and_one_take() -> None:
    brief = Brief(kind="video", camera_move="pan_right", duration_s=5.0, end_state="the tortoise alone in the grass", limit=240)
    draft = ChecklistCritic().critique(DRAFT, brief).critique
    assert draft.overall < 40 and any("camera move" in f for f in draft.feedback) and any("ends" in f for f in draft.feedback)
    result = enhance(DRAFT, RuleDirector(), ChecklistCritic(), brief)
    assert result.final_score >= 85 and len(result.final) <= 240 and result.final.startswith("A slow pan to the right.")
    assert "hare laughing at a tortoise" in result.final and "over 5 seconds" in result.final
    long = Brief(kind="video", camera_move="zoom_in", duration_s=5.0, limit=120)
    assert len(RuleDirector().rewrite(DRAFT, [], long).text) <= 120  # whole sentences within the model's limit


def test_the_llm_agents_get_the_motion_instructions_and_the_neighbours() -> None:
    seen: list[tuple[str, str]] = []

    class Llm:
        provider_id, paid = "fake:llm", True

        def run(self, instructions, user, output_type, **kw):  # noqa: ANN001, ANN202
            seen.append((instructions, user))
            if output_type is str:
                return "A slow push in on the hare.", {"input_tokens": 10}, 0.001
            from storyreel.prompts.enhance import Critique

            return Critique(completeness=90, specificity=90, professionalism=90, cinematography=90, brand_alignment=90), {}, 0.001

    brief = Brief(kind="video", before="The title card", after="The race course", limit=1000, duration_s=6)
    LlmDirector(Llm()).rewrite(DRAFT, [], brief)
    LlmCritic(Llm()).critique(DRAFT, brief)
    assert seen[0][0] == MOTION_DIRECTOR.format(limit=1000) and seen[1][0] == MOTION_CRITIC
    assert "the shot after: The race course" in seen[0][1] and "prompt limit (characters): 1000" in seen[0][1]


def test_end_frames_and_enhanced_motion_prompts_reach_the_vendor(project, httpserver, tmp_path):  # noqa: ANN001, F811
    fake = FakeReplicate(vendor_mp4(tmp_path / "v.mp4", size="640x360"), httpserver.url_for("/delivery/clip.mp4")).serve(httpserver)
    project.settings = project.settings.model_copy(update={
        "clips_provider": "replicate:kwaivgi/kling-v3-video", "video_poll_s": 0.02, "http_backoff_s": 0.01, "max_cost_usd": 20.0,
        "enhance_prompts": True, "environ": {"STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": TOKEN}})
    ctx = project.ctx()
    report = project.run(list(MEDIA_STAGES), ctx)
    assert not [n for n, st in report.statuses.items() if st.state == "fail"]
    moving = [s.shot_id for _, s in project.board.shots() if ctx.moving(s.shot_id)]
    assert moving == ["ch01-s02", "ch02-s01", "ch02-s02"]  # the title card keeps its Ken Burns move
    assert sorted(c["input"]["prompt"] for c in fake.creates) == sorted(
        json.loads(ctx.paths.motion_prompt(s).read_text())["prompt"] for s in moving)
    for shot in moving:
        record = json.loads(ctx.paths.motion_prompt(shot).read_text())
        assert record["score"] >= 85 and len(record["prompt"]) <= 2500 and "one continuous shot" in record["prompt"].lower()
        assert (ctx.paths.root / record["trace"] / "00_original_prompt.txt").is_file()
        end = ctx.paths.end_frame(shot)
        sent = next(c["input"] for c in fake.creates if c["input"]["prompt"] == record["prompt"])
        assert base64.b64decode(sent["end_image"].split(",", 1)[1]) == end.read_bytes()  # the end frame is the last frame sent
        assert json.loads(end.with_suffix(".json").read_text())["end_state"] == record["end_state"]
        assert record["negative_prompt"] == sent["negative_prompt"]
    assert not ctx.paths.end_frame("ch01-s01").exists() and not ctx.paths.motion_prompt("ch01-s01").exists()

    chapter = project.board.chapters[1]  # an edited description: that shot's prompt, end frame and clip, nothing else bought
    chapter.shots[1].visual.description = "The tortoise stepping over the finish line at dusk"
    before = len(fake.creates)
    project.run(list(MEDIA_STAGES), project.ctx())
    assert len(fake.creates) == before + 1 and "dusk" in fake.creates[-1]["input"]["prompt"]
