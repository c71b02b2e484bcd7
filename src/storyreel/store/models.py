"""SQLAlchemy 2 models. Schema changes go through Alembic migrations in ``store/migrations``."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Project(Base):
    """One project: its folder holds the files; this row indexes them."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    input_kind: Mapped[str] = mapped_column(String(16))
    input_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    video_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Run(Base):
    """Run record (provenance) of one node execution: what went in, what came out, cost and timing."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    invocation: Mapped[str] = mapped_column(String(36), doc="ID of the make/render call that ran the node")
    stage: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(160))
    key: Mapped[str] = mapped_column(String(80))
    code_version: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(128))
    template_hash: Mapped[str | None] = mapped_column(String(80), nullable=True)
    params_hash: Mapped[str] = mapped_column(String(80))
    input_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    output_version: Mapped[str | None] = mapped_column(String(80), nullable=True)
    outputs: Mapped[dict] = mapped_column(JSON, default=dict, doc="relative path → tagged sha256")
    details: Mapped[dict] = mapped_column(JSON, default=dict, doc="provider details, seed, model params")
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_runs_node", "project_id", "stage", "unit", "id"), Index("ix_runs_invocation", "invocation"))
