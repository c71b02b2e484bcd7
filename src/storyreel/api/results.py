"""Typed results of the facade's verbs (serialized as the CLI's ``--json`` output)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from storyreel.api.session import Project
    from storyreel.engine.executor import RunReport
    from storyreel.store.models import Run


class RunResult(BaseModel):
    """What a ``make``, ``render`` or ``pick`` did: the project's status word (``done`` | ``partial``), its
    files, the nodes executed by this call, and the nodes whose output is a stand-in needing attention."""

    project_id: str
    status: str
    storyboard_path: Path
    video_path: Path | None
    executed: list[str] = Field(default_factory=list)
    restored: list[str] = Field(default_factory=list, description="Nodes whose outputs came back from the build cache.")
    invocation: str = ""
    duration_s: float = 0.0
    attention: dict[str, str] = Field(default_factory=dict)
    edited: str | None = Field(default=None, description="What an edit changed, in words (``storyreel edit``/``import``).")

    @classmethod
    def of(cls, project: Project, report: RunReport, status: str, started: float, runs: list[Run] | None = None) -> RunResult:
        """The result of an evaluation of ``project`` that began at ``started`` (``time.perf_counter``). The nodes
        executed and restored (given back by the build cache) are this evaluation's, or with ``runs`` (the run records
        of the whole invocation, e.g. the plan node's before the media stages) those records' successes."""
        if runs is None:
            executed, restored = [n.name for n in report.executed], [n.name for n in report.restored]
        else:
            done = [r for r in runs if r.status == "success"]
            executed = [f"{r.stage}[{r.unit}]" for r in done if not (r.details or {}).get("cached")]
            restored = [f"{r.stage}[{r.unit}]" for r in done if (r.details or {}).get("cached")]
        return cls(
            project_id=project.id, status=status, storyboard_path=project.paths.storyboard, video_path=project.paths.video,
            attention={s.node.name: s.attention for s in report.statuses.values() if s.attention},
            executed=executed, restored=restored, invocation=report.invocation, duration_s=time.perf_counter() - started,
        )

    @classmethod
    def from_stamp(cls, done: dict[str, Any]) -> RunResult:
        """The result an up-to-date stamp recorded (its :meth:`as_dict` form)."""
        return cls(project_id=done["project_id"], status=done["status"], storyboard_path=Path(done["storyboard_path"]),
                   video_path=Path(done["video_path"]) if done.get("video_path") else None, attention=done.get("attention") or {})

    def as_dict(self) -> dict:
        return {
            "project_id": self.project_id,
            "status": self.status,
            "storyboard_path": str(self.storyboard_path),
            "video_path": str(self.video_path) if self.video_path else None,
            "executed_nodes": self.executed,
            "executed_count": len(self.executed),
            "restored_nodes": self.restored,
            "invocation": self.invocation,
            "duration_s": round(self.duration_s, 3),
            "attention": self.attention,
            **({"edited": self.edited} if self.edited is not None else {}),
        }


MakeResult = RunResult


class PlanResult(BaseModel):
    """``plan``: the project and its storyboard as planned (or kept, when the plan node was fresh)."""

    model_config = {"arbitrary_types_allowed": True}

    project_id: str
    storyboard: Any = Field(description="The validated :class:`~storyreel.core.artifact.Storyboard`.")
    storyboard_path: Path

    def as_dict(self) -> dict:
        board = self.storyboard
        return {"project_id": self.project_id, "storyboard_path": str(self.storyboard_path), "chapters": len(board.chapters),
                "shots": len(board.shots()), "framework": board.plan.framework, "aspect_ratio": board.settings.aspect_ratio}


class ImagegenResult(BaseModel):
    """``imagegen``: per-shot rows and counts; for a dry run the estimate against the cap."""

    project_id: str
    dry_run: bool
    shots: list[dict] = Field(default_factory=list)
    generated: int = 0
    reused: int = 0
    failed: int = 0
    cost_usd: float = 0.0
    estimate_usd: float = 0.0
    cap_usd: float = 0.0
    spent_before_usd: float = 0.0

    def as_dict(self) -> dict:
        return self.model_dump(mode="json")


class CostReport(BaseModel):
    """``cost``: the ledger's summary against the cap, each paid node's committed cost, and the calls
    whose outcome is unknown (*uncertain*: counted at their estimate against the cap)."""

    project_id: str
    cap_usd: float
    spent_usd: float
    reserved_usd: float
    remaining_usd: float
    calls: int
    by_provider: dict[str, float]
    nodes: list[dict]
    uncertain_calls: int = 0
    uncertain_usd: float = 0.0
    uncertain: list[dict] = Field(default_factory=list)  # node, provider, estimate_usd, why

    def as_dict(self) -> dict:
        return self.model_dump(mode="json")
