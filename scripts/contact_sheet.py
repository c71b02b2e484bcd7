"""Contact sheet of a made project: every shot's first and last frame of its move, and one mid-narration.

    python scripts/contact_sheet.py PROJECT_DIR [--out sheet.png] [--thumb 480]

``PROJECT_DIR`` is a project folder (``storyboard.json``, ``audio/<shot>.json``, ``video.mp4``). The frames are
the first and the last of each shot's body (the part not blended into a crossfade; a fade-in or fade-out of
the video is skipped, its frames are dark by design), decoded from ``video.mp4`` — so the sheet shows what a
viewer sees at the two ends of the Ken Burns move, where text cut by the frame edge or covered by a caption
shows first (issue 12) — and one frame in the middle of the narration, where the burned-in subtitles show
(the two ends fall in the silence around a line). Each row is one shot: start, mid-narration, end, with the
shot ID and frame numbers under them. Prints the sheet's path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from PIL import Image, ImageDraw  # noqa: E402

from storyreel.core.artifact import load_storyboard  # noqa: E402
from storyreel.media.timeline import FADE_FRAMES, build_timeline  # noqa: E402
from storyreel.store.files import ProjectPaths  # noqa: E402


def _paths(project: Path) -> ProjectPaths:
    """The project folder's layout (``<workspace>/projects/<id>``)."""
    project = project.resolve()
    return ProjectPaths(project.parent.parent, project.name)


def move_ends(project: Path) -> list[tuple[str, int, int, int]]:
    """(shot ID, first frame, mid-narration frame, last frame) of every shot's body on the video timeline,
    in play order."""
    paths = _paths(project)
    board = load_storyboard(paths.storyboard)
    durations = {s.shot_id: json.loads(paths.narration_timing(s.shot_id).read_text(encoding="utf-8"))["duration_s"] for _, s in board.shots()}
    tl = build_timeline(board, durations)
    ends = []
    for s in tl.shots:
        first, last = s.start + s.body_start, s.start + s.body_end - 1
        if s.fade_in:
            first += FADE_FRAMES
        if s.fade_out:
            last -= FADE_FRAMES
        mid = s.start + round((s.narration_offset_s + s.narration_s / 2) * tl.fps)
        ends.append((s.shot_id, first, min(max(first, mid), last), max(first, last)))
    return ends


def frames_at(video: Path, wanted: set[int]) -> dict[int, Image.Image]:
    """The decoded frames of ``video`` with the given indices (0 = first frame)."""
    import av

    found: dict[int, Image.Image] = {}
    with av.open(str(video)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k in wanted:
                found[k] = frame.to_image()
            if k >= max(wanted):
                break
    return found


def sheet(project: Path, thumb: int = 480) -> Image.Image:
    ends = move_ends(project)
    frames = frames_at(_paths(project).video, {k for _, *ks in ends for k in ks})
    first = next(iter(frames.values()))
    w = thumb
    h = round(thumb * first.height / first.width)
    label = 22
    out = Image.new("RGB", (3 * w + 24, len(ends) * (h + label + 6)), "white")
    draw = ImageDraw.Draw(out)
    names = ("start of move", "mid-narration", "end of move")
    for row, (shot, *ks) in enumerate(ends):
        y = row * (h + label + 6)
        for col, k in enumerate(ks):
            im = frames[k].copy()
            im.thumbnail((w, h))
            out.paste(im, (col * (w + 12), y))
            draw.text((col * (w + 12) + 4, y + h + 3), f"{shot}  frame {k}  ({names[col]})", fill="black")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("project", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--thumb", type=int, default=480, help="width of each frame on the sheet (px)")
    args = ap.parse_args()
    out = args.out or _paths(args.project).root / "contact-sheet.png"
    sheet(args.project, args.thumb).save(out)
    print(out)


if __name__ == "__main__":
    main()
