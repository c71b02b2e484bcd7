"""Story mode's steps as engine nodes (seed 003; issue 27): ``lore`` → ``narrative`` → ``scenes`` → ``components`` →
``stage_shot[scene]`` → ``shots[scene]`` → ``plan[project]`` (the storyboard assembled from them), then the usual
media stages (references of the components, shot images, narration, clips, render, QC).

Each step's node asks the story engine (:class:`StoryCtx.writer`: ``local:story`` offline, or the LLM steps) for the
step's output DTO given its context DTO (:data:`storyreel.core.story.STEPS`) and keeps the answer in ``story/``:
``lore.json`` / ``narrative.json`` (three options each), ``scenes.json``, ``components.json``,
``stage_shot/<scene>.json``, ``shots/<scene>.json``. A node's key holds the engine's identity and the picks its
context depends on, and its inputs are the upstream nodes' files — so a pick (``story/picks.json``, ``storyreel pick
PROJECT narrative 2``) makes exactly the downstream steps stale, a failure leaves every finished step cached, and a
re-run resumes from the first step that is not fresh. ``plan[project]`` writes ``storyboard.json``: a title card,
then per scene a chapter whose shots are the scene's shots (the first is its stage shot), the components as the
storyboard's entities (a prop is a ``product``), each shot naming the entities it shows; and ``story/story.json``,
the whole :class:`~storyreel.core.story.StorySpec`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from storyreel.core.artifact import (
    Chapter,
    Entity,
    PlanInfo,
    ProjectSettings,
    Shot,
    SourceInfo,
    Storyboard,
    Visual,
    slugify_id,
)
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.core.story import PICKABLE, STEPS, StorySpec
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.store.files import ProjectPaths

UNIT = "story"


@dataclass
class StoryCtx:
    """What the story nodes need: the project's ``paths``, the ``prompt``, the story engine (``writer``: ``reply(step,
    context) -> (output, tokens, USD)``, ``estimate``, ``identity(step)``, ``provider_id``, ``code_version``, ``paid``:
    :class:`~storyreel.providers.story.local_story.LocalStory` or :class:`~storyreel.providers.story.llm_story.LlmStory`),
    the ``source`` record, the storyboard settings asked for (``language``, ``aspect_ratio``) and the project's cost
    ``ledger`` (paid steps are reserved there)."""

    paths: ProjectPaths
    prompt: str
    writer: Any
    source: SourceInfo
    language: str | None = None
    aspect_ratio: str | None = None
    usage: dict = field(default_factory=dict)
    ledger: Any = None
    scene_options: bool = False

    @property
    def folder(self) -> Path:
        return self.paths.root / "story"

    def save_request(self) -> None:
        """Keep what the story was asked with (``story/request.json``), so a later ``pick`` re-plans it the same way."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.folder / "request.json", json.dumps({
            "prompt": self.prompt, "source": self.source.model_dump(mode="json"), "language": self.language,
            "aspect_ratio": self.aspect_ratio}, indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, paths: ProjectPaths, writer: Any, *, scene_options: bool = False) -> StoryCtx:
        """The story context of a story project as its last ``make`` asked it. Raises :class:`InputError` (field
        ``PROJECT``) for a project that is not a story."""
        try:
            asked = json.loads((paths.root / "story" / "request.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"{paths.project_id} is not a story", field="PROJECT",
                             hint="lore, narrative and scenes are picked in projects made with --kind story") from None
        return cls(paths, asked["prompt"], writer, SourceInfo.model_validate(asked["source"]), language=asked.get("language"),
                   aspect_ratio=asked.get("aspect_ratio"), scene_options=scene_options)

    def options(self, step: str) -> int:
        """How many options ``step`` answered (0 before it ran; 1 for a step that answers one)."""
        try:
            return len(self.read(step).get("options") or [None])
        except (OSError, ValueError):
            return 0

    def scene_list(self) -> list[dict]:
        """The scenes in use: the scenes step's answer, or its picked option when it answers options."""
        record = self.read("scenes")
        return self.chosen("scenes")["scenes"] if "options" in record else record["scenes"]

    def check_option(self, step: str, option: int | None) -> None:
        """Raises :class:`InputError` naming ``candidate`` when ``step`` has no option ``option`` (None: always fine)."""
        made = self.options(step)
        if option is not None and not 1 <= option <= made:
            hint = f"see the options in story/{step}.json"
            if step == "scenes" and made == 1:
                hint = "scenes answers one list unless STORYREEL_STORY_SCENE_OPTIONS=1 (then make again: three lists to pick from)"
            raise InputError(f"{step} has no option {option}; its options: {', '.join(map(str, range(1, made + 1))) or 'none yet'}",
                             field="candidate", hint=hint)

    def pick(self, step: str, option: int | None) -> bool:
        """Record a person's pick of ``step``'s option (None: option 1 again) in ``story/picks.json``; False when it
        was already so (nothing changes). Raises :class:`InputError` naming ``candidate`` for an option not made."""
        self.check_option(step, option)
        picks = self.picks()
        wanted = option or 1
        if picks[step] == wanted:
            return False
        picks[step] = wanted
        atomic_write_text(self.folder / "picks.json", json.dumps(picks, indent=2) + "\n")
        return True

    def file(self, step: str, unit: str = UNIT) -> Path:
        return self.folder / (f"{step}.json" if unit == UNIT else f"{step}/{unit}.json")

    def picks(self) -> dict[str, int]:
        """The options a person picked (``story/picks.json``); option 1 where none."""
        try:
            data = json.loads((self.folder / "picks.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        return {step: int(data.get(step, 1)) for step in PICKABLE}

    def read(self, step: str, unit: str = UNIT) -> dict:
        return json.loads(self.file(step, unit).read_text(encoding="utf-8"))

    def chosen(self, step: str) -> dict:
        """The picked option of a multi-option step (option 1 until a person picks; the last if fewer were made)."""
        options = self.read(step)["options"]
        return options[min(self.picks()[step], len(options)) - 1]

    def scene_ids(self) -> list[str]:
        """The scenes' unit names (``scene-1`` …), once ``scenes`` has run; [] before."""
        try:
            return [f"scene-{i + 1}" for i in range(len(self.scene_list()))]
        except (OSError, ValueError, KeyError):
            return []

    def scene(self, unit: str) -> dict:
        return self.scene_list()[int(unit.removeprefix("scene-")) - 1]

    def scene_components(self, unit: str) -> list[dict]:
        name = self.scene(unit)["name"]
        comps = self.read("components")["components"]
        return [c for c in comps if name in c["scenes"]] or comps


class _Step(Stage[StoryCtx]):
    """One story step: ask the engine for its output given :meth:`context`, keep it in ``story/``."""

    step: ClassVar[str]
    picks_used: ClassVar[tuple[str, ...]] = ()

    def units(self, ctx: StoryCtx) -> list[str]:
        return [UNIT]

    def context(self, ctx: StoryCtx, unit: str) -> dict:
        raise NotImplementedError

    def answer_step(self, ctx: StoryCtx) -> str:
        """The step the writer answers (its DTOs): the stage's own, unless a setting asks for its options."""
        return self.step

    def recipe(self, ctx: StoryCtx, unit: str) -> RecipeParts:
        picks = ctx.picks()
        return RecipeParts(provider=f"{ctx.writer.identity(self.answer_step(ctx))}@{ctx.writer.code_version}",
                           params={"prompt": ctx.prompt if self.step in ("lore", "narrative") else None,
                                   "picks": {k: picks[k] for k in self.picks_used}})

    def run(self, ctx: StoryCtx, unit: str) -> NodeOutput:
        from storyreel.store.ledger import hold

        step = self.answer_step(ctx)
        context_model, _ = STEPS[step]
        context = context_model.model_validate(self.context(ctx, unit))
        writer = ctx.writer
        with hold(ctx.ledger, f"{self.name}[{unit}]", writer.identity(step).split("|")[0], lambda: writer.estimate(step, context),
                  paid=writer.paid) as held:
            answer, tokens, cost = writer.reply(step, context)
            held.commit(cost)
        out = ctx.file(self.step, unit)
        out.parent.mkdir(parents=True, exist_ok=True)
        record = {**answer.model_dump(mode="json"), "provider": writer.identity(step), "tokens": tokens, "cost_usd": cost}
        atomic_write_text(out, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return NodeOutput(files=[out], details={"provider": writer.identity(self.step), "tokens": tokens}, cost_usd=cost, versioned=[out])


class LoreStage(_Step):
    name: ClassVar[str] = "lore"
    code_version: ClassVar[str] = "lore/1"
    step = "lore"

    def context(self, ctx: StoryCtx, unit: str) -> dict:
        return {"prompt": ctx.prompt}


class NarrativeStage(_Step):
    name: ClassVar[str] = "narrative"
    code_version: ClassVar[str] = "narrative/1"
    step = "narrative"
    picks_used = ("lore",)

    def inputs(self, ctx: StoryCtx, unit: str) -> list[Node]:
        return [Node("lore", UNIT)]

    def context(self, ctx: StoryCtx, unit: str) -> dict:
        return {"prompt": ctx.prompt, "lore": _strip(ctx.chosen("lore"))}


class ScenesStage(_Step):
    """``scenes[story]``: the scene list — or, with the setting ``story_scene_options``, three scene lists to pick from
    (step ``scenes_options``, kept in the same file)."""

    name: ClassVar[str] = "scenes"
    code_version: ClassVar[str] = "scenes/1"
    step = "scenes"
    picks_used = ("lore", "narrative")

    def answer_step(self, ctx: StoryCtx) -> str:
        return "scenes_options" if ctx.scene_options else "scenes"

    def inputs(self, ctx: StoryCtx, unit: str) -> list[Node]:
        return [Node("lore", UNIT), Node("narrative", UNIT)]

    def context(self, ctx: StoryCtx, unit: str) -> dict:
        return {"lore": _strip(ctx.chosen("lore")), "narrative": _strip(ctx.chosen("narrative"))}


class ComponentsStage(_Step):
    name: ClassVar[str] = "components"
    code_version: ClassVar[str] = "components/1"
    step = "components"
    picks_used = ("narrative", "scenes")

    def inputs(self, ctx: StoryCtx, unit: str) -> list[Node]:
        return [Node("narrative", UNIT), Node("scenes", UNIT)]

    def context(self, ctx: StoryCtx, unit: str) -> dict:
        return {"narrative": _strip(ctx.chosen("narrative")), "scenes": ctx.scene_list()}


class _SceneStep(_Step):
    """A step run once per scene (``scene-1`` …), the scenes in parallel."""

    max_workers: ClassVar[int] = 4

    def units(self, ctx: StoryCtx) -> list[str]:
        return ctx.scene_ids()

    def recipe(self, ctx: StoryCtx, unit: str) -> RecipeParts:
        base = super().recipe(ctx, unit)
        return RecipeParts(provider=base.provider, params={**base.params, "scene": unit})


class StageShotStage(_SceneStep):
    name: ClassVar[str] = "stage_shot"
    code_version: ClassVar[str] = "stage-shot/1"
    step = "stage_shot"
    picks_used = ("lore", "scenes")

    def inputs(self, ctx: StoryCtx, unit: str) -> list[Node]:
        return [Node("lore", UNIT), Node("scenes", UNIT), Node("components", UNIT)]

    def context(self, ctx: StoryCtx, unit: str) -> dict:
        return {"lore": _strip(ctx.chosen("lore")), "scene": ctx.scene(unit), "components": ctx.scene_components(unit)}


class ShotsStage(_SceneStep):
    name: ClassVar[str] = "shots"
    code_version: ClassVar[str] = "shots/1"
    step = "shots"
    picks_used = ("narrative", "scenes")

    def inputs(self, ctx: StoryCtx, unit: str) -> list[Node]:
        return [Node("narrative", UNIT), Node("scenes", UNIT), Node("components", UNIT), Node("stage_shot", unit)]

    def context(self, ctx: StoryCtx, unit: str) -> dict:
        return {"narrative": _strip(ctx.chosen("narrative")), "scene": ctx.scene(unit),
                "stage_setting_shot": _strip(ctx.read("stage_shot", unit)), "components": ctx.scene_components(unit)}


class StoryPlanStage(Stage[StoryCtx]):
    """``plan[project]`` in story mode: ``storyboard.json`` assembled from the story's steps (see the module)."""

    name: ClassVar[str] = "plan"
    code_version: ClassVar[str] = "story-plan/1"

    def units(self, ctx: StoryCtx) -> list[str]:
        return ["project"]

    def inputs(self, ctx: StoryCtx, unit: str) -> list[Node]:
        return [Node("lore", UNIT), Node("components", UNIT), *(Node("shots", s) for s in ctx.scene_ids())]

    def recipe(self, ctx: StoryCtx, unit: str) -> RecipeParts:
        return RecipeParts(provider="story", params={"source": ctx.source.sha256, "picks": ctx.picks(), "language": ctx.language,
                                                     "aspect_ratio": ctx.aspect_ratio, "project_id": ctx.paths.project_id})

    def run(self, ctx: StoryCtx, unit: str) -> NodeOutput:
        board, spec = assemble(ctx)
        atomic_write_text(ctx.paths.storyboard, board.model_dump_json(indent=2) + "\n")
        atomic_write_text(ctx.folder / "story.json", spec.model_dump_json(indent=2) + "\n")
        return NodeOutput(files=[ctx.paths.storyboard, ctx.folder / "story.json"],
                          details={"structure": "story", "scenes": len(board.chapters) - 1, "picks": ctx.picks()})


STORY_STAGES = (LoreStage(), NarrativeStage(), ScenesStage(), ComponentsStage(), StageShotStage(), ShotsStage(), StoryPlanStage())
"""Story mode's planning, in order. The per-scene steps' units come from ``scenes``' answer: the engine lists a
stage's units when it reaches the stage, after the stages before it have run."""


def assemble(ctx: StoryCtx) -> tuple[Storyboard, StorySpec]:
    """The storyboard and the full story spec from the steps' files. Raises :class:`InputError` when a step's answer
    cannot make a valid storyboard (named, with the step)."""
    lore = ctx.chosen("lore")
    components = ctx.read("components")["components"]
    entity_of: dict[str, str] = {}
    for i, c in enumerate(components):
        eid = _entity_id(c["name"], i)
        entity_of[c["name"]] = eid if eid not in entity_of.values() else f"{eid[:58]}-{i + 1}"
    entities = [Entity(entity_id=entity_of[c["name"]], kind="product" if c["kind"] == "prop" else c["kind"], name=c["name"][:200],
                       description=c["description"][:2000]) for c in components]
    title = lore["title"][:200] or "Story"
    chapters = [Chapter(chapter_id="title", title=title, shots=[Shot(
        shot_id="title-01", narration=f"{title}.", camera_move="zoom_in",
        visual=Visual(type="title_card", description=title))])]
    scenes = ctx.scene_list()
    for i, scene in enumerate(scenes, start=1):
        shots = ctx.read("shots", f"scene-{i}")["shots"]
        scene["stage_setting_shot"] = _strip(ctx.read("stage_shot", f"scene-{i}"))
        scene["shots"] = shots
        chapters.append(Chapter(chapter_id=f"scene-{i}", title=scene["name"][:200] or f"Scene {i}", shots=[
            Shot(shot_id=f"scene-{i}-{j:02d}", narration=s["narration"][:5000] or "…", camera_move=s["camera_move"],
                 visual=Visual(type="b_roll", description=s["description"][:2000],
                               entities=[entity_of[n] for n in s["components"] if n in entity_of]))
            for j, s in enumerate(shots, start=1)]))
    settings = ProjectSettings(title=title, **{k: v for k, v in {"language": ctx.language, "aspect_ratio": ctx.aspect_ratio}.items() if v})
    settings = settings.model_copy(update={"style": settings.style.model_copy(update={"style_prefix": f"{lore['visual_style']}."[:500]})})
    try:
        board = Storyboard(project_id=ctx.paths.project_id, settings=settings, source=ctx.source,
                           plan=PlanInfo(provider=ctx.writer.provider_id, structure="story"), chapters=chapters, entities=entities)
        board = Storyboard.model_validate_json(board.model_dump_json())
    except ValueError as exc:
        raise InputError(f"the story's steps cannot make a valid storyboard: {exc}", field="story") from None
    picks = ctx.picks()
    scene_record = ctx.read("scenes")
    spec = StorySpec(prompt=ctx.prompt, lore_options=ctx.read("lore")["options"], narrative_options=ctx.read("narrative")["options"],
                     scene_options=[o["scenes"] for o in scene_record["options"]] if "options" in scene_record else None,
                     picks=picks, components=components, scenes=scenes)
    return board, spec


def _strip(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("provider", "tokens", "cost_usd")}


def _entity_id(name: str, index: int) -> str:
    return slugify_id(name.removeprefix("the ").removeprefix("The "), fallback=f"component-{index + 1}")[:64]
