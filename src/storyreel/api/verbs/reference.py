"""``reference``: declare an entity (a character, product or place that must look the same in every shot)
with a reference image supplied by the user, and the shots that show it. The image is checked, converted to
PNG and kept in the project (``assets/references/<entity>.png``); the storyboard records the entity and the
shots. The select stage then scores each candidate's consistency with it, the VLM judge sees it, and the
entity's shots share their candidates' seeds."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.requests import ReferenceRequest
from storyreel.api.runner import Verb
from storyreel.api.session import Project
from storyreel.core.artifact import Storyboard
from storyreel.core.atomic import atomic_path, atomic_write_text
from storyreel.core.errors import InputError
from storyreel.engine.executor import Executor

MAX_BYTES = 20_000_000
MAX_SIDE = 2048


class Reference(Verb[ReferenceRequest, Storyboard]):
    """``storyreel reference PROJECT ENTITY IMAGE``: add or update the entity and its reference image.
    Raises :class:`InputError` (exit 2) naming ``image`` (not an image, too large), ``shots`` (an unknown
    shot) or the entity; nothing is written then."""

    name = "reference"

    def check(self, project: Project, request: ReferenceRequest) -> None:
        board = project.storyboard()
        unknown = [s for s in request.shots if not any(sh.shot_id == s for _, sh in board.shots())]
        if unknown:
            raise InputError(f"no shot {unknown[0]!r} in {board.project_id}", field="shots", hint="see `storyreel quality PROJECT`")
        self.image = _checked_image(request.image)

    def prepare(self, project: Project, request: ReferenceRequest, executor: Executor) -> Storyboard:
        data = project.storyboard().model_dump(mode="json")
        entity = next((e for e in data.get("entities", []) if e["entity_id"] == request.entity_id), None)
        if entity is None:
            entity = {"entity_id": request.entity_id, "kind": request.kind, "name": request.name or request.entity_id}
            data.setdefault("entities", []).append(entity)
        entity.update({k: v for k, v in {"kind": request.kind, "name": request.name, "description": request.description}.items() if v})
        entity["reference"] = f"{request.entity_id}.png"
        for ch in data["chapters"]:
            for shot in ch["shots"]:
                if shot["shot_id"] in request.shots and request.entity_id not in shot["visual"].get("entities", []):
                    shot["visual"].setdefault("entities", []).append(request.entity_id)
        edited = Storyboard.model_validate(data)
        paths = project.paths
        paths.references.mkdir(parents=True, exist_ok=True)
        with atomic_path(paths.references / entity["reference"]) as tmp:
            self.image.save(tmp, format="PNG")
        atomic_write_text(paths.storyboard, edited.model_dump_json(indent=2) + "\n")
        return edited


def _checked_image(path: Path):  # noqa: ANN202
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise InputError(f"{path}: no such file", field="image")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{path} is over {MAX_BYTES:,} bytes", field="image", hint="use a smaller image")
    try:
        with Image.open(path) as im:
            if im.format not in ("PNG", "JPEG", "WEBP"):
                raise InputError(f"{path} is {im.format}, not PNG, JPEG or WebP", field="image")
            im.load()
            rgb = im.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path} is not an image ({exc})", field="image", hint="give a PNG, JPEG or WebP file") from None
    rgb.thumbnail((MAX_SIDE, MAX_SIDE))
    return rgb
