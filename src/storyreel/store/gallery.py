"""The dashboard's reads over projects (seed 004 epics 3–4), each one short query: a user's gallery with search,
status filter and pages; one project's row with its latest jobs; committed cost per stage; the newest run
record; and deleting a project's rows.

A gallery or project row is a plain dict (:func:`project_row`) with the committed cost of the project's paid
calls; the owner is the caller's to check (:meth:`ProjectQueries.owned`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.vocabulary import ProjectStatus
from storyreel.store.jobs import JobView
from storyreel.store.models import CostEntry, Job, Project, Run

PER_PAGE = 24

_COMMITTED = (select(func.coalesce(func.sum(CostEntry.actual_usd), 0.0)).where(CostEntry.project_id == Project.id, CostEntry.status == "committed")
              .correlate(Project).scalar_subquery().label("cost"))
ROW_COLUMNS = (Project.id, Project.title, Project.custom_title, Project.status, Project.input_kind, Project.input_name, Project.duration_s,
               Project.video_path, Project.owner_id, Project.created_at, Project.updated_at)
"""What a gallery row reads (not the input excerpt it searches)."""


@dataclass(frozen=True)
class Page:
    """One page of a gallery query: ``items`` (project dicts), ``total`` matches, ``page`` (1-based) of ``pages``."""

    items: list[dict]
    total: int
    page: int
    pages: int


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def project_row(row, cost: float) -> dict:  # noqa: ANN001 - a row of ROW_COLUMNS
    """A project as the gallery and the API show it: id, title (the one a person gave wins), status, input,
    duration, committed cost in USD, whether it has a video, times."""
    return {"id": row.id, "title": row.custom_title or row.title, "status": row.status, "input_kind": row.input_kind,
            "input_name": row.input_name, "duration_s": row.duration_s, "cost_usd": round(cost or 0.0, 6),
            "has_video": bool(row.video_path) and row.status in (ProjectStatus.DONE, ProjectStatus.PARTIAL),
            "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at)}


def _like(text: str) -> str:
    """A case-insensitive substring pattern for ``text`` with LIKE's wildcards escaped (``\\``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ProjectQueries:
    """The dashboard's project reads on one database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def owner(self, project_id: str) -> int | None | bool:
        """The project's owner ID (None: made from the CLI), or False when there is no such project."""
        with self.sessions() as s:
            row = s.execute(select(Project.owner_id).where(Project.id == project_id)).first()
        return False if row is None else row.owner_id

    def gallery(self, *, owner_id: int | None, q: str | None = None, status: str | None = None, page: int = 1,
                per_page: int = PER_PAGE) -> Page:
        """The owner's projects, newest first: ``q`` matches title or input text (case-insensitive substring),
        ``status`` one status word; ``page`` is 1-based (past the end: the last page). One query: the rows of
        the page, each with its committed cost, and the total count (a window function)."""
        conditions = [Project.owner_id == owner_id]
        if q and q.strip():
            pattern = _like(q.strip())
            conditions.append(or_(*(column.ilike(pattern, escape="\\") for column in (Project.title, Project.custom_title, Project.input_excerpt))))
        if status:
            conditions.append(Project.status == status)
        per_page = max(1, min(per_page, 100))
        query = select(*ROW_COLUMNS, _COMMITTED, func.count().over().label("total")).where(*conditions)
        order = (Project.updated_at.desc(), Project.id)
        with self.sessions() as s:
            rows = s.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
            if not rows and page > 1:
                total = s.scalar(select(func.count()).select_from(Project).where(*conditions)) or 0
                page = max(1, math.ceil(total / per_page))
                rows = s.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
        total = rows[0].total if rows else 0
        return Page([project_row(r, r.cost) for r in rows], total, page, max(1, math.ceil(total / per_page)))

    def overview(self, project_id: str, *, jobs_limit: int = 5) -> tuple[dict, int | None, list[JobView]] | None:
        """The project's row (with its committed cost), its owner ID and its latest jobs, in one database
        session; None when there is no such project."""
        with self.sessions() as s:
            row = s.execute(select(*ROW_COLUMNS, _COMMITTED).where(Project.id == project_id)).first()
            if row is None:
                return None
            recent = s.scalars(select(Job).where(Job.project_id == project_id).order_by(Job.created_at.desc()).limit(jobs_limit)).all()
            return project_row(row, row.cost), row.owner_id, [JobView.of(j) for j in recent]

    def cost_by_stage(self, project_id: str) -> dict[str, float]:
        """Committed USD per stage (ledger entries are named ``<stage>[<unit>]``)."""
        with self.sessions() as s:
            rows = s.execute(select(CostEntry.node, func.sum(CostEntry.actual_usd)).where(
                CostEntry.project_id == project_id, CostEntry.status == "committed").group_by(CostEntry.node)).all()
        by_stage: dict[str, float] = {}
        for node, usd in rows:
            stage = node.split("[", 1)[0]
            by_stage[stage] = round(by_stage.get(stage, 0.0) + (usd or 0.0), 6)
        return by_stage

    def latest_run_id(self, project_id: str) -> int:
        """The project's newest run record ID (0 when none): it changes whenever any node of it runs."""
        with self.sessions() as s:
            return s.scalar(select(func.max(Run.id)).where(Run.project_id == project_id)) or 0

    def delete(self, project_id: str) -> None:
        """The project's rows: its jobs, then the project (runs, cost entries and media assets go with it:
        ON DELETE CASCADE)."""
        with self.sessions.begin() as s:
            s.execute(delete(Job).where(Job.project_id == project_id))
            row = s.get(Project, project_id)
            if row is not None:
                s.delete(row)
