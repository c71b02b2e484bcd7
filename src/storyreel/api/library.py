"""A person's projects in the dashboard (seed 004 epics 3–4): create one from pasted text or an uploaded file,
the gallery with search and status filter, one project's page, the nodes an edit made stale and why, inline
shot edits, delete, and the priced estimates shown before paid work.

Every function takes the opened :class:`~storyreel.api.session.Workspace` and a ``user_id``, and treats
another user's project exactly like a missing one (:class:`NotFound`, HTTP 404). Project IDs are made here
(``<slug>-<6 hex>``), never taken from input. The SQL is in :mod:`storyreel.store.gallery`, the reading of a
project's files in :mod:`storyreel.store.review`; the web renders what these return."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from pydantic import ValidationError

from storyreel.api import imagegen, plan
from storyreel.api.changes import pending
from storyreel.api.requests import MakeRequest, PlanRequest
from storyreel.api.session import Project, Workspace
from storyreel.api.verbs.status import project_status
from storyreel.core.artifact import Storyboard, format_validation_error, slugify_id
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import ConfigError, InputError, StoryreelError
from storyreel.core.source import read_source
from storyreel.core.text import strip_controls
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine.staleness import Cause, State
from storyreel.providers.base import SpeechRequest
from storyreel.providers.registry import resolve
from storyreel.providers.tts.local import check_voice_name, for_language
from storyreel.store import review
from storyreel.store.gallery import Page
from storyreel.store.jobs import JobConflict, JobView

UPLOAD_SUFFIXES = (".txt", ".md", ".json")
STATUSES = tuple(s.value for s in ProjectStatus)
"""The status words a gallery can be filtered by."""


class NotFound(InputError):
    """No such project of this user (HTTP 404)."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"no project {project_id!r}", field="project")


def owned(ws: Workspace, project_id: str, user_id: int | None) -> Project:
    """The project when ``user_id`` owns it; else :class:`NotFound` (also for an ID that is not valid)."""
    try:
        project = ws.project(project_id)
    except InputError:
        raise NotFound(project_id) from None
    owner = ws.queries.owner(project.id)
    if owner is False or owner != user_id:
        raise NotFound(project_id)
    return project


# ------------------------------------------------------------------------------------------ creating
def _safe_name(name: str | None) -> str:
    """An uploaded file's name as a file name we choose: its last component, slugged, with an allowed suffix."""
    base = Path((name or "").replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(f"{base or 'the file'!r} is not a text, Markdown or chapter JSON file", field="file",
                         hint=f"upload a {', '.join(UPLOAD_SUFFIXES)} file")
    return f"{slugify_id(Path(base).stem, fallback='input')[:60]}{suffix}"


def create_project(ws: Workspace, *, text: str | None = None, file_name: str | None = None, data: bytes | None = None,
                   title: str | None = None, aspect_ratio: str | None = None, language: str | None = None,
                   image_provider: str | None = None, llm: str | None = None, max_cost: float | None = None,
                   candidates: int | None = None, voice: str | None = None, voice_name: str | None = None,
                   voice_style: str | None = None, clips: str | None = None, attempts: int | None = None,
                   kind: str | None = None, user_id: int | None = None) -> tuple[dict, dict]:
    """A new project of ``user_id`` from pasted ``text`` or an uploaded file (``file_name``, ``data``): the
    project's row, and the fields of the ``make`` that will make its video (for the job queue). The input gets
    the CLI's validation (kind detected from the content, size, UTF-8, prompt length, chapter JSON schema)
    and, with a free planner, is planned at once so the storyboard shows while the job runs. Raises
    :class:`InputError` naming the form field (``text``, ``file``, ``aspect_ratio``…) with nothing left behind."""
    settings = ws.settings
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
               "llm": llm or None, "max_cost": max_cost, "candidates": candidates, "voice": voice or None,
               "voice_name": (voice_name or "").strip() or None, "voice_style": (voice_style or "").strip() or None,
               "clips": clips or None, "attempts": attempts, "kind": kind or None}
    MakeRequest.build(input_path=Path(name), project_id=pid, **choices)  # the fields, checked before anything is written
    _check_configured(ws, choices)
    project = ws.project(pid)
    project.paths.input.mkdir(parents=True)
    source_path = project.paths.input / name
    source_path.write_bytes(raw)
    try:
        source = read_source(source_path, kind=choices["kind"])
        project.record(owner_id=user_id, title=title or Path(name).stem, custom_title=title, input_kind=source.kind,
                       input_name=name, input_excerpt=source.text[:2000], status=ProjectStatus.PLANNED.value)
        free = settings.story_llm == "local:story" if source.kind == "story" else (
            source.kind == "chapters" or not resolve("planner", settings.planner, settings).paid)
        if free:  # planned at once (a paid planner or story writer plans in the job)
            plan(PlanRequest.build(input_path=source_path, project_id=pid, workspace=ws.root, kind=choices["kind"],
                                   aspect_ratio=choices["aspect_ratio"], language=choices["language"]))
    except BaseException as exc:  # nothing is left behind: no folder, no row
        shutil.rmtree(project.paths.root, ignore_errors=True)
        ws.queries.delete(pid)
        if isinstance(exc, InputError):
            raise InputError(exc.message, field=field, hint=exc.hint) from None
        raise
    project.publish()  # with shared storage: the worker that takes the job has its own disk
    request = {k: v for k, v in choices.items() if v is not None}
    request.update(input_path=source_path.relative_to(ws.root).as_posix(), project_id=pid)
    return overview(ws, pid, user_id)[0], request


def _check_configured(ws: Workspace, choices: dict) -> None:
    """Each chosen provider usable as configured (key present, base URL allowed) and the voice name one the voice
    has — before anything is written. Raises :class:`InputError` naming the form field and what to set."""
    for field, modality in (("image_provider", "image"), ("llm", "llm"), ("voice", "tts"), ("clips", "video")):
        if choices.get(field) is None or choices[field] == "local":
            continue
        try:
            resolve(modality, choices[field], ws.settings).preflight()
        except ConfigError as exc:
            raise InputError(exc.message, field=field, hint=exc.hint) from None
    check_voice_name(choices["voice"] or ws.settings.tts_provider, choices["voice_name"])


# ------------------------------------------------------------------------------------------ reading
def gallery(ws: Workspace, *, user_id: int | None, q: str | None = None, status: str | None = None, page: int = 1,
            per_page: int = 24) -> Page:
    """The user's projects, newest first (:meth:`~storyreel.store.gallery.ProjectQueries.gallery`), each with
    ``has_thumbnail``. A running job whose worker stopped shows as interrupted. Raises :class:`InputError`
    for an unknown status."""
    if status and status not in STATUSES:
        raise InputError(f"unknown status {status!r}", field="status", hint=f"use one of {', '.join(STATUSES)}")
    ws.jobs.reap(every_s=2.0)
    found = ws.queries.gallery(owner_id=user_id, q=q, status=status, page=page, per_page=per_page)
    for item in found.items:
        item["has_thumbnail"] = review.has_picture(ws.project(item["id"]).paths)
    return found


def overview(ws: Workspace, project_id: str, user_id: int | None, *, jobs_limit: int = 5) -> tuple[dict, list[JobView]]:
    """The project's row (with its committed cost) and its latest jobs — a lapsed worker's job shown as
    interrupted. Raises :class:`NotFound` for another user's project."""
    found = ws.queries.overview(project_id, jobs_limit=jobs_limit)
    if found is None or found[1] != user_id:
        raise NotFound(project_id)
    row, _, views = found
    running = [v.id for v in views if v.state == "running"]
    if running and ws.jobs.reap(job_ids=running):
        return overview(ws, project_id, user_id, jobs_limit=jobs_limit)
    return row, views


def storyboard(ws: Workspace, project_id: str, user_id: int | None) -> Storyboard | None:
    """The project's storyboard (None while a paid planner has not written it yet)."""
    return review.storyboard(owned(ws, project_id, user_id).paths)


def cost_summary(project: Project) -> dict:
    """Spent, reserved, uncertain, remaining and cap in USD, and the committed cost per stage."""
    summary = project.ledger.summary()
    return {"cap_usd": summary.cap_usd, "spent_usd": round(summary.committed_usd, 6), "reserved_usd": round(summary.reserved_usd, 6),
            "uncertain_usd": round(summary.uncertain_usd, 6), "remaining_usd": round(summary.remaining_usd, 6),
            "by_stage": project.ws.queries.cost_by_stage(project.id)}


def qc_report(project: Project) -> dict | None:
    """The project's QC report (``qc.json``; None before the first render)."""
    return review.qc_report(project.paths)


def provenance(project: Project, shot_id: str) -> dict | None:
    """A shot's image sidecar — its provenance record (None before the image is made)."""
    return review.provenance(project.paths, shot_id)


def page(ws: Workspace, project_id: str, user_id: int | None, *, with_cost: bool = True) -> dict:
    """Everything the project page and ``GET /api/projects/{id}`` show (the page loads the cost and QC
    panels on their own: ``with_cost=False`` leaves out the ledger summary). Raises :class:`NotFound` for
    another user's project."""
    row, recent = overview(ws, project_id, user_id)
    project = ws.project(project_id)
    paths = project.paths
    board = review.storyboard(paths)
    return {
        "project": row,
        "storyboard": {"title": board.settings.title, "language": board.settings.language, "aspect_ratio": board.settings.aspect_ratio,
                       "chapters": review.shots(board, paths, ws.settings.speech_rate_wpm)} if board else None,
        "job": recent[0].as_dict() if recent else None,
        "jobs": [j.as_dict() for j in recent],
        "has_video": paths.video.exists(), "has_subtitles": paths.root.joinpath("video.vtt").exists(),
        "qc": review.qc_report(paths), "cost": cost_summary(project) if with_cost else None, "cap_usd": project.settings.max_cost_usd,
        "voice": _voice(project, board, recent),
        "story": review.story(paths, board),
    }


def component_image(project: Project, entity_id: str) -> Path | None:
    """The reference image of one of the storyboard's entities (the supplied one, else the drawn one), or None."""
    board = review.storyboard(project.paths)
    entity = next((e for e in board.entities if e.entity_id == entity_id), None) if board else None
    if entity is None:
        return None
    return project.paths.references / entity.reference if entity.reference else project.paths.generated_reference(entity_id)


def _voice(project: Project, board: Storyboard | None, recent: list[JobView]) -> dict:
    """The project's voice: the chosen one (``chosen``, ``chosen_label``, ``name``, ``style``: what a queued make
    asks for, else the project's options) and the ones its narration was made with (``used``: ``[{"provider",
    "label", "shots"}]``, from the sidecars)."""
    settings = project.settings
    waiting = next((j.request for j in recent if j.kind == "make" and j.state in ("queued", "running")), None) or {}
    chosen = waiting.get("voice") or settings.tts_provider
    name = waiting.get("voice_name") or (settings.tts_voice if "voice" not in waiting else None)
    style = waiting.get("voice_style") or settings.tts_style
    if board is not None:
        chosen = for_language(chosen, board.settings.language)
    used = review.narration_voices(board, project.paths) if board is not None else {}
    return {"chosen": chosen, "chosen_label": voice_label(chosen), "name": name, "style": style,
            "used": [{"provider": p, "label": voice_label(p), "shots": n} for p, n in used.items()]}


def shot(ws: Workspace, project_id: str, shot_id: str, user_id: int | None) -> dict:
    """One shot as the project page shows it (:func:`storyreel.store.review.shots`). Raises :class:`NotFound`."""
    board = storyboard(ws, project_id, user_id)
    rows = review.shots(board, ws.project(project_id).paths, ws.settings.speech_rate_wpm) if board else []
    found = next((s for ch in rows for s in ch["shots"] if s["shot_id"] == shot_id), None)
    if found is None:
        raise NotFound(project_id)
    return found


# --------------------------------------------------------------------------------------- staleness
WHY = {
    Cause.CODE: "storyreel's code for this stage changed", Cause.PARAMS: "its text or settings changed",
    Cause.TEMPLATE: "the prompt template changed", Cause.PROVIDER: "the provider or model changed",
    Cause.DATA: "made from changed {nodes}", Cause.DEPENDENCY: "waits for {nodes}",
    Cause.OUTPUT: "its file is missing or was changed on disk", Cause.FAILED: "the last attempt failed",
}
"""The engine's stale causes in words (the page shows these; the API also gives the compact form)."""

STALE_TTL_S = 5.0
"""How long the stale-node list of an unchanged project is reused (the full evaluation costs ≈ 25 ms)."""
_stale_cache: dict[str, tuple[float, tuple, list[dict]]] = {}
_stale_locks: dict[str, threading.Lock] = {}


def stale(project: Project) -> list[dict]:
    """Every node that is not fresh: ``causes`` in ``storyreel status``'s compact form, ``why`` in words.

    Reused for :data:`STALE_TTL_S` while the storyboard, the options and the project's newest run record
    are the same (many viewers of one project cost one evaluation); an edit or a finished node changes the
    key, so the answer after an edit is always fresh."""
    def stamp(path: Path) -> tuple:
        try:
            st = os.stat(path)
            return st.st_mtime_ns, st.st_size
        except OSError:
            return ()

    key = (stamp(project.paths.storyboard), stamp(project.paths.options), stamp(project.paths.root / "story" / "picks.json"),
           project.ws.queries.latest_run_id(project.id))
    lock = _stale_locks.setdefault(project.id, threading.Lock())
    with lock:  # one evaluation per project at a time; the others wait for it and reuse it
        hit = _stale_cache.get(project.id)
        if hit is not None and hit[0] > time.monotonic() and hit[1] == key:
            return hit[2]
        nodes = []
        for st in project_status(project):
            if st.state == State.FRESH and not st.attention:
                continue
            why = [WHY[c.category].format(nodes=", ".join(c.nodes)) for c in st.causes]
            if not st.causes:
                why = ["not made yet" if st.state == State.MISSING else "needs attention"]
            nodes.append({"node": st.node.name, "stage": st.node.stage, "unit": st.node.unit, "state": st.state.value,
                          "causes": [str(c) for c in st.causes], "why": why, "attention": st.attention})
        _stale_cache[project.id] = (time.monotonic() + STALE_TTL_S, key, nodes)
        return nodes


# ------------------------------------------------------------------------------------------ changing
def edit_shot(ws: Workspace, project_id: str, shot_id: str, *, user_id: int | None, narration: str | None = None,
              image_prompt: str | None = None) -> Storyboard:
    """Change one shot's narration and/or image prompt in ``storyboard.json`` (validated against the
    storyboard schema, written atomically under the project's lock; a running job → ``ProjectBusy``).
    An empty image prompt clears it (the image is then made from the shot's description). Raises
    :class:`NotFound`, :class:`InputError` naming ``narration`` / ``image_prompt`` / ``shot``."""
    project = owned(ws, project_id, user_id)
    with project.writing(wait=False, verb="edit"):
        if not project.paths.storyboard.exists():
            raise InputError("the storyboard is not planned yet", field="shot", hint="wait for the plan stage")
        data = project.storyboard().model_dump(mode="json")
        found = next((s for ch in data["chapters"] for s in ch["shots"] if s["shot_id"] == shot_id), None)
        if found is None:
            raise InputError(f"no shot {shot_id!r} in {project_id}", field="shot")
        if narration is not None:
            found["narration"] = strip_controls(narration).strip()
            if not found["narration"]:
                raise InputError("write what the voice says in this shot: the narration cannot be empty", field="narration")
        if image_prompt is not None:
            found["visual"]["image_prompt"] = strip_controls(image_prompt).strip() or None
        try:
            edited = Storyboard.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][-1]) if first["loc"] else "shot"
            field = name if name in ("narration", "image_prompt") else "shot"
            said = f"{field.replace('_', ' ')}: {first['msg']}" if field != "shot" else format_validation_error(exc)
            raise InputError(said, field=field) from None
        atomic_write_text(project.paths.storyboard, edited.model_dump_json(indent=2) + "\n")
    return edited


def delete_project(ws: Workspace, project_id: str, *, user_id: int | None) -> None:
    """Delete the project's folder and rows (jobs, runs, ledger, assets). A queued job is canceled first (it
    has not started: nothing to lose); refused while a job runs (:class:`~storyreel.store.jobs.JobConflict`:
    cancel it first) and while another process writes it."""
    project = owned(ws, project_id, user_id)
    active = ws.jobs.active_for_project(project.id)
    if active is not None and active.state == "queued":
        active = ws.jobs.request_cancel(active.id)  # atomic: a consumer taking it now finds it canceled and skips it
    if active is not None and active.state in ("queued", "running"):
        raise JobConflict(active)
    trash = project.paths.root.with_name(f".deleting-{project.id}-{secrets.token_hex(4)}")
    with project.writing(wait=False, verb="delete"):
        ws.queries.delete(project.id)
        if project.paths.root.exists():
            project.paths.root.rename(trash)  # the folder disappears at once; its files go after the lock is released
    project.unshare()
    shutil.rmtree(trash, ignore_errors=True)


def changes(project: Project) -> dict:
    """What "Update video" would redo, in words (:func:`storyreel.api.changes.pending` of :func:`stale`)."""
    return pending(project, stale(project))


# ------------------------------------------------------------------------------------------ estimates
def regenerate_estimate(ws: Workspace, project_id: str, *, user_id: int | None, shots: list[str] | None = None) -> dict:
    """What regenerating ``shots`` (all when None) would cost with the project's image provider: the
    imagegen dry run's per-shot estimates (template shots are free), against the money left under the cap."""
    project = owned(ws, project_id, user_id)
    plan = imagegen(project=project.id, dry_run=True, wait=False, workspace=ws.root)
    rows = [r for r in plan.shots if shots is None or r["shot_id"] in shots]
    return {"shots": len(rows), "generated": sum(r["method"] == "generated" for r in rows),
            "estimate_usd": round(sum(r["estimate_usd"] for r in rows), 6), "remaining_usd": cost_summary(project)["remaining_usd"],
            "provider": rows[0]["provider"] if rows else None}


def provider_choices(ws: Workspace) -> dict[str, list[dict]]:
    """The image providers, LLMs, voices and motion clip providers the dashboard offers
    (``STORYREEL_DASHBOARD_IMAGE_PROVIDERS`` / ``_LLMS`` / ``_VOICES`` / ``_CLIPS``; ``local`` camera moves always),
    keeping those usable as configured: the offline preflight (key present,
    base URL allowed) passes. Each: ``{"id", "paid"}``."""
    settings = ws.settings
    out: dict[str, list[dict]] = {"image": [], "llm": [], "tts": [], "video": [{"id": "local", "paid": False, "label": CLIP_LOCAL}]}
    offered = (("image", settings.image_provider, settings.dashboard_image_providers), ("llm", settings.llm, settings.dashboard_llms),
               ("tts", settings.tts_provider, settings.dashboard_voices), ("video", None, settings.dashboard_clips))
    for modality, default, ids in offered:
        for provider_id in dict.fromkeys([p for p in (default, *ids) if p]):
            if modality == "video" and provider_id == "local":
                continue
            try:
                provider = resolve(modality, for_language(provider_id, "en") if modality == "tts" else provider_id, settings)
                provider.preflight(online=False)
            except (StoryreelError, ValueError, ImportError):
                continue
            out[modality].append({"id": provider_id, "paid": provider.paid, "label": voice_label(provider_id) if modality == "tts" else provider_id})
    return out


CLIP_LOCAL = "Camera moves on the images (offline, free)"

VOICE_NAMES = {"local": "Offline voice for the language", "local:piper": "Offline neural voice (Piper)",
               "local:espeak": "Offline voice (espeak-ng)", "elevenlabs": "ElevenLabs", "google": "Google Gemini"}


def voice_label(provider: str) -> str:
    """A voice as people read it: ``local:piper/en_US-joe-medium`` → "Offline neural voice (Piper) · en_US-joe-medium",
    ``elevenlabs:eleven_multilingual_v2`` → "ElevenLabs · eleven_multilingual_v2"."""
    engine, _, voice = provider.partition("/")
    if engine in VOICE_NAMES:
        return VOICE_NAMES[engine] + (f" · {voice}" if voice else "")
    vendor, _, model = engine.partition(":")
    return " · ".join(part for part in (VOICE_NAMES.get(vendor, vendor), model, voice) if part)


def estimate_new(ws: Workspace, *, text: str, aspect_ratio: str | None = None, language: str | None = None,
                 image_provider: str | None = None, llm: str | None = None, voice: str | None = None) -> dict:
    """The priced plan of a video not made yet: the text planned by the offline planner in a scratch
    workspace, then the imagegen dry run with the chosen providers and the chosen voice's price of every shot's
    narration (calls nothing, writes nothing in the user's workspace). ``{"shots", "generated", "estimate_usd"
    (images and voice), "images_usd", "voice_usd", "voice", "provider", "cap_usd"}``. Raises
    :class:`InputError` like :func:`create_project` for bad input; a paid planner's own cost is not included
    (its call is priced when it runs)."""
    MakeRequest.build(prompt="x" * 20, aspect_ratio=aspect_ratio or None, language=language or None,
                      image_provider=image_provider or None, llm=llm or None, voice=voice or None)
    with tempfile.TemporaryDirectory(prefix="storyreel-estimate-") as scratch:
        root = Path(scratch)
        source = root / "input.txt"
        source.write_text(text, encoding="utf-8")
        try:
            planned = plan(PlanRequest.build(input_path=source, project_id="estimate", workspace=root, aspect_ratio=aspect_ratio or None,
                                             language=language or None))
            priced = imagegen(project="estimate", dry_run=True, workspace=root, image_provider=image_provider or None, llm=llm or None)
        except InputError as exc:
            raise InputError(exc.message, field="text", hint=exc.hint) from None
    board = planned.storyboard
    voice_id = for_language(voice or ws.settings.tts_provider, board.settings.language)
    speech = resolve("tts", voice_id, ws.settings)
    voice_usd = round(sum(speech.estimate(SpeechRequest(text=shot.narration, language=board.settings.language,
                                                        words_per_minute=ws.settings.speech_rate_wpm))
                          for _, shot in board.shots()), 6) if speech.paid else 0.0
    return {"shots": len(priced.shots), "generated": sum(r["method"] == "generated" for r in priced.shots),
            "estimate_usd": round(priced.estimate_usd + voice_usd, 6), "images_usd": priced.estimate_usd, "voice_usd": voice_usd,
            "voice": voice_label(voice_id), "provider": image_provider or ws.settings.image_provider,
            "cap_usd": ws.settings.max_cost_usd, "title": board.settings.title, "aspect_ratio": board.settings.aspect_ratio}
