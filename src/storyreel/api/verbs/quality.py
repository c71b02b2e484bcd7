"""``quality``: per shot, the candidate images, their scores, the selected one and who picked it, and across
the project the distribution of every score and the override rate (FR-043)."""

from __future__ import annotations


from pydantic import BaseModel, Field

from storyreel.api.requests import ProjectRequest
from storyreel.api.session import Project, Workspace
from storyreel.store import review


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

    @property
    def distribution(self) -> list[dict]:
        """Per criterion, every candidate's score: min, median, max and count (:func:`storyreel.store.review.score_distribution`)."""
        return review.score_distribution(c for shot in self.shots for c in shot["candidates"])

    def as_dict(self) -> dict:
        return {"project_id": self.project_id, "shots": self.shots, "override_rate": self.override_rate,
                "distribution": self.distribution, "picked_by_user": sum(s["picked_by"] == "user" for s in self.shots),
                "with_choice": sum(len(s["candidates"]) > 1 for s in self.shots)}


def quality(request: ProjectRequest | None = None, **fields: object) -> QualityReport:
    """The quality report of a project, read from each shot's ``images/<shot>/scores.json`` (the select
    stage's record). Read-only: takes no lock. Raises :class:`InputError` for an unknown project."""
    request = request or ProjectRequest.build(**fields)
    return project_quality(Workspace.open(request.workspace).existing(request.project))


def project_quality(project: Project) -> QualityReport:
    """:func:`quality` of an opened project."""
    report = QualityReport(project_id=project.id)
    for _, shot in project.storyboard().shots():
        record = review.read_json(project.paths.scores(shot.shot_id)) or {}
        report.shots.append({
            "shot_id": shot.shot_id,
            "candidates": [{k: c.get(k) for k in ("index", "path", "status", "scores", "total", "rank")} for c in record.get("candidates", [])],
            "selected": record.get("selected"),
            "picked_by": record.get("picked_by"),
            "pick_ignored": record.get("pick_ignored"),
        })
    return report
