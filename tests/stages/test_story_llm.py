"""Story mode's steps on an LLM, in process, with pydantic-ai's ``FunctionModel`` standing in for the vendor (issue 27):
each step's call carries its strict DTO (the storage models' descriptions in the schema) and the seed's reasoning
effort; every call is reserved and booked in the ledger; a model that answers ``narrative`` with broken JSON fails
that step with a clear error, every finished step stays cached, and the re-run resumes there without calling the lore
again; a pick re-runs only what depends on it."""

from __future__ import annotations

import json
import re

import pytest
from pydantic_ai.messages import ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from storyreel.api.session import Workspace
from storyreel.core.artifact import SourceInfo
from storyreel.core.errors import StageError
from storyreel.core.settings import Settings
from storyreel.engine.executor import Executor
from storyreel.providers.story.llm_story import INSTRUCTIONS, writer
from storyreel.providers.story.local_story import LocalStory
from storyreel.stages.story import STORY_STAGES, StoryCtx
from storyreel.store.ledger import CostLedger

PROMPT = "A fox and a crow argue over a piece of cheese in the forest"
STEP_OF = {text: step for step, text in INSTRUCTIONS.items()}


class Author:
    """The vendor's model: answers each step's output tool with what the offline engine would write (valid), or with
    broken JSON for the steps in ``broken``; keeps each call's step, settings and schema."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, dict]] = []
        self.asked: dict[str, dict] = {}
        self.broken: set[str] = set()
        self.local = LocalStory()

    def __call__(self, messages, info: AgentInfo) -> ModelResponse:  # noqa: ANN001
        instructions = next(m.instructions for m in messages if getattr(m, "instructions", None))
        step = STEP_OF[instructions]
        schema = info.output_tools[0].parameters_json_schema
        self.calls.append((step, dict(info.model_settings or {}), schema))
        if step in self.broken:
            return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, '{"options": [{"logline": "unfinished')])
        context = json.loads(re.search(r"Context \(JSON\):\n(.*)", messages[0].parts[-1].content, re.S).group(1))
        answer = getattr(self.local, f"_{step}")(context)
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, json.dumps(answer))])

    def steps(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture
def story(tmp_path):  # noqa: ANN201
    settings = Settings(workspace=tmp_path / "ws", allow_network=False, max_cost_usd=5.0, story_llm="openai:gpt-5",
                        environ={"OPENAI_API_KEY": "sk-test-not-real", "STORYREEL_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})  # never called
    project = Workspace(settings).project("fox-tale")
    project.record(title="fox tale", input_kind="story", input_name="prompt")
    author = Author()
    story_writer = writer(settings, model=FunctionModel(author))
    for step, llm in story_writer.llms.items():  # what each step asks of its LLM (pydantic-ai drops settings a test model lacks)
        real = llm.run

        def spy(*args, _real=real, _step=step, **kw):  # noqa: ANN002, ANN003, ANN202
            author.asked[_step] = {"thinking": kw.get("thinking"), "temperature": kw.get("temperature")}
            return _real(*args, **kw)

        llm.run = spy
    ctx = StoryCtx(project.paths, PROMPT, story_writer, SourceInfo(kind="story", name="prompt", sha256="sha256:" + "2" * 64),
                   ledger=project.ledger)
    return project, ctx, author


def run(project, ctx) -> list[str]:  # noqa: ANN001
    report = Executor(project.store, project.id, project.paths.root).evaluate(list(STORY_STAGES), ctx, execute=True)
    return [f"{n.stage}[{n.unit}]" for n in report.executed]


def test_every_step_is_one_structured_call_with_its_dto_and_reasoning(story) -> None:
    project, ctx, author = story
    ran = run(project, ctx)
    assert ran[:4] == ["lore[story]", "narrative[story]", "scenes[story]", "components[story]"] and ran[-1] == "plan[project]"
    assert sorted(author.steps()) == sorted(["lore", "narrative", "scenes", "components"] + ["stage_shot", "shots"] * 3)
    settings = {step: s for step, s, _ in author.calls}
    assert author.asked["lore"]["thinking"] == "medium" and author.asked["scenes"]["thinking"] == "medium"  # seed 003's answers
    assert author.asked["shots"]["thinking"] is False and author.asked["components"]["thinking"] is False
    assert "temperature" not in settings["lore"] and settings["shots"]["temperature"] == 0.6  # reasoning models get none
    shots_schema = json.dumps(next(schema for step, _, schema in author.calls if step == "shots"))
    assert "What the narrator says over this shot: one or two sentences." in shots_schema and '"additionalProperties": false' in shots_schema
    assert json.loads(ctx.file("lore").read_text())["tokens"]["input_tokens"] > 0
    ledger = CostLedger(project.store.sessions, project.id, 5.0).summary()
    assert ledger.by_provider["openai:gpt-5"] > 0 and ledger.reserved_usd == 0  # reserved before, booked after
    board = json.loads(project.paths.storyboard.read_text())
    assert board["plan"] == {**board["plan"], "provider": "openai:gpt-5", "structure": "story"}


def test_a_broken_narrative_fails_that_step_and_the_rerun_resumes_there(story) -> None:
    project, ctx, author = story
    author.broken = {"narrative"}
    with pytest.raises(StageError, match=r"narrative\[story\]"):
        run(project, ctx)
    assert author.steps().count("lore") == 1 and ctx.file("lore").is_file() and not ctx.file("narrative").exists()
    ledger = CostLedger(project.store.sessions, project.id, 5.0).summary()
    assert ledger.uncertain_calls == 1  # the unusable answer was billed: counted, not forgotten
    author.broken = set()
    ran = run(project, ctx)
    assert "lore[story]" not in ran and ran[0] == "narrative[story]" and author.steps().count("lore") == 1


def test_a_pick_reruns_only_what_depends_on_it(story) -> None:
    project, ctx, author = story
    run(project, ctx)
    before = len(author.calls)
    assert ctx.pick("narrative", 3) and not ctx.pick("narrative", 3)  # the second time: already so
    ran = run(project, ctx)
    asked = author.steps()[before:]
    assert "lore" not in asked and "narrative" not in asked and {"scenes", "components", "shots"} <= set(asked)
    assert "lore[story]" not in ran and "plan[project]" in ran
    assert run(project, ctx) == []  # every step fresh
