"""SQLAlchemy 2 models. Schema changes go through Alembic migrations in ``store/migrations``."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
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
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True, doc="the dashboard user")
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True, doc="length of video.mp4")
    input_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True, doc="the input's first 2,000 characters, for search")
    custom_title: Mapped[str | None] = mapped_column(String(200), nullable=True, doc="the title the user gave (wins over the planned one)")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_projects_owner", "owner_id", "updated_at"),)


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


class ImageScore(Base):
    """One scorer's verdict on one candidate image (best-of-N): sub-scores 0–100 and the scorer's total.
    Rows are looked up by (``sha256``, ``scorer``, ``rubric_hash``), so an image scored once is never scored
    again by the same scorer and rubric, in any project."""

    __tablename__ = "image_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    shot_id: Mapped[str] = mapped_column(String(64))
    candidate: Mapped[int] = mapped_column(Integer, doc="1-based, as `storyreel pick` takes it")
    sha256: Mapped[str] = mapped_column(String(80), doc="the candidate file's tagged sha256")
    scorer: Mapped[str] = mapped_column(String(128), doc="provider ID @ code version")
    rubric_hash: Mapped[str] = mapped_column(String(80), doc="hash of the scorer's identity (weights, references, rubric)")
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_image_scores_lookup", "sha256", "scorer", "rubric_hash"),
        Index("ux_image_scores_candidate", "project_id", "shot_id", "candidate", "sha256", "scorer", "rubric_hash", unique=True),
    )


class User(Base):
    """A dashboard account (seed 004 epic 2). Passwords are stored as argon2 hashes (pwdlib)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    videos_made: Mapped[int] = mapped_column(Integer, default=0)
    total_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Credential(Base):
    """A server-side session (kind ``session``) or a personal API token (kind ``token``): only the sha256 of
    the secret is stored."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), doc="session | token")
    secret_hash: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True, doc="a token's name, given by its owner")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                          doc="when a token last authenticated a request (to the minute)")

    __table_args__ = (Index("ix_credentials_user", "user_id", "kind"),)


class LoginFailure(Base):
    """Recent failed logins per key (``user:<name>`` or ``ip:<address>``), for throttling."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_login_failures_key", "key", "at"),)


class Job(Base):
    """A unit of work on the queue (a make, an imagegen, a render). Its state lives here, not in the queue:
    ``queued | running | done | failed | canceled | interrupted | cost_limit``; ``progress`` 0–100."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    project_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), doc="make | imagegen | render")
    request: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    node: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", doc="times a worker started the job")
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                            doc="the lease generation: a worker's beats and writes count only while it is the job's")
    redeliver_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                          doc="a job whose worker died: queued again, delivered from this time")

    __table_args__ = (Index("ix_jobs_user", "user_id", "created_at"), Index("ix_jobs_project", "project_id", "created_at"),
                      Index("ix_jobs_redeliver", "state", "redeliver_at"))


class JobEvent(Base):
    """What happened in a job, in order: the SSE stream of the dashboard reads these."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), doc="state | node | progress")
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_job_events_job", "job_id", "id"),)


class ProjectTree(Base):
    """A project's tree in the shared storage (issue 29): bumped on every change of its :class:`ProjectFile` rows, so
    a machine whose copy is at this generation has nothing to fetch (:mod:`storyreel.store.sync`)."""

    __tablename__ = "project_trees"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ProjectFile(Base):
    """One file of a project as the shared storage holds it: its path in the project folder and its content's digest
    (the object ``objects/<hex[:2]>/<hex[2:]>`` in the bucket)."""

    __tablename__ = "project_files"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    digest: Mapped[str] = mapped_column(String(71))
    size: Mapped[int] = mapped_column(BigInteger)


class Worker(Base):
    """A ``storyreel worker`` process that takes jobs (issue 29 item 4): registered at start, seen on each beat, removed
    when it stops. A make fans its independent nodes out only when other live workers are registered."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(128), primary_key=True, doc="host:pid")
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NodeTask(Base):
    """One node of a make offered to every worker (issue 29 item 4): the coordinating job's executor and any helper
    claim it at most once (``queued`` → ``running``, fenced by ``generation`` like a job); ``result`` is what the engine
    needs to go on (state, data version, outputs by digest)."""

    __tablename__ = "node_tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(160))
    key: Mapped[str] = mapped_column(String(80), doc="the recipe key the coordinator computed; a helper checks its own")
    inputs: Mapped[dict] = mapped_column(JSON, default=dict, doc="input node → data version (the recipe's inputs)")
    forcing: Mapped[bool] = mapped_column(Boolean, default=False)
    base: Mapped[int] = mapped_column(Integer, default=0, doc="the project tree's generation the coordinator shared before offering")
    state: Mapped[str] = mapped_column(String(16), default="queued", doc="queued | running | done | failed | canceled")
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_node_tasks_project", "project_id", "state"),)


class VendorStart(Base):
    """One call started to a vendor by any worker: the shared requests-per-minute window (issue 29,
    :class:`storyreel.store.limits.PgCallGate`); rows older than two minutes are deleted as new ones come."""

    __tablename__ = "vendor_starts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vendor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_vendor_starts", "vendor", "at"),)
