"""Run one job in a consumer: mark it running, beat, report progress, honour a cancel, end it.

A job's request (the ``request`` column) holds the verb's fields; a file input is stored relative to the
workspace, so a worker on another machine finds it under its own mount of the shared folder. Every
outcome ends the job in one state — ``done | failed | canceled | interrupted | cost_limit`` — with a message
a person can act on; the verb has settled the project's status by then (:func:`storyreel.api.runner.settle`).
A worker that dies mid-job leaves it ``running`` until the lease runs out; then it is ``interrupted`` and queued again
for another worker (:meth:`storyreel.store.jobs.JobStore.reap`, up to ``STORYREEL_JOB_MAX_ATTEMPTS`` starts): the
engine skips every node that finished. Each start holds a lease generation; a worker whose lease was taken over
stops and ends nothing (``lost``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from storyreel import api
from storyreel.core.cancel import SHUTDOWN, Canceled, throttled, watching
from storyreel.core.errors import CostLimitReached, StoryreelError
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine.dispatch import dispatching
from storyreel.jobs import fanout
from storyreel.jobs.fanout import QueueDispatch, thread_name
from storyreel.jobs.progress import JobProgress
from storyreel.store.jobs import QUIET_KINDS, JobView

log = logging.getLogger("storyreel.jobs")


worker_name = thread_name
"""``host:pid:thread`` of the consumer running a job (shown on the jobs page)."""


def _spent(project: api.Project) -> float:
    """What the project's ledger has committed or holds as uncertain, in USD."""
    summary = project.ledger.summary()
    return summary.committed_usd + summary.uncertain_usd


def _make(ws: api.Workspace, job: JobView, progress: JobProgress, fields: dict | None = None) -> str:
    """``make`` with the job's fields: the whole video, running only the nodes that are not fresh."""
    fields = dict(job.request if fields is None else fields)
    if fields.get("input_path"):
        fields["input_path"] = ws.root / fields["input_path"]
    result = api.make(api.MakeRequest.build(workspace=ws.root, **fields), progress=progress)
    made = f"{len(result.executed)} node(s) made"
    return f"video ready: {made}" + (f", {len(result.attention)} need attention" if result.attention else "")


def _regenerate(ws: api.Workspace, job: JobView, progress: JobProgress) -> str:
    """New images for the job's ``shots`` (all when empty), then ``make``: only what depends on them re-runs."""
    fields = dict(job.request)
    for shot in fields.pop("shots", None) or [None]:
        api.imagegen(api.ImagegenRequest.build(workspace=ws.root, project=job.project_id, shot=shot, force=True), progress=progress)
    return _make(ws, job, progress, fields)


def _render(ws: api.Workspace, job: JobView, progress: JobProgress) -> str:
    result = api.render(api.RenderRequest.build(workspace=ws.root, project=job.project_id, **job.request), progress=progress)
    return f"video rendered: {len(result.executed)} node(s) made"


def _preview(ws: api.Workspace, job: JobView, progress: JobProgress) -> str:
    """The editor's preview of the current version (540p): the delivered video and the project's status stay."""
    result = api.preview(api.PreviewRequest.build(workspace=ws.root, project=job.project_id), progress=progress)
    return f"preview ready: {len(result.executed)} node(s) made"


RUNS: dict[str, Callable[[api.Workspace, JobView, JobProgress], str]] = {"make": _make, "regenerate": _regenerate, "render": _render,
                                                                         "preview": _preview}
"""Job kind → what it runs: the one list of job kinds (each makes or updates the video, or — ``preview`` — its preview)."""

QUIET = QUIET_KINDS
"""Job kinds that leave the project's status alone: the delivered video is not what they make."""


def run_job(job_id: str, workspace: Path, offer: Callable[[str], None] | None = None) -> str:
    """Run job ``job_id`` of ``workspace`` to its end; returns its final state (``skipped`` when it was not
    queued any more, e.g. canceled before a consumer took it). Never raises for the job's own failure:
    that is the job's state and message. ``offer(task_id)`` puts a node task on the queue: with it, the job's
    independent nodes are offered to the other live workers (:mod:`storyreel.jobs.fanout`)."""
    ws = api.Workspace.open(workspace)
    jobs = ws.jobs
    generation = jobs.start(job_id, worker_name())
    if not generation:
        return "skipped"
    job = jobs.get(job_id)
    assert job is not None
    project = ws.project(job.project_id)
    before = _spent(project)
    row = project.store.project(project.id)
    first_video = row is None or row.video_path is None  # an "Update video" remakes a video, it is not another one
    quiet = job.kind in QUIET
    if not quiet:
        project.mark(ProjectStatus.RUNNING)
    stop_beating, lost = threading.Event(), threading.Event()
    beat = fanout.keep_lease(lambda: jobs.beat(job_id, generation), ws.settings.job_lease_s / 3, stop_beating, lost, f"job {job_id}")

    def report(value: float, stage: str | None, node: str | None, event: dict | None) -> None:
        jobs.progress(job_id, progress=value, stage=stage, node=node, event=event, cost_usd=round(_spent(project) - before, 6),
                      generation=generation)

    progress = JobProgress(report, plans=job.kind == "make")
    state, message = "done", ""
    try:
        asked = throttled(lambda: jobs.cancel_requested(job_id))
        dispatcher = QueueDispatch(ws, offer) if offer is not None and not quiet else None
        with watching(lambda: SHUTDOWN.is_set() or lost.is_set() or asked()), dispatching(dispatcher):
            message = RUNS[job.kind](ws, job, progress)
    except Canceled as exc:
        if exc.interrupted:
            state, message = "interrupted", "the server or worker stopped; resume to continue from what is done"
            if not lost.is_set() and jobs.release(job_id, generation, "the server or worker stopped"):
                log.info("job %s: given back to the queue (this worker is stopping)", job_id)
                return "released"
        else:
            state, message = "canceled", "canceled; what was finished is kept — resume continues from there"
    except CostLimitReached as exc:
        state, message = "cost_limit", str(exc)
    except StoryreelError as exc:
        state, message = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - a job ends with a state, whatever went wrong
        log.exception("job %s failed", job_id)
        state, message = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        stop_beating.set()
        beat.join(timeout=5)
    if lost.is_set():  # another worker holds the job now: this one ends nothing
        log.warning("job %s: the lease was taken over (generation %d); stopped without ending it", job_id, generation)
        return "lost"
    if not quiet and project.status in (ProjectStatus.QUEUED, ProjectStatus.RUNNING):  # the verb stopped before it could settle
        project.mark(ProjectStatus(state) if state != "done" else ProjectStatus.PARTIAL)
    if state == "done" and not quiet:
        project.record(duration_s=_duration(project))
    jobs.finish(job_id, state, message, cost_usd=round(_spent(project) - before, 6), video_made=state == "done" and first_video and not quiet,
                generation=generation)
    log.info("job %s (%s %s): %s — %s", job_id, job.kind, job.project_id, state, message)
    fanout.evict_copies(ws)
    return state


def _duration(project: api.Project) -> float | None:
    """The length of the project's video in seconds (None when there is none or it cannot be read)."""
    from storyreel.media.probe import probe

    video = project.paths.video
    try:
        facts = probe(video, count_frames=False) if video.exists() else None
        return round(facts.video.duration_s, 2) if facts and facts.video else None
    except Exception:  # noqa: BLE001 - the duration is decoration; QC already checked the file
        return None
