"""In-process stage tests: a small real storyboard, the real engine and database, fake providers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from storyreel.api.session import Project as ProjectSession
from storyreel.api.session import Workspace
from storyreel.core.artifact import Chapter, PlanInfo, ProjectSettings, Shot, SourceInfo, Storyboard, Visual
from storyreel.core.atomic import atomic_write_text
from storyreel.core.settings import Settings
from storyreel.engine.executor import Executor, RunReport
from storyreel.engine.graph import Stage
from storyreel.providers import override
from storyreel.stages.context import ProjectContext
from storyreel.store.records import RunStore

# Aesop's "The Hare and the Tortoise" (../shared/inputs/hare-and-tortoise.txt), cut to four shots
SHOTS = [
    ("ch01", "The Hare and the Tortoise", "ch01-s01", "title_card", "The Hare and the Tortoise.", "The Hare and the Tortoise"),
    ("ch01", "The Hare and the Tortoise", "ch01-s02", "b_roll",
     "A Hare one day ridiculed the short feet and slow pace of the Tortoise.", "A hare laughing at a tortoise in a meadow"),
    ("ch02", "The race", "ch02-s01", "diagram", "First they agreed on a course, then a judge, then the start.",
     "Diagram: the course; the judge; the start"),
    ("ch02", "The race", "ch02-s02", "b_roll", "Slow but steady wins the race.", "The tortoise crossing the finish line"),
]


def small_storyboard(project_id: str = "hare") -> Storyboard:
    chapters: dict[str, Chapter] = {}
    for cid, title, sid, vtype, narration, description in SHOTS:
        shot = Shot(shot_id=sid, narration=narration, visual=Visual(type=vtype, description=description))
        if cid in chapters:
            chapters[cid].shots.append(shot)
        else:
            chapters[cid] = Chapter(chapter_id=cid, title=title, shots=[shot])
    return Storyboard(
        project_id=project_id, settings=ProjectSettings(title="The Hare and the Tortoise"),
        source=SourceInfo(kind="script", name="hare-and-tortoise.txt", sha256="sha256:" + "0" * 64),
        plan=PlanInfo(provider="test:hand-written", structure="script"), chapters=list(chapters.values()),
    )


@dataclass
class Project:
    settings: Settings
    board: Storyboard

    @property
    def session(self) -> ProjectSession:
        """The project opened on ``settings`` as they are now (tests change them)."""
        return Workspace(self.settings).project(self.board.project_id)

    @property
    def store(self) -> RunStore:
        return self.session.store

    def ctx(self, **providers: object) -> ProjectContext:
        """The stage context with ``providers`` (image=, llm=, tts=) injected through ``override``."""
        with override(**providers):
            return self.session.context(board=self.board)

    def run(self, stages: list[Stage], ctx: ProjectContext, **kw: object) -> RunReport:
        return Executor(self.store, self.board.project_id, ctx.paths.root).evaluate(stages, ctx, execute=True, **kw)

    def status(self, stages: list[Stage], ctx: ProjectContext) -> RunReport:
        return Executor(self.store, self.board.project_id, ctx.paths.root).evaluate(stages, ctx, execute=False)


def new_project(tmp_path: Path) -> Project:
    settings = Settings(workspace=tmp_path / "ws", allow_network=False, max_cost_usd=1.0)
    board = small_storyboard()
    session = Workspace(settings).project(board.project_id)
    session.record(title=board.settings.title, input_kind="script", input_name="hare-and-tortoise.txt")
    atomic_write_text(session.paths.storyboard, board.model_dump_json(indent=2))
    return Project(settings, board)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return new_project(tmp_path)
