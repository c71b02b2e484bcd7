"""The layout of a project folder: every path storyreel writes in a project comes from here.

Names follow one rule so that no shot ID can take a stage's file: a unit's own files are
``<unit><suffix>`` (``images/ch01-s02.png``, ``images/ch01-s02.meta.json``, ``audio/ch01-s02.wav``), while
stage-owned files either carry a name no ID can have or live where units have none (``images/manifest.json``
beside ``<id>.png`` and ``<id>.meta.json``; ``.lock``). IDs (``[A-Za-z0-9][A-Za-z0-9_-]*``) hold no dot, so
``<id>.meta.json`` is never ``manifest.json`` and ``<a>+<b>`` is never a shot. A shot's candidate images live
in its own folder ``images/<id>/`` (``1.png``, ``1.meta.json``, ``request-1.json``, ``scores.json``): only
storyreel names files there.

A :class:`ProjectPaths` is built only from a valid project ID, and :meth:`ProjectPaths.check_contained`
refuses a project folder or sub-folder that is a symbolic link or resolves outside the workspace.
Atomic writes are :mod:`storyreel.core.atomic`.
"""

from __future__ import annotations

from pathlib import Path

from storyreel.core.errors import InputError
from storyreel.core.vocabulary import check_id

SUBFOLDERS = ("images", "audio", "clips", "prompts", "provenance", "work", "assets", "logs", "received", "input", "cache", "preview")


class ProjectPaths:
    """Layout of one project folder (ARCHITECTURE.md "Store and files"). Raises :class:`InputError`
    (field ``PROJECT``) when ``project_id`` is not a valid ID."""

    mirror = None
    """With shared artifact storage, what the paid-call journal tells of each write and removal
    (:class:`storyreel.store.sync.ProjectMirror`, set by the session); None on one machine."""

    def __init__(self, workspace: Path, project_id: str, *, field: str = "PROJECT") -> None:
        self.project_id = check_id(project_id, field)
        self.workspace = Path(workspace)
        self.root = self.workspace / "projects" / project_id

    def check_contained(self) -> None:
        """Refuse (:class:`InputError`) a project folder or sub-folder that is a symbolic link or resolves
        outside ``<workspace>/projects``: storyreel writes only inside the workspace."""
        base = (self.workspace / "projects").resolve()
        for path in (self.root, *(self.root / sub for sub in SUBFOLDERS)):
            if path.is_symlink():
                raise InputError(f"{path} is a symbolic link", field="PROJECT",
                                 hint="remove the link: a project's folders must be real folders inside the workspace")
        if self.root.exists() and not self.root.resolve().is_relative_to(base):
            raise InputError(f"{self.root} resolves outside {base}", field="PROJECT", hint="move the project into the workspace")

    # ------------------------------------------------------------------------ project-level files
    @property
    def storyboard(self) -> Path:
        return self.root / "storyboard.json"

    @property
    def options(self) -> Path:
        return self.root / "options.json"

    @property
    def lock(self) -> Path:
        """The project lock's file (one verb that writes owns the project at a time)."""
        return self.root / ".lock"

    @property
    def video(self) -> Path:
        return self.root / "video.mp4"

    @property
    def qc_report(self) -> Path:
        return self.root / "qc.json"

    def deliverable(self, name: str) -> Path:
        """A file delivered beside the video (``video.srt``, ``video.vtt``, ``thumbnail.jpg``)."""
        return self.root / name

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def manifest(self) -> Path:
        return self.images / "manifest.json"

    @property
    def audio(self) -> Path:
        return self.root / "audio"

    @property
    def clips(self) -> Path:
        return self.root / "clips"

    @property
    def prompts(self) -> Path:
        return self.root / "prompts"

    @property
    def work(self) -> Path:
        """Scratch files of the render (cue and overlay images, concat list, audio mix)."""
        return self.root / "work"

    @property
    def objects(self) -> Path:
        """The build cache: every node output kept by content (:mod:`storyreel.store.objects`)."""
        return self.root / "cache" / "objects"

    @property
    def provenance(self) -> Path:
        return self.root / "provenance"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def input(self) -> Path:
        """Where the dashboard keeps the text a project was made from (``input/<name>``)."""
        return self.root / "input"

    @property
    def received(self) -> Path:
        """The received journal of paid calls (:mod:`storyreel.store.journal`)."""
        return self.root / "received"

    # --------------------------------------------------------------------------- a unit's files
    def image(self, shot: str) -> Path:
        return self.images / f"{shot}.png"

    def image_meta(self, shot: str) -> Path:
        """The image's sidecar: its manifest entry (seed 001 §6)."""
        return self.images / f"{shot}.meta.json"

    def candidates(self, shot: str) -> Path:
        """A shot's candidate folder ``images/<shot>/`` (best-of-N)."""
        return self.images / shot

    def candidate(self, shot: str, index: int) -> Path:
        """Candidate ``index`` (1-based, as ``storyreel pick`` takes it) of a shot."""
        return self.candidates(shot) / f"{index}.png"

    def candidate_meta(self, shot: str, index: int) -> Path:
        """A candidate's sidecar: its manifest entry plus seed, request key and hash."""
        return self.candidates(shot) / f"{index}.meta.json"

    def scores(self, shot: str) -> Path:
        """The select stage's record of a shot: every candidate's scores, the ranking and the pick."""
        return self.candidates(shot) / "scores.json"

    def request_payload(self, shot: str, index: int = 1) -> Path:
        """What ``imagegen --dry-run`` would send for a shot's call starting at candidate ``index`` (a vendor
        with a native batch asks for several candidates in one call)."""
        return self.candidates(shot) / f"request-{index}.json"

    def prompt_record(self, shot: str) -> Path:
        return self.prompts / f"{shot}.json"

    @property
    def references(self) -> Path:
        """Reference images of the storyboard's entities (``assets/references/<entity>.png``)."""
        return self.root / "assets" / "references"

    def generated_reference(self, entity: str) -> Path:
        """The reference image the ``reference`` stage drew for an entity the user gave none
        (``assets/references/<entity>.generated.png``: a name no supplied reference can have)."""
        return self.references / f"{entity}.generated.png"

    def enhanced_prompt(self, shot: str) -> Path:
        """The enhancement loop's result for a shot (its trace files are in ``prompts/<shot>/``)."""
        return self.prompts / f"{shot}.enhanced.json"

    def narration_audio(self, shot: str) -> Path:
        return self.audio / f"{shot}.wav"

    def narration_timing(self, shot: str) -> Path:
        return self.audio / f"{shot}.json"

    def audio_segment(self, shot: str) -> Path:
        """A shot's voice, leveled and AAC-encoded as its piece of the soundtrack (stages/audio_segment.py)."""
        return self.audio / "segments" / f"{shot}.m4a"

    def audio_segment_probe(self, shot: str) -> Path:
        """The audio segment's sidecar: frames and loudness before and after (JSON)."""
        return self.audio / "segments" / f"{shot}.json"

    def clip(self, unit: str) -> Path:
        """A shot's body segment, or a crossfade ``<a>+<b>``."""
        return self.clips / f"{unit}.mp4"

    @property
    def stills(self) -> Path:
        """Stills converted for the warp (``work/stills``): decoded once, reused by the crossfades."""
        return self.work / "stills"

    @property
    def audio_mix(self) -> Path:
        """The finished soundtrack (AAC 48 kHz, loudness-normalized) the render muxes in."""
        return self.audio / "narration-mix.m4a"

    def clip_layout(self, shot: str) -> Path:
        """A shot's layout record: every text box and its motion (storyreel.media.layout)."""
        return self.clips / f"{shot}.layout.json"

    def motion_clip(self, shot: str) -> Path:
        """A shot's clip from an image-to-video vendor, as the vendor made it (``motion`` stage)."""
        return self.clips / f"{shot}.motion.mp4"

    def motion_attempt(self, shot: str, number: int) -> Path:
        """Attempt ``number`` (from 1) of a shot's vendor clip, as the vendor made it."""
        return self.clips / f"{shot}.motion-{number}.mp4"

    def motion_prompt(self, shot: str) -> Path:
        """A shot's motion prompt record (``motion_prompt`` stage): prompt, negative prompt, end state, score."""
        return self.clips / f"{shot}.motion-prompt.json"

    def end_frame(self, shot: str) -> Path:
        """A shot's end frame for video models that take one (``end_frame`` stage)."""
        return self.clips / f"{shot}.end.png"

    def motion_meta(self, shot: str) -> Path:
        """The record of a shot's vendor clip: provider, model, job, duration, cost."""
        return self.clips / f"{shot}.motion.json"

    def clip_probe(self, unit: str) -> Path:
        """What was measured on a segment's frames as it was encoded."""
        return self.clips / f"{unit}.qc.json"

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def seed_named(folder: Path, kind: str, name: str, source: Path) -> Path:
    """The seed's name for a made picture, ``<kind>_<name>_<YYYYmmddTHHMMSS>.png`` in ``folder``, hard-linked to
    ``source`` (a copy where links are not possible); an older one of the same kind and name is removed, so the newest
    node's time is in the name and a node that stays fresh keeps its file."""
    import os
    import shutil
    import time

    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(source.stat().st_mtime))
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{kind}_{name}_{stamp}.png"
    for old in folder.glob(f"{kind}_{name}_*.png"):
        if old != out:
            old.unlink(missing_ok=True)
    if not out.exists():
        try:
            os.link(source, out)
        except OSError:
            shutil.copyfile(source, out)
    return out


class PreviewPaths(ProjectPaths):
    """The layout of a project's preview render (issue 28 item 5): what the render stages write goes under
    ``preview/`` (its clips, crossfades, scratch files, ``video.mp4`` and sidecars), while everything they read — images,
    narration, vendor clips, the soundtrack — is the project's own (the same files as the delivery render's)."""

    def __init__(self, paths: ProjectPaths) -> None:
        super().__init__(paths.workspace, paths.project_id)
        self.folder = self.root / "preview"

    @property
    def video(self) -> Path:
        return self.folder / "video.mp4"

    @property
    def qc_report(self) -> Path:
        return self.folder / "qc.json"

    def deliverable(self, name: str) -> Path:
        return self.folder / name

    @property
    def work(self) -> Path:
        return self.folder / "work"

    def clip(self, unit: str) -> Path:
        return self.folder / "clips" / f"{unit}.mp4"

    def clip_layout(self, shot: str) -> Path:
        return self.folder / "clips" / f"{shot}.layout.json"

    def clip_probe(self, unit: str) -> Path:
        return self.folder / "clips" / f"{unit}.qc.json"
