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
