"""Typed results of the facade's verbs (serialized as the CLI's ``--json`` output)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class RunResult(BaseModel):
    """What a ``make`` or ``render`` did: the project's status word (``done`` | ``partial``), its files,
    the nodes executed by this call, and the nodes whose output is a stand-in needing attention."""

    project_id: str
    status: str
    storyboard_path: Path
    video_path: Path | None
    executed: list[str] = Field(default_factory=list)
    invocation: str = ""
    duration_s: float = 0.0
    attention: dict[str, str] = Field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "project_id": self.project_id,
            "status": self.status,
            "storyboard_path": str(self.storyboard_path),
            "video_path": str(self.video_path) if self.video_path else None,
            "executed_nodes": self.executed,
            "executed_count": len(self.executed),
            "invocation": self.invocation,
            "duration_s": round(self.duration_s, 3),
            "attention": self.attention,
        }


MakeResult = RunResult


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
