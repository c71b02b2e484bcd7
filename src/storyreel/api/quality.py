"""``quality``: per shot, the candidate images, their scores, the selected one and who picked it (FR-043)."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from storyreel.api.project import load_project, settings_for
from storyreel.api.requests import ProjectRequest
from storyreel.store.files import ProjectPaths


class QualityReport(BaseModel):
    """``{"project_id", "shots": [{"shot_id", "candidates": [{"index", "path", "status", "scores", "total",
    "rank"}], "selected", "picked_by": "auto" | "user" | None, "pick_ignored"}], "override_rate"}`` — indexes
    as ``storyreel pick`` takes them; a shot not selected yet has no candidates and ``selected`` None."""

    project_id: str
    shots: list[dict] = Field(default_factory=list)

    @property
    def override_rate(self) -> float | None:
        """Share of selected shots whose image a person picked (None when none is selected)."""
        chosen = [s for s in self.shots if s["selected"] is not None]
        return round(sum(s["picked_by"] == "user" for s in chosen) / len(chosen), 4) if chosen else None

    def as_dict(self) -> dict:
        return {"project_id": self.project_id, "shots": self.shots, "override_rate": self.override_rate}


def quality(request: ProjectRequest | None = None, **fields: object) -> QualityReport:
    """The quality report of a project, read from each shot's ``images/<shot>/scores.json`` (the select
    stage's record). Read-only: takes no lock. Raises :class:`InputError` for an unknown project."""
    request = request or ProjectRequest.build(**fields)
    settings = settings_for(request.workspace)
    board = load_project(request.project, settings)
    paths = ProjectPaths(settings.workspace, request.project)
    report = QualityReport(project_id=request.project)
    for _, shot in board.shots():
        try:
            record = json.loads(paths.scores(shot.shot_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        report.shots.append({
            "shot_id": shot.shot_id,
            "candidates": [{k: c.get(k) for k in ("index", "path", "status", "scores", "total", "rank")} for c in record.get("candidates", [])],
            "selected": record.get("selected"),
            "picked_by": record.get("picked_by"),
            "pick_ignored": record.get("pick_ignored"),
        })
    return report
