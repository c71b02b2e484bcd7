"""The plan stage and the LLM planner's logic in-process, with pydantic-ai's own doubles: ``TestModel``
(schema-valid output made up from the DTO's schema) and ``FunctionModel`` (scripted answers)."""

from __future__ import annotations

import json

import pytest
from pydantic_ai.messages import ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

from storyreel.core.artifact import ID_PATTERN, Storyboard
from storyreel.core.errors import ProviderError
from storyreel.core.settings import Settings
from storyreel.engine.executor import Executor
from storyreel.engine.staleness import Cause, StaleCause, State
from storyreel.providers.base import PlannerRequest
from storyreel.providers.registry import resolve
from storyreel.stages.plan import PlanCtx, PlanStage
from storyreel.store.files import ProjectPaths

from .conftest import small_storyboard

HOSTILE = {
    "title": "../../etc/passwd", "language": "en", "aspect_ratio": "9:16", "framework": "PAS",
    "chapters": [{"title": "Problem", "shots": [
        {"narration": "Tired of slow mornings?", "visual_type": "b_roll", "visual_description": "A queue at dawn", "camera_move": "pan_left"},
        {"narration": "Meet the lamp.", "visual_type": "title_card", "visual_description": "The lamp", "camera_move": "static"}]}],
}


def planner(tmp_path, model):  # noqa: ANN001
    p = resolve("planner", "openai:gpt-5-mini", Settings(environ={"OPENAI_API_KEY": "sk-unused"}, workspace=tmp_path, allow_network=False))
    p.test_model = model
    return p


def request(kind: str = "prompt") -> PlannerRequest:
    return PlannerRequest(kind=kind, text="A 20-second vertical promo for a desk lamp", name="prompt", sha256="sha256:" + "1" * 64)


def test_testmodel_output_becomes_a_valid_storyboard_with_our_ids(tmp_path):
    board = planner(tmp_path, TestModel()).plan(request())
    Storyboard.model_validate(board.model_dump())
    ids = [board.project_id] + [c.chapter_id for c in board.chapters] + [s.shot_id for _, s in board.shots()]
    import re

    assert all(re.fullmatch(ID_PATTERN, i) for i in ids)
    assert [c.chapter_id for c in board.chapters] == [f"ch{i:02d}" for i in range(1, len(board.chapters) + 1)]


def test_ids_and_paths_never_come_from_the_model(tmp_path):
    seen: list[AgentInfo] = []

    def answer(messages, info: AgentInfo) -> ModelResponse:  # noqa: ANN001
        seen.append(info)
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, json.dumps(HOSTILE))])

    p = planner(tmp_path, FunctionModel(answer))
    board = p.plan(request())
    assert board.project_id == "etc-passwd" and [s.shot_id for _, s in board.shots()] == ["ch01-s01", "ch01-s02"]
    assert board.settings.aspect_ratio == "9:16" and board.plan.framework == "PAS" and board.plan.structure == "ad"
    schema = seen[0].output_tools[0].parameters_json_schema
    shot = schema["$defs"]["ShotDraft"]["properties"]
    assert shot["visual_type"]["enum"] == ["title_card", "diagram", "b_roll", "screen_share", "talking_head"]
    assert "Text spoken over this shot" in shot["narration"]["description"]  # the storyboard's own description
    assert p.last_usage["tokens"]["input_tokens"] > 0


def test_an_invalid_draft_is_a_provider_error_not_a_storyboard(tmp_path):
    def answer(messages, info: AgentInfo) -> ModelResponse:  # noqa: ANN001
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, json.dumps({**HOSTILE, "chapters": []}))])

    with pytest.raises(ProviderError, match="planning failed"):
        planner(tmp_path, FunctionModel(answer)).plan(request())


def test_the_plan_node_is_fresh_until_its_input_or_planner_changes(project):
    paths = ProjectPaths(project.settings.workspace, "hare")
    board = small_storyboard()
    calls = []

    def make_board() -> Storyboard:
        calls.append(1)
        return board

    def ctx(source: str, provider: str = "local:planner@local-planner/1") -> PlanCtx:
        return PlanCtx(make_board, {"source": source, "kind": "script"}, paths, provider)

    executor = Executor(project.store, "hare", paths.root)
    executor.evaluate([PlanStage()], ctx("sha256:a"), execute=True, force=True)
    assert len(calls) == 1
    fresh = executor.evaluate([PlanStage()], ctx("sha256:a"), execute=True)
    assert fresh.executed == [] and len(calls) == 1  # the planner is not asked again
    paths.storyboard.write_text(paths.storyboard.read_text().replace("Slow but steady", "Slow and steady"))
    edited = executor.evaluate([PlanStage()], ctx("sha256:a"), execute=False)
    assert edited.statuses[next(iter(edited.statuses))].state == State.FRESH  # user edits are kept
    changed = executor.evaluate([PlanStage()], ctx("sha256:b", "openai:gpt-5-mini@llm-planner/1"), execute=False)
    assert next(iter(changed.statuses.values())).causes == [StaleCause(Cause.PROVIDER), StaleCause(Cause.PARAMS)]
