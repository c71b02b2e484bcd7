"""The dashboard's projects (seed 004 epics 3–4): create one from pasted text or an uploaded file, the
owner's gallery with search and status filter, one project's page, inline shot edits, delete.

Every function takes ``user_id`` and treats another user's project exactly like a missing one
(:class:`~storyreel.core.errors.InputError` with ``field="project"`` → HTTP 404). Project IDs are made
here (``<slug>-<6 hex>``), never taken from input."""

from __future__ import annotations

import math
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, or_, select

from storyreel.api.project import open_store, project_settings, settings_for, writing
from storyreel.api.requests import MakeRequest, PlanRequest
from storyreel.core.artifact import Storyboard, format_validation_error, load_storyboard, slugify_id
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.core.source import read_source
from storyreel.providers.registry import resolve
from storyreel.store.files import ProjectPaths
from storyreel.store.jobs import JobView
from storyreel.store.ledger import CostLedger
from storyreel.store.models import CostEntry, Project

UPLOAD_SUFFIXES = (".txt", ".md", ".json")
PER_PAGE = 24
STATUSES = ("queued", "running", "done", "partial", "failed", "canceled", "interrupted", "cost_limit", "planned")


class NotFound(InputError):
    """No such project of this user (HTTP 404)."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"no project {project_id!r}", field="project")


@dataclass(frozen=True)
class Page:
    """One page of a gallery query: ``items`` (project dicts), ``total`` matches, ``page`` (1-based) of ``pages``."""

    items: list[dict]
    total: int
    page: int
    pages: int


def _safe_name(name: str | None) -> str:
    """An uploaded file's name as a file name we choose: its last component, slugged, with an allowed suffix."""
    base = Path((name or "").replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(f"{base or 'the file'!r} is not a text, Markdown or chapter JSON file", field="file",
                         hint=f"upload a {', '.join(UPLOAD_SUFFIXES)} file")
    return f"{slugify_id(Path(base).stem, fallback='input')[:60]}{suffix}"


def create_project(*, text: str | None = None, file_name: str | None = None, data: bytes | None = None,
                   title: str | None = None, aspect_ratio: str | None = None, language: str | None = None,
                   image_provider: str | None = None, llm: str | None = None, max_cost: float | None = None,
                   candidates: int | None = None, user_id: int | None = None, workspace: Path | None = None) -> tuple[dict, JobView]:
    """A new project of ``user_id`` from pasted ``text`` or an uploaded file (``file_name``, ``data``), and
    its ``make`` job on the queue. The input gets the CLI's validation (kind detected from the content,
    size, UTF-8, prompt length, chapter JSON schema) and, with a free planner, is planned at once so the
    storyboard shows while the job runs. Raises :class:`InputError` naming the form field (``text``,
    ``file``, ``aspect_ratio``…) with nothing left behind."""
    from storyreel.api import jobs
    from storyreel.api.plan import plan

    settings = settings_for(workspace)
    pasted = text is not None and text.strip() != ""
    if pasted == (data is not None):
        raise InputError("paste a text or upload a file (one of them)", field="text", hint="a prompt, a script or chapter JSON")
    field = "file" if data is not None else "text"
    raw = data if data is not None else text.encode("utf-8")  # type: ignore[union-attr]
    if len(raw) > settings.max_upload_bytes:
        raise InputError(f"the input is {len(raw):,} bytes; the limit is {settings.max_upload_bytes:,}", field=field,
                         hint="split the text into several projects")
    first_line = next((line for line in (text or "").splitlines() if line.strip()), "")[:60]
    name = _safe_name(file_name) if data is not None else f"{slugify_id(title or first_line, fallback='input')[:60]}.txt"
    title = (title or "").strip()[:200] or None
    pid = f"{slugify_id(title or Path(name).stem, fallback='project')[:48]}-{secrets.token_hex(3)}"
    choices = {"aspect_ratio": aspect_ratio or None, "language": language or None, "image_provider": image_provider or None,
               "llm": llm or None, "max_cost": max_cost, "candidates": candidates}
    MakeRequest.build(input_path=Path(name), project_id=pid, **choices)  # the fields, checked before anything is written
    paths = ProjectPaths(settings.workspace, pid)
    paths.input.mkdir(parents=True)
    source_path = paths.input / name
    source_path.write_bytes(raw)
    store = open_store(settings)
    try:
        source = read_source(source_path)
        store.upsert_project(pid, owner_id=user_id, title=title or Path(name).stem, custom_title=title, input_kind=source.kind,
                             input_name=name, input_excerpt=source.text[:2000], status="queued")
        if not resolve("planner", settings.planner, settings).paid or source.kind == "chapters":
            plan(PlanRequest.build(input_path=source_path, project_id=pid, workspace=settings.workspace,
                                   aspect_ratio=choices["aspect_ratio"], language=choices["language"]))
    except InputError as exc:
        shutil.rmtree(paths.root, ignore_errors=True)
        _delete_rows(store, pid)
        raise InputError(exc.message, field=field, hint=exc.hint) from None
    request = {k: v for k, v in choices.items() if v is not None}
    request.update(input_path=source_path.relative_to(settings.workspace).as_posix(), project_id=pid)
    job = jobs.submit("make", pid, request, user_id=user_id, workspace=settings.workspace)
    return project_row(owned(pid, user_id, workspace=settings.workspace), store), job


def owned(project_id: str, user_id: int | None, *, workspace: Path | None = None) -> Project:
    """The project row when ``user_id`` owns it; else :class:`NotFound`."""
    store = open_store(settings_for(workspace))
    row = store.project(project_id)
    if row is None or row.owner_id != user_id:
        raise NotFound(project_id)
    return row


def _costs(store, project_ids: list[str]) -> dict[str, float]:  # noqa: ANN001
    """Committed USD per project."""
    if not project_ids:
        return {}
    with store.sessions() as s:
        rows = s.execute(select(CostEntry.project_id, func.sum(CostEntry.actual_usd))
                         .where(CostEntry.project_id.in_(project_ids), CostEntry.status == "committed")
                         .group_by(CostEntry.project_id)).all()
    return {pid: round(total or 0.0, 6) for pid, total in rows}


def project_row(row, store, cost: float | None = None) -> dict:  # noqa: ANN001
    """A project (an ORM row or a row of :data:`ROW_COLUMNS`) as the gallery and the API show it."""
    if cost is None:
        cost = _costs(store, [row.id]).get(row.id, 0.0)
    return {"id": row.id, "title": row.custom_title or row.title, "status": row.status, "input_kind": row.input_kind, "input_name": row.input_name,
            "duration_s": row.duration_s, "cost_usd": round(cost or 0.0, 6), "has_video": bool(row.video_path) and row.status in ("done", "partial"),
            "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at)}


def _iso(at) -> str | None:  # noqa: ANN001
    return at.isoformat() if at else None


_COMMITTED = (select(func.coalesce(func.sum(CostEntry.actual_usd), 0.0)).where(CostEntry.project_id == Project.id, CostEntry.status == "committed")
              .correlate(Project).scalar_subquery().label("cost"))
ROW_COLUMNS = (Project.id, Project.title, Project.custom_title, Project.status, Project.input_kind, Project.input_name, Project.duration_s,
               Project.video_path, Project.created_at, Project.updated_at)
"""What a gallery row reads (not the input excerpt it searches)."""

def gallery(*, user_id: int | None, q: str | None = None, status: str | None = None, page: int = 1, per_page: int = PER_PAGE,
            workspace: Path | None = None) -> Page:
    """The user's projects, newest first: ``q`` matches title or input text (case-insensitive substring),
    ``status`` one status word; ``page`` is 1-based. One query: the rows of the page, each with its
    committed cost and the total count (a window function). Raises :class:`InputError` for an unknown status."""
    if status and status not in STATUSES:
        raise InputError(f"unknown status {status!r}", field="status", hint=f"use one of {', '.join(STATUSES)}")
    settings = settings_for(workspace)
    store = open_store(settings)
    from storyreel.api.jobs import job_store

    job_store(settings).reap(every_s=2.0)  # an interrupted job shows as such in the filter
    conditions = [Project.owner_id == user_id]
    if q and q.strip():
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(*(column.ilike(pattern, escape="\\") for column in (Project.title, Project.custom_title, Project.input_excerpt))))
    if status:
        conditions.append(Project.status == status)
    per_page = max(1, min(per_page, 100))
    query = select(*ROW_COLUMNS, _COMMITTED, func.count().over().label("total")).where(*conditions)
    with store.sessions() as s:
        rows = s.execute(query.order_by(Project.updated_at.desc(), Project.id).offset((page - 1) * per_page).limit(per_page)).all()
        if not rows and page > 1:  # past the end: the last page
            total = s.scalar(select(func.count()).select_from(Project).where(*conditions)) or 0
            page = max(1, math.ceil(total / per_page))
            rows = s.execute(query.order_by(Project.updated_at.desc(), Project.id).offset((page - 1) * per_page).limit(per_page)).all()
    total = rows[0].total if rows else 0
    return Page([project_row(r, store, r.cost) for r in rows], total, page, max(1, math.ceil(total / per_page)))


def storyboard(project_id: str, user_id: int | None, *, workspace: Path | None = None) -> Storyboard | None:
    """The project's storyboard (None while a paid planner has not written it yet)."""
    settings = settings_for(workspace)
    owned(project_id, user_id, workspace=settings.workspace)
    path = ProjectPaths(settings.workspace, project_id).storyboard
    return load_storyboard(path) if path.exists() else None


def cost_summary(project_id: str, *, workspace: Path | None = None) -> dict:
    """Spent, reserved, uncertain and cap in USD, and the committed cost per stage (from the ledger's
    entries, whose node names start with the stage)."""
    settings = settings_for(workspace)
    store = open_store(settings)
    summary = CostLedger(store.sessions, project_id, project_settings(settings, project_id).max_cost_usd).summary()
    with store.sessions() as s:
        rows = s.execute(select(CostEntry.node, func.sum(CostEntry.actual_usd)).where(
            CostEntry.project_id == project_id, CostEntry.status == "committed").group_by(CostEntry.node)).all()
    by_stage: dict[str, float] = {}
    for node, usd in rows:
        stage = node.split("[", 1)[0]
        by_stage[stage] = round(by_stage.get(stage, 0.0) + (usd or 0.0), 6)
    return {"cap_usd": summary.cap_usd, "spent_usd": round(summary.committed_usd, 6), "reserved_usd": round(summary.reserved_usd, 6),
            "uncertain_usd": round(summary.uncertain_usd, 6), "remaining_usd": round(summary.remaining_usd, 6), "by_stage": by_stage}


def edit_shot(project_id: str, shot_id: str, *, user_id: int | None, narration: str | None = None, image_prompt: str | None = None,
              workspace: Path | None = None) -> Storyboard:
    """Change one shot's narration and/or image prompt in ``storyboard.json`` (validated against the
    storyboard schema, written atomically under the project's lock; a running job → ``ProjectBusy``).
    An empty image prompt clears it (the image is then made from the shot's description). Raises
    :class:`NotFound`, :class:`InputError` naming ``narration`` / ``image_prompt`` / ``shot``."""
    from pydantic import ValidationError

    from storyreel.core.text import strip_controls

    settings = settings_for(workspace)
    owned(project_id, user_id, workspace=settings.workspace)
    paths = ProjectPaths(settings.workspace, project_id)
    with writing(paths, settings, wait=False, verb="edit"):
        if not paths.storyboard.exists():
            raise InputError("the storyboard is not planned yet", field="shot", hint="wait for the plan stage")
        board = load_storyboard(paths.storyboard)
        data = board.model_dump(mode="json")
        shot = next((s for ch in data["chapters"] for s in ch["shots"] if s["shot_id"] == shot_id), None)
        if shot is None:
            raise InputError(f"no shot {shot_id!r} in {project_id}", field="shot")
        if narration is not None:
            shot["narration"] = strip_controls(narration).strip()
        if image_prompt is not None:
            shot["visual"]["image_prompt"] = strip_controls(image_prompt).strip() or None
        try:
            edited = Storyboard.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][-1]) if first["loc"] else "shot"
            raise InputError(format_validation_error(exc), field=name if name in ("narration", "image_prompt") else "shot") from None
        atomic_write_text(paths.storyboard, edited.model_dump_json(indent=2) + "\n")
    return edited


def pick_candidate(project_id: str, shot_id: str, candidate: int | None, *, user_id: int | None, workspace: Path | None = None) -> None:
    """A person's pick of a shot's candidate image (None: automatic again), stored in the storyboard without
    rendering (the stale panel then offers "Update video"). A running job → ``ProjectBusy``; a shot or
    candidate that does not exist → :class:`InputError` naming ``shot_id`` / ``candidate``."""
    from storyreel.api.pick import pick

    settings = settings_for(workspace)
    owned(project_id, user_id, workspace=settings.workspace)
    pick(project=project_id, shot_id=shot_id, candidate=candidate, render=False, wait=False, workspace=settings.workspace)


def quality(project_id: str, *, user_id: int | None, workspace: Path | None = None) -> dict:
    """The project's quality report (``storyreel quality --json``) with, per criterion, the distribution of
    every candidate's score (min, median, max rounded to whole points, count; the overall total, not each
    scorer's) — the dashboard's quality page (FR-043)."""
    from statistics import median

    from storyreel.api.quality import quality as report

    settings = settings_for(workspace)
    owned(project_id, user_id, workspace=settings.workspace)
    data = report(project=project_id, workspace=settings.workspace).as_dict()
    values: dict[str, list[float]] = {}
    for shot in data["shots"]:
        for cand in shot["candidates"]:
            for kind, scores in (cand.get("scores") or {}).items():
                for name, v in scores.items():
                    if name != "total" and isinstance(v, (int, float)) and not isinstance(v, bool):
                        values.setdefault(f"{kind} {name.replace('_', ' ')}", []).append(float(v))
            if cand.get("total") is not None:
                values.setdefault("total", []).append(float(cand["total"]))
    data["distribution"] = [{"criterion": k, "min": round(min(v)), "median": round(median(v)), "max": round(max(v)),
                             "count": len(v)} for k, v in sorted(values.items())]
    data["picked_by_user"] = sum(s["picked_by"] == "user" for s in data["shots"])
    data["with_choice"] = sum(len(s["candidates"]) > 1 for s in data["shots"])
    return data


def _delete_rows(store, project_id: str) -> None:  # noqa: ANN001
    from storyreel.store.models import Job

    with store.sessions.begin() as s:
        for job in s.scalars(select(Job).where(Job.project_id == project_id)).all():
            s.delete(job)
        row = s.get(Project, project_id)
        if row is not None:
            s.delete(row)  # runs, cost entries and media assets go with it (ON DELETE CASCADE)


def delete_project(project_id: str, *, user_id: int | None, workspace: Path | None = None) -> None:
    """Delete the project's folder and rows (jobs, runs, ledger, assets). Refused while a job is queued
    or running (:class:`~storyreel.api.jobs.JobConflict`) and while another process writes it."""
    from storyreel.api import jobs

    settings = settings_for(workspace)
    owned(project_id, user_id, workspace=settings.workspace)
    active = jobs.active(project_id, workspace=settings.workspace)
    if active is not None:
        raise jobs.JobConflict(active)
    paths = ProjectPaths(settings.workspace, project_id)
    store = open_store(settings)
    trash = paths.root.with_name(f".deleting-{project_id}-{secrets.token_hex(4)}")
    with writing(paths, settings, wait=False, verb="delete"):
        _delete_rows(store, project_id)
        if paths.root.exists():
            paths.root.rename(trash)  # the folder disappears at once; its files go after the lock is released
    shutil.rmtree(trash, ignore_errors=True)


def regenerate_estimate(project_id: str, *, user_id: int | None, shots: list[str] | None = None,
                        workspace: Path | None = None) -> dict:
    """What regenerating ``shots`` (all when None) would cost with the project's image provider: the
    imagegen dry run's per-shot estimates (template shots are free), against the money left under the cap."""
    from storyreel import api

    settings = settings_for(workspace)
    owned(project_id, user_id, workspace=settings.workspace)
    plan = api.imagegen(project=project_id, dry_run=True, wait=False, workspace=settings.workspace)
    rows = [r for r in plan.shots if shots is None or r["shot_id"] in shots]
    cost = cost_summary(project_id, workspace=settings.workspace)
    return {"shots": len(rows), "generated": sum(r["method"] == "generated" for r in rows),
            "estimate_usd": round(sum(r["estimate_usd"] for r in rows), 6), "remaining_usd": cost["remaining_usd"],
            "provider": rows[0]["provider"] if rows else None}


def provider_choices(workspace: Path | None = None) -> dict[str, list[dict]]:
    """The image providers and LLMs the dashboard offers (``STORYREEL_DASHBOARD_IMAGE_PROVIDERS`` /
    ``STORYREEL_DASHBOARD_LLMS``), keeping those usable as configured: the offline preflight (key present,
    base URL allowed) passes. Each: ``{"id", "paid"}``."""
    from storyreel.core.errors import StoryreelError

    settings = settings_for(workspace)
    out: dict[str, list[dict]] = {"image": [], "llm": []}
    for modality, ids in (("image", settings.dashboard_image_providers), ("llm", settings.dashboard_llms)):
        for provider_id in dict.fromkeys([getattr(settings, "image_provider" if modality == "image" else "llm"), *ids]):
            try:
                provider = resolve(modality, provider_id, settings)
                provider.preflight(online=False)
            except (StoryreelError, ValueError, ImportError):
                continue
            out[modality].append({"id": provider_id, "paid": provider.paid})
    return out


def estimate_new(*, text: str, aspect_ratio: str | None = None, language: str | None = None, image_provider: str | None = None,
                 llm: str | None = None, workspace: Path | None = None) -> dict:
    """The priced plan of a video not made yet: the text planned by the offline planner in a scratch
    workspace, then the imagegen dry run with the chosen providers (calls nothing, writes nothing in the
    user's workspace). ``{"shots", "generated", "estimate_usd", "provider", "cap_usd"}``. Raises
    :class:`InputError` like :func:`create_project` for bad input; a paid planner's own cost is not included
    (its call is priced when it runs)."""
    import tempfile

    from storyreel import api
    from storyreel.api.plan import plan

    settings = settings_for(workspace)
    MakeRequest.build(prompt="x" * 20, aspect_ratio=aspect_ratio or None, language=language or None,
                      image_provider=image_provider or None, llm=llm or None)
    with tempfile.TemporaryDirectory(prefix="storyreel-estimate-") as scratch:
        ws = Path(scratch)
        source = ws / "input.txt"
        source.write_text(text, encoding="utf-8")
        try:
            board, _ = plan(PlanRequest.build(input_path=source, project_id="estimate", workspace=ws, aspect_ratio=aspect_ratio or None,
                                              language=language or None))
            priced = api.imagegen(project="estimate", dry_run=True, workspace=ws, image_provider=image_provider or None, llm=llm or None)
        except InputError as exc:
            raise InputError(exc.message, field="text", hint=exc.hint) from None
    return {"shots": len(priced.shots), "generated": sum(r["method"] == "generated" for r in priced.shots),
            "estimate_usd": priced.estimate_usd, "provider": image_provider or settings.image_provider,
            "cap_usd": settings.max_cost_usd, "title": board.settings.title, "aspect_ratio": board.settings.aspect_ratio}


def overview(project_id: str, user_id: int | None, *, jobs_limit: int = 5, workspace: Path | None = None) -> tuple[dict, list]:
    """The project row (with its committed cost) and its latest jobs in one database session — what the
    project page needs on every view. Raises :class:`NotFound` for another user's project."""
    from storyreel.store.jobs import JobView
    from storyreel.store.models import Job

    store = open_store(settings_for(workspace))
    with store.sessions() as s:
        row = s.execute(select(*ROW_COLUMNS, _COMMITTED, Project.owner_id).where(Project.id == project_id)).first()
        if row is None or row.owner_id != user_id:
            raise NotFound(project_id)
        recent = s.scalars(select(Job).where(Job.project_id == project_id, Job.user_id == user_id)
                           .order_by(Job.created_at.desc()).limit(jobs_limit)).all()
        views = [JobView.of(j) for j in recent]
    if any(v.state == "running" for v in views):  # a lapsed worker shows as interrupted
        from storyreel.api.jobs import job_store

        job_store(settings_for(workspace)).reap(job_ids=[v.id for v in views if v.state == "running"])
        views = [job_store(settings_for(workspace)).get(v.id) or v for v in views]
    return project_row(row, store, row.cost), views


def run_version(project_id: str, *, workspace: Path | None = None) -> int:
    """The project's newest run record ID (0 when none): changes whenever any node of it runs."""
    from storyreel.store.models import Run

    with open_store(settings_for(workspace)).sessions() as s:
        return s.scalar(select(func.max(Run.id)).where(Run.project_id == project_id)) or 0
