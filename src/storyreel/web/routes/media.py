"""A project's media for the browser and API clients: the video (range requests; a download names it
``storyreel_<project>.mp4``), its WebVTT subtitles, the thumbnail, each shot's image and candidates, and the
QC report."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from storyreel.api import library
from storyreel.web import files
from storyreel.web.deps import ApiProject

api_router = APIRouter(prefix="/api/projects/{project_id}", tags=["media"])


@api_router.get("/video", response_class=Response)
def video(request: Request, project: ApiProject, download: bool = False) -> Response:
    """``video.mp4`` with HTTP range requests (206); ``download=1`` names it ``storyreel_<project>.mp4``."""
    return files.serve(project, request=request, path=project.paths.video, download_name=f"storyreel_{project.id}.mp4" if download else None)


@api_router.get("/subtitles.vtt", response_class=Response)
def subtitles(request: Request, project: ApiProject) -> Response:
    """The WebVTT subtitle track of the video."""
    return files.serve(project, request=request, path=project.paths.root / "video.vtt")


@api_router.get("/thumbnail", response_class=Response)
def thumbnail(request: Request, project: ApiProject) -> Response:
    """The video's thumbnail, else the first shot's image."""
    paths = project.paths
    thumb = paths.root / "thumbnail.jpg"
    if not thumb.exists() and project.stored(thumb) is None:
        first = next(iter(sorted(paths.images.glob("*.png"))), None) if paths.images.is_dir() else None
        if first is None:
            raise HTTPException(404, "no thumbnail yet")
        thumb = first
    return files.serve(project, request=request, path=thumb)


@api_router.get("/images/{shot_id}", response_class=Response)
def image(request: Request, shot_id: str, project: ApiProject) -> Response:
    """A shot's image (PNG)."""
    return files.serve(project, request=request, path=project.paths.image(files.checked_shot(shot_id)))


@api_router.get("/images/{shot_id}/candidates/{index}", response_class=Response)
def candidate_image(request: Request, shot_id: str, index: int, project: ApiProject) -> Response:
    """Candidate ``index`` (1–8) of a shot (PNG)."""
    if not 1 <= index <= 8:
        raise HTTPException(404, "no such candidate")
    return files.serve(project, request=request, path=project.paths.candidate(files.checked_shot(shot_id), index))


@api_router.get("/clips/{shot_id}/attempts/{number}", response_class=Response)
def clip_attempt(request: Request, shot_id: str, number: int, project: ApiProject) -> Response:
    """Attempt ``number`` (1–4) of a shot's vendor clip, as the vendor made it (MP4; range requests for the player)."""
    if not 1 <= number <= 4:
        raise HTTPException(404, "no such attempt")
    return files.serve(project, request=request, path=project.paths.motion_attempt(files.checked_shot(shot_id), number))


@api_router.get("/clips/{shot_id}/end", response_class=Response)
def end_frame(request: Request, shot_id: str, project: ApiProject) -> Response:
    """The end frame sent with a shot's clip (PNG)."""
    return files.serve(project, request=request, path=project.paths.end_frame(files.checked_shot(shot_id)))


@api_router.get("/story/components/{entity_id}", response_class=Response)
def component_sheet(request: Request, entity_id: str, project: ApiProject) -> Response:
    """A story component's reference image (its sheet, PNG)."""
    path = library.component_image(project, files.checked_shot(entity_id))
    if path is None:
        raise HTTPException(404, "no such component")
    return files.serve(project, request=request, path=path)


@api_router.get("/story/stages/{scene}", response_class=Response)
def stage_picture(request: Request, scene: str, project: ApiProject) -> Response:
    """A story scene's stage-setting picture (PNG)."""
    return files.serve(project, request=request, path=project.paths.images / "stage" / f"{files.checked_shot(scene)}.png")


@api_router.get("/qc")
def qc(project: ApiProject) -> dict:
    """The QC report (``qc.json``)."""
    report = library.qc_report(project)
    if report is None:
        raise HTTPException(404, "no QC report yet")
    return report
