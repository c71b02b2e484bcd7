"""Run records: write one per node execution; read the latest successful one per node."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storyreel.store.models import Project, Run


class RunStore:
    """Queries over ``runs`` for one database (all methods open short transactions)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def latest_success(self, project_id: str) -> dict[tuple[str, str], Run]:
        """Latest successful run per (stage, unit) of a project."""
        with self.sessions() as s:
            rows = s.scalars(
                select(Run).where(Run.project_id == project_id, Run.status == "success").order_by(Run.id)
            ).all()
        latest: dict[tuple[str, str], Run] = {}
        for row in rows:
            latest[(row.stage, row.unit)] = row
        return latest

    def latest_for(self, project_id: str, nodes: list[tuple[str, str]]) -> dict[tuple[str, str], Run]:
        """Latest successful run of each of ``nodes`` ((stage, unit) pairs) that has one — a query over those nodes only
        (:meth:`latest_success` reads every run of the project)."""
        wanted = set(nodes)
        if not wanted:
            return {}
        with self.sessions() as s:
            rows = s.scalars(
                select(Run).where(Run.project_id == project_id, Run.status == "success",
                                  Run.stage.in_({st for st, _ in wanted}), Run.unit.in_({u for _, u in wanted})).order_by(Run.id)
            ).all()
        return {(row.stage, row.unit): row for row in rows if (row.stage, row.unit) in wanted}

    def outputs_of(self, project_id: str, stages: set[str]) -> set[str]:
        """Every output path of the successful runs of ``stages`` (the files those stages make)."""
        with self.sessions() as s:
            rows = s.scalars(select(Run.outputs).where(Run.project_id == project_id, Run.status == "success", Run.stage.in_(stages))).all()
        return {rel for outputs in rows for rel in (outputs or {})}

    def reusable(self, project_id: str, stage: str, unit: str, key: str) -> Run | None:
        """The latest successful run of node ``stage[unit]`` with recipe key ``key`` whose output needs no attention
        (a stand-in is retried, never reused), or ``None``: the run whose files the build cache can give back."""
        with self.sessions() as s:
            rows = s.scalars(
                select(Run).where(Run.project_id == project_id, Run.stage == stage, Run.unit == unit, Run.key == key,
                                  Run.status == "success").order_by(Run.id.desc())
            ).all()
        return next((row for row in rows if not (row.details or {}).get("attention")), None)

    def add(self, run: Run) -> None:
        with self.sessions.begin() as s:
            s.add(run)

    def for_invocation(self, invocation: str) -> list[Run]:
        with self.sessions() as s:
            return list(s.scalars(select(Run).where(Run.invocation == invocation).order_by(Run.id)).all())

    def upsert_project(self, project_id: str, **fields: object) -> None:
        with self.sessions.begin() as s:
            row = s.get(Project, project_id)
            if row is None:
                s.add(Project(id=project_id, **fields))
            else:
                for name, value in fields.items():
                    setattr(row, name, value)

    def projects(self) -> list[Project]:
        with self.sessions() as s:
            return list(s.scalars(select(Project).order_by(Project.updated_at.desc())).all())

    def project(self, project_id: str) -> Project | None:
        with self.sessions() as s:
            return s.get(Project, project_id)
