"""The timeline: pure data computed from the storyboard and the narration durations.

Everything is counted in whole frames at 30 fps so segments concatenate without drift. Each shot owns a
*slot* of frames; a crossfade of ``CROSSFADE_FRAMES`` between shots a and b is centred on their boundary
(``A_PART`` frames of a's slot, ``B_PART`` frames of b's), so the video lasts exactly the sum of the slots.
A shot is visible from ``-pre`` to ``slot + post`` (its motion runs over that whole range, so the Ken Burns
move continues smoothly through the crossfades); its *body* segment is the part not shared with a
transition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from storyreel.core.artifact import CameraMove, Storyboard, frame_size

FPS = 30
CROSSFADE_FRAMES = 15  # 0.5 s
A_PART = CROSSFADE_FRAMES // 2  # frames of the outgoing shot's slot inside the crossfade
B_PART = CROSSFADE_FRAMES - A_PART  # frames of the incoming shot's slot inside the crossfade
FADE_FRAMES = 15  # fade from/to black at the start/end of the video
LEAD_IN_S = 0.45  # silence before the narration of a shot (covers the incoming crossfade)
TAIL_S = 0.55  # silence after the narration of a shot
ZOOM = 1.12  # Ken Burns zoom factor at the far end of a move


@dataclass(frozen=True)
class KenBurns:
    """Camera path as (zoom, fx, fy) at progress 0 and 1; fx/fy ∈ [0, 1] place the crop window in the
    zoomed image (0 = left/top edge, 0.5 = centre). Interpolated linearly in progress."""

    z0: float
    z1: float
    fx0: float = 0.5
    fx1: float = 0.5
    fy0: float = 0.5
    fy1: float = 0.5

    @classmethod
    def for_move(cls, move: CameraMove) -> KenBurns:
        return {
            "static": cls(1.0, 1.0),
            "zoom_in": cls(1.0, ZOOM),
            "zoom_out": cls(ZOOM, 1.0),
            "pan_left": cls(ZOOM, ZOOM, fx0=1.0, fx1=0.0),
            "pan_right": cls(ZOOM, ZOOM, fx0=0.0, fx1=1.0),
            "pan_up": cls(ZOOM, ZOOM, fy0=1.0, fy1=0.0),
            "pan_down": cls(ZOOM, ZOOM, fy0=0.0, fy1=1.0),
        }[move]

    def at(self, p: float) -> tuple[float, float, float]:
        """(zoom, fx, fy) at progress ``p`` ∈ [0, 1] (a float, or a numpy array of them: elementwise)."""
        return (
            self.z0 + (self.z1 - self.z0) * p,
            self.fx0 + (self.fx1 - self.fx0) * p,
            self.fy0 + (self.fy1 - self.fy0) * p,
        )

    def window(self, p, src_w: int, src_h: int, width: int, height: int):  # noqa: ANN001, ANN201 - float or ndarray
        """The camera's map at progress ``p`` (0 = start of the move, 1 = end; outside, extrapolated
        linearly, never clamped, so motion continues through crossfades) as ``(s, tx, ty)``: still pixel
        (u, v) lands on frame pixel (s·u + tx, s·v + ty). The still is first scaled to cover ``width ×
        height`` (``max(W/src_w, H/src_h)``), then zoomed; the frame sits at fraction ``fx, fy`` of the
        slack (0 = left/top edge, 1 = right/bottom). Nothing is rounded. The one formula the warp
        (:func:`storyreel.media.motion.camera_affine`), the layout's motion-safe area and the
        ``text_layout`` check share; ``p`` may be a numpy array (then so are the results)."""
        z, fx, fy = self.at(p)
        s = max(width / src_w, height / src_h) * z
        return s, -(src_w * s - width) * fx, -(src_h * s - height) * fy


@dataclass(frozen=True)
class ShotTiming:
    """One shot on the timeline. Frame numbers are local to the slot (0 = first frame of the slot)."""

    shot_id: str
    index: int
    start: int  # first frame of the slot on the video timeline
    slot: int  # frames in the slot
    pre: int  # frames visible before the slot (inside the incoming crossfade)
    post: int  # frames visible after the slot (inside the outgoing crossfade)
    narration_offset_s: float  # narration starts this long after the slot starts
    narration_s: float
    camera: KenBurns
    fade_in: bool = False
    fade_out: bool = False

    @property
    def body_start(self) -> int:
        return B_PART if self.pre else 0

    @property
    def body_end(self) -> int:
        return self.slot - (A_PART if self.post else 0)

    @property
    def body_frames(self) -> int:
        return self.body_end - self.body_start

    @property
    def span(self) -> int:
        """Frames over which the motion runs: pre + slot + post."""
        return self.pre + self.slot + self.post

    def progress(self, local_frame: int) -> float:
        """Motion progress ∈ [0, 1] at a slot-local frame (may be negative down to -pre)."""
        return (local_frame + self.pre) / max(1, self.span - 1)


@dataclass(frozen=True)
class TransitionTiming:
    """A crossfade between shots ``a`` and ``b``: a's frames [a.slot - A_PART, a.slot + B_PART) blended
    into b's frames [-A_PART, B_PART)."""

    a: ShotTiming
    b: ShotTiming
    frames: int = CROSSFADE_FRAMES

    @property
    def unit(self) -> str:
        return f"{self.a.shot_id}+{self.b.shot_id}"


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    fps: int
    shots: list[ShotTiming]
    transitions: list[TransitionTiming] = field(default_factory=list)

    @property
    def total_frames(self) -> int:
        return sum(s.slot for s in self.shots)

    @property
    def duration_s(self) -> float:
        return self.total_frames / self.fps

    def segment_frames(self) -> list[tuple[str, str, int]]:
        """Play order with frame counts: (kind, unit, frames)."""
        bodies = {s.shot_id: s.body_frames for s in self.shots}
        return [(k, u, bodies[u] if k == "clip" else CROSSFADE_FRAMES) for k, u in self.segments()]

    def segments(self) -> list[tuple[str, str]]:
        """Play order of segments as (kind, unit): ('clip', shot_id) bodies and ('segment', 'a+b') crossfades."""
        order: list[tuple[str, str]] = []
        by_a = {t.a.shot_id: t for t in self.transitions}
        for shot in self.shots:
            order.append(("clip", shot.shot_id))
            if shot.shot_id in by_a:
                order.append(("segment", by_a[shot.shot_id].unit))
        return order


def build_timeline(storyboard: Storyboard, narration_s: dict[str, float], fps: int = FPS, size: tuple[int, int] | None = None) -> Timeline:
    """Lay the shots out in frames. ``narration_s`` maps shot_id → narration length in seconds; ``size`` is the
    frame size in pixels (default: the delivery size of the storyboard's aspect ratio).

    A slot is lead-in + narration + tail (at least ``min_duration_s`` and one crossfade long), rounded up
    to whole frames. Raises ``KeyError`` if a shot has no narration length.
    """
    pairs = storyboard.shots()
    settings = storyboard.settings
    width, height = size or frame_size(settings.aspect_ratio)
    crossfade_after = [
        i < len(pairs) - 1 and shot.transition == "crossfade" for i, (_, shot) in enumerate(pairs)
    ]
    shots: list[ShotTiming] = []
    start = 0
    for i, (_, shot) in enumerate(pairs):
        pre = A_PART if i > 0 and crossfade_after[i - 1] else 0
        post = B_PART if crossfade_after[i] else 0
        lead = LEAD_IN_S + (FADE_FRAMES / fps if i == 0 and settings.fade_in else 0.0)
        tail = TAIL_S + (FADE_FRAMES / fps if i == len(pairs) - 1 and settings.fade_out else 0.0)
        seconds = max(lead + narration_s[shot.shot_id] + tail, shot.min_duration_s or 0.0)
        slot = max(math.ceil(seconds * fps - 1e-9), CROSSFADE_FRAMES + 2)
        shots.append(
            ShotTiming(
                shot_id=shot.shot_id,
                index=i,
                start=start,
                slot=slot,
                pre=pre,
                post=post,
                narration_offset_s=round(lead, 4),
                narration_s=narration_s[shot.shot_id],
                camera=KenBurns.for_move(shot.camera_move),
                fade_in=i == 0 and settings.fade_in,
                fade_out=i == len(pairs) - 1 and settings.fade_out,
            )
        )
        start += slot
    transitions = [TransitionTiming(shots[i], shots[i + 1]) for i in range(len(shots) - 1) if crossfade_after[i]]
    return Timeline(width=width, height=height, fps=fps, shots=shots, transitions=transitions)
