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


class CostEntry(Base):
    """One paid call in the cost ledger: reserved (estimate held before the call), then committed (actual
    cost), released (the vendor did not do the work) or uncertain (it may have: counted at its estimate)."""

    __tablename__ = "cost_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(128))
    estimate_usd: Mapped[float] = mapped_column(Float)
    actual_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), doc="reserved | committed | released | uncertain")
    request_key: Mapped[str | None] = mapped_column(String(80), nullable=True, doc="hash of what the call sent")
    note: Mapped[str | None] = mapped_column(Text, nullable=True, doc="why uncertain, or how it was reconciled")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_cost_entries_project", "project_id", "status"),)


class PromptVersion(Base):
    """One distinct content of a prompt template (seed 001 §7: ``prompt_versions``)."""

    __tablename__ = "prompt_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(80))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ux_prompt_versions_hash", "name", "content_hash", unique=True),)


class MediaAsset(Base):
    """A produced media file (seed 001 §7: ``media_assets``): images now; audio and video rows share the table."""

    __tablename__ = "media_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    asset_type: Mapped[str] = mapped_column(String(8), doc="IMAGE | AUDIO | VIDEO")
    chapter_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    shot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    file_path: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    sha256: Mapped[str] = mapped_column(String(80))
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    prompt_version_id: Mapped[int | None] = mapped_column(ForeignKey("prompt_versions.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("idx_media_assets_project_type_chapter", "project_id", "asset_type", "chapter_id"),
        Index("idx_media_assets_type", "asset_type"),
    )
