"""The project context handed to every stage: storyboard, folder, settings and providers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from storyreel.core.artifact import Storyboard, frame_size
from storyreel.core.settings import Settings
from storyreel.core.words import WordTiming
from storyreel.media.ffmpeg import Encoding
from storyreel.media.layout import FrameLayout, frame_layout, motion_safe_area
from storyreel.media.timeline import KenBurns, Timeline, build_timeline
from storyreel.prompts.registry import PromptTemplate, load_template
from storyreel.providers.base import ConsistencyScorer, ImageGenService, ImageScorer, Judge, LlmStep, SpeechService, VideoService
from storyreel.store.assets import AssetStore
from storyreel.store.files import ProjectPaths
from storyreel.store.ledger import CostLedger
from storyreel.store.scores import ScoreStore


@dataclass
class ProjectContext:
    storyboard: Storyboard
    paths: ProjectPaths
    settings: Settings
    image_provider: ImageGenService
    tts_provider: SpeechService
    encoding: Encoding
    template_provider: ImageGenService | None = None
    fallback_image_provider: ImageGenService | None = None
    """The image provider asked when ``image_provider`` fails (``image_fallback``), or None."""
    video_provider: VideoService | None = None
    """The image-to-video vendor of the moving shots (``clips_provider``), or None: Ken Burns moves everywhere."""
    ledger: CostLedger | None = None
    llm: LlmStep | None = None
    assets: AssetStore | None = None
    scorer: ImageScorer | None = None
    """The select stage's image scorer (``local:technical``)."""
    scores: ScoreStore | None = None
    judge: Judge | None = None
    """The select stage's VLM judge, or None."""
    consistency: ConsistencyScorer | None = None
    """The select stage's consistency scorer (``local:consistency``): candidates against entity references."""
    _templates: dict[str, PromptTemplate] = field(default_factory=dict)
    music: Path | None = None
    _narration: dict[str, tuple[float, list[WordTiming]]] = field(default_factory=dict)
    followers: list[ProjectContext] = field(default_factory=list)
    """Contexts of the same project at another profile (the preview's): they forget a shot's narration with this one."""

    def route(self, shot_id: str) -> str:
        """How a shot's image is made (seed 001 §4.3): ``template`` (the local renderer: visual types in the
        project's ``template_types``, or every shot when the image provider is offline) or ``generated`` (the
        configured image provider)."""
        _, shot = self.storyboard.shot(shot_id)
        if shot.visual.type in self.storyboard.settings.template_types or self.image_provider.offline:
            return "template"
        return "generated"

    def preflight(self, *, online: bool = True) -> None:
        """Check, before any paid work, every provider this project's run will call: keys present, base
        URLs allowed and — ``online`` — one free call per paid image provider (key refused, unknown model,
        unreachable URL). Raises :class:`~storyreel.core.errors.ConfigError` naming what to set."""
        generated = [shot.shot_id for _, shot in self.storyboard.shots() if self.route(shot.shot_id) == "generated"]
        if generated:
            self.image_provider.preflight(online=online and self.image_provider.paid)
            if self.llm is not None and any(not self.storyboard.shot(u)[1].visual.image_prompt for u in generated):
                self.llm.preflight()
        self.tts_provider.preflight()
        if self.video_provider is not None and any(self.moving(s.shot_id) for _, s in self.storyboard.shots()):
            self.video_provider.preflight(online=online)
        if self.judge is not None and self.settings.image_candidates > 1:
            self.judge.preflight()

    def moving(self, shot_id: str) -> bool:
        """Whether the shot's motion comes from the image-to-video vendor (``clips_provider``): every shot whose visual
        type is not one of the project's template types (title cards and presenter shots keep their Ken Burns move —
        a vendor would smear their text); its selected image, drawn offline or bought, is the start frame."""
        if self.video_provider is None:
            return False
        _, shot = self.storyboard.shot(shot_id)
        return shot.visual.type not in self.storyboard.settings.template_types

    def pinned(self, shot_id: str) -> str | None:
        """The sha256 of the vendor clip an edit pinned for a moving shot (``visual.clip_pin``: a trimmed shot keeps its
        clip, bought once), or None: the clip follows the shot's words and length."""
        if not self.moving(shot_id):
            return None
        _, shot = self.storyboard.shot(shot_id)
        return shot.visual.clip_pin

    def footage(self, shot_id: str) -> Path | None:
        """The shot's vendor clip (``clips/<shot>.motion.mp4``) when its motion comes from one and the vendor made
        it; None otherwise — a shot whose every attempt the vendor refused keeps its Ken Burns move as a stand-in."""
        path = self.paths.motion_clip(shot_id)
        return path if self.moving(shot_id) and path.is_file() else None

    def narration(self, shot_id: str) -> tuple[float, list[WordTiming]]:
        """(duration seconds, word timings) of a shot's narration, read from ``audio/<shot>.json``."""
        if shot_id not in self._narration:
            path = self.paths.narration_timing(shot_id)
            data = json.loads(path.read_text(encoding="utf-8"))
            self._narration[shot_id] = (float(data["duration_s"]), [WordTiming(**w) for w in data["words"]])
        return self._narration[shot_id]

    def references(self, shot_id: str) -> list[tuple[str, Path]]:
        """(label, path) of the reference image of each entity the shot shows that has one on disk — the one
        the user supplied, else the one the ``reference`` stage drew; the label is the entity's name and kind."""
        _, shot = self.storyboard.shot(shot_id)
        out = []
        for entity_id in shot.visual.entities:
            entity = self.storyboard.entity(entity_id)
            path = self.paths.references / entity.reference if entity.reference else self.paths.generated_reference(entity_id)
            if path.is_file():
                out.append((f"{entity.name} ({entity.kind})", path))
        return out

    def template(self, name: str) -> PromptTemplate:
        """A prompt template, the workspace's copy first (loaded once per run)."""
        if name not in self._templates:
            self._templates[name] = load_template(name, self.settings.workspace)
        return self._templates[name]

    def forget_narration(self, shot_id: str) -> None:
        """Drop what was read of ``shot_id``'s narration (and the timeline measured from it), here and in the followers."""
        self._narration.pop(shot_id, None)
        self.__dict__.pop("timeline", None)
        for other in self.followers:
            other.forget_narration(shot_id)

    @cached_property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) in pixels of the video and of every image: the storyboard's aspect ratio at the
        project's resolution (``resolution`` setting / option: 1080p, 720p or 360p)."""
        return frame_size(self.storyboard.settings.aspect_ratio, self.settings.resolution)

    @cached_property
    def timeline(self) -> Timeline:
        """Timeline from the narration lengths on disk (0 s for shots not narrated yet; stages only read
        a shot's timing once its narration node is fresh)."""
        durations = {}
        for _, shot in self.storyboard.shots():
            try:
                durations[shot.shot_id] = self.narration(shot.shot_id)[0]
            except FileNotFoundError:
                durations[shot.shot_id] = 0.0
        return build_timeline(self.storyboard, durations, size=self.frame_size)

    def shot_timing(self, shot_id: str):  # noqa: ANN201
        return next(s for s in self.timeline.shots if s.shot_id == shot_id)

    def frame_layout(self, shot_id: str) -> FrameLayout:
        """The shot's regions on the output frame: its overlays placed, the subtitle band reserved when it
        is narrated (:func:`storyreel.media.layout.frame_layout`)."""
        _, shot = self.storyboard.shot(shot_id)
        width, height = self.frame_size
        return frame_layout(width, height, [(o.type, o.text) for o in shot.overlays], subtitles=bool(shot.narration.strip()))

    def text_area(self, shot_id: str) -> list[float]:
        """Where a card drawn at the frame size may put text and key shapes, in image pixels: the content
        region at every frame of the shot's camera move (:func:`storyreel.media.layout.motion_safe_area`)."""
        _, shot = self.storyboard.shot(shot_id)
        width, height = self.frame_size
        layout = self.frame_layout(shot_id)
        return motion_safe_area(layout.content, KenBurns.for_move(shot.camera_move), width, height, width, height).as_list()
