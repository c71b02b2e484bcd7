"""``make``: the main job — input → storyboard → image prompts, images, narration, clips, crossfade
segments → ``video.mp4`` + QC. Only nodes that are not fresh run; a fully fresh result is stamped so the
same request repeated answers from file stats (:mod:`storyreel.engine.uptodate`)."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.requests import MakeRequest
from storyreel.api.results import RunResult
from storyreel.api.runner import Verb
from storyreel.api.session import Project, Workspace
from storyreel.api.verbs.plan import Planning
from storyreel.core.settings import Settings
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine import uptodate
from storyreel.engine.executor import Executor, RunReport
from storyreel.media.ffmpeg import ffmpeg_exe
from storyreel.providers.tts.local import check_voice_name
from storyreel.stages.context import ProjectContext
from storyreel.store.history import History


class Make(Verb[MakeRequest, RunResult]):
    """``storyreel make``: plan (or keep the storyboard), then every media stage; the choices given are kept."""

    name = "make"

    def open(self, ws: Workspace, request: MakeRequest) -> Project:
        uptodate.forget(ws.root, request.stamp_identity())
        ws.check_choices(image_provider=request.image_provider, llm=request.llm, voice=request.voice,  # before any work
                         clips=request.clips)
        self.planning = Planning(ws, request)
        return self.planning.project

    def check(self, project: Project, request: MakeRequest) -> None:
        """The voice name against the voice that will read with it — the one asked for, else the project's, else
        the workspace's — before anything is kept. Raises :class:`InputError` (``--voice-name``)."""
        stored = project.options if project.paths.options.exists() else None
        voice = request.voice or (stored.voice if stored else None) or project.ws.settings.tts_provider
        name = request.voice_name
        if name is None and stored is not None and request.voice in (None, stored.voice):
            name = stored.voice_name
        check_voice_name(voice, name)

    def prepare(self, project: Project, request: MakeRequest, executor: Executor) -> None:
        self.planning.evaluate(executor, force=request.force)  # the same invocation as the media stages

    def options(self, request: MakeRequest) -> dict:
        return {"image_provider": request.image_provider, "llm": request.llm, "max_cost_usd": request.max_cost,
                "candidates": request.candidates, "judge": request.judge, "enhance": request.enhance,
                "resolution": request.resolution, "voice": request.voice, "voice_name": request.voice_name,
                "voice_style": request.voice_style, "speech_rate": request.speech_rate, "clips": request.clips,
                "attempts": request.attempts}

    def result(self, project: Project, ctx: ProjectContext, report: RunReport, status: ProjectStatus, request: MakeRequest,
               started: float) -> RunResult:
        runs = project.store.for_invocation(report.invocation)  # the plan node's run included
        history = History(project.paths)  # every make is a version (the first: version 1, "as made") with its video
        history.record("as made" if not history.versions() else "made again")
        history.rendered()
        return RunResult.of(project, report, status, started, runs=runs)

    def stamp(self, project: Project, ctx: ProjectContext, request: MakeRequest, result: RunResult) -> None:
        """Record what this fully fresh make depended on (:mod:`storyreel.engine.uptodate`)."""
        paths, workspace = project.paths, project.ws.root
        files = [request.input_path.resolve()] if request.input_path else []
        files += [paths.root / rel for run in project.store.latest_success(project.id).values() for rel in run.outputs]
        files += [paths.storyboard, Path(ffmpeg_exe())] + ([ctx.music] if ctx.music else [])
        prompts = workspace / "prompts"
        watch = [paths.options, workspace / "encoder.json", prompts]
        watch += sorted(prompts.glob("*.md")) if prompts.is_dir() else []
        done = {**result.as_dict(), "executed_nodes": [], "executed_count": 0, "duration_s": 0.0, "invocation": ""}
        uptodate.write(workspace, request.stamp_identity(), files, watch, Settings.env_names(), done)
