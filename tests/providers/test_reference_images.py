"""Reference images (issue 13 item 5) on the wire: Gemini gets them as inline parts after the text, a
Replicate model that takes input images gets data URIs in its documented input field, a model that does
not gets none; payloads (dry runs, request keys) name them by hash, never carry their bytes; and the image
stage sends them only for the shots that show the entity."""

from __future__ import annotations

import base64
import io
import json

from PIL import Image
from werkzeug import Request, Response

from storyreel.providers.base import ReferenceImage, request_key
from storyreel.providers.image.gemini_images import GeminiImages
from storyreel.providers.image.replicate_images import ReplicateImages
from storyreel.providers.llm.fake import FakeLlm
from storyreel.stages.pipeline import IMAGE_STAGES

from ..stages.conftest import project  # noqa: F401 - the in-process project fixture
from .test_gemini_replicate import GPATH, _prediction, png, settings  # noqa: F401 - fixtures and wire helpers
from .test_openai_images import request


def _reference(tmp_path, colour=(200, 30, 30), name="hare.png") -> ReferenceImage:  # noqa: ANN001
    path = tmp_path / name
    Image.new("RGB", (1600, 1200), colour).save(path)
    from storyreel.core.hashing import hash_file

    return ReferenceImage(label="Hare (character)", sha256=hash_file(path), path=str(path))


def _gemini_ok(seen: list):  # noqa: ANN202
    def handler(req: Request) -> Response:
        seen.append(json.loads(req.data))
        body = {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png()).decode()}}]},
                                "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1290}}
        return Response(json.dumps(body), content_type="application/json")
    return handler


def test_gemini_sends_references_as_inline_parts_and_the_payload_names_them(httpserver, settings, tmp_path):  # noqa: F811
    seen: list = []
    httpserver.expect_request(GPATH, method="POST").respond_with_handler(_gemini_ok(seen))
    gemini = GeminiImages("gemini-2.5-flash-image", settings)
    ref = _reference(tmp_path)
    req = request().model_copy(update={"references": [ref]})
    payload = gemini.payload(req)
    assert payload["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/jpeg", "data": f"<reference image {ref.sha256}>"}}
    assert str(tmp_path) not in json.dumps(payload)  # a path never enters a payload or a key
    gemini.generate(req, tmp_path / "g.png")
    (body,) = seen
    parts = body["contents"][0]["parts"]
    assert parts[0] == {"text": req.prompt} and len(parts) == 2
    with Image.open(io.BytesIO(base64.b64decode(parts[1]["inlineData"]["data"]))) as im:
        assert im.format == "JPEG" and max(im.size) == 1024 and im.getpixel((5, 5))[0] > 180
    # another reference image is another request (its hash is in the key)
    other = req.model_copy(update={"references": [_reference(tmp_path, (30, 30, 200), "other.png")]})
    assert request_key(gemini.provider_id, gemini.payload(other)) != request_key(gemini.provider_id, payload)


def test_replicate_models_that_take_input_images_get_data_uris_the_others_none(httpserver, settings, tmp_path):  # noqa: F811
    created: list = []

    def create(req: Request) -> Response:
        created.append(json.loads(req.data))
        return Response(json.dumps(_prediction("p9", "succeeded", output=[httpserver.url_for("/files/o.png")])), status=201,
                        content_type="application/json")

    httpserver.expect_request("/v1/models/google/nano-banana/predictions", method="POST").respond_with_handler(create)
    httpserver.expect_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_handler(create)
    httpserver.expect_request("/files/o.png").respond_with_data(png(), content_type="image/png")
    ref = _reference(tmp_path)
    req = request().model_copy(update={"references": [ref]})
    nano = ReplicateImages("google/nano-banana", settings)
    assert nano.accepts_reference_images and nano.payload(req)["input"]["image_input"] == [f"<reference image {ref.sha256}>"]
    nano.generate(req, tmp_path / "n.png")
    sent = created[0]["input"]["image_input"]
    assert len(sent) == 1 and sent[0].startswith("data:image/jpeg;base64,")
    schnell = ReplicateImages("black-forest-labs/flux-schnell", settings)
    assert not schnell.accepts_reference_images and "image_input" not in schnell.payload(req)["input"]
    schnell.generate(req, tmp_path / "s.png")
    assert set(created[1]["input"]) == {"prompt", "aspect_ratio", "seed", "output_format"}


def test_the_image_stage_sends_an_entitys_reference_only_with_the_shots_that_show_it(project, httpserver, settings, tmp_path):  # noqa: F811
    seen: list = []
    httpserver.expect_request(GPATH, method="POST").respond_with_handler(_gemini_ok(seen))
    ref = tmp_path / "ref.png"
    Image.new("RGB", (800, 800), (220, 120, 40)).save(ref)
    paths_root = project.settings.workspace / "projects" / project.board.project_id
    (paths_root / "assets" / "references").mkdir(parents=True)
    (paths_root / "assets" / "references" / "hare.png").write_bytes(ref.read_bytes())
    data = project.board.model_dump(mode="json")
    data["entities"] = [{"entity_id": "hare", "kind": "character", "name": "Hare", "reference": "hare.png"}]
    data["chapters"][1]["shots"][0]["visual"]["entities"] = ["hare"]  # ch02-s01
    project.board = type(project.board).model_validate(data)
    project.settings = settings.model_copy(update={"workspace": project.settings.workspace, "image_provider": "gemini:gemini-2.5-flash-image",
                                                   "image_concurrency": 1, "max_cost_usd": 1.0})
    ctx = project.ctx(llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    with_refs = [b for b in seen if len(b["contents"][0]["parts"]) == 2]
    assert len(seen) == 3 and len(with_refs) == 1
    meta = json.loads(ctx.paths.candidate_meta("ch02-s01", 1).read_text())
    assert meta["status"] == "generated"


def test_openai_sends_references_as_an_edit_with_image_parts(httpserver, tmp_path):
    from storyreel.core.settings import Settings
    from storyreel.providers.image.openai_images import OpenAIImages

    seen: list = []

    def edits(req: Request) -> Response:
        seen.append((dict(req.form), [(f.filename, f.mimetype, f.read()) for f in req.files.getlist("image[]")], dict(req.headers)))
        return Response(json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(png(1536, 864)).decode()}],
                                    "usage": {"input_tokens": 500, "output_tokens": 1056}}), content_type="application/json")

    httpserver.expect_request("/v1/images/edits", method="POST").respond_with_handler(edits)
    s = Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-edit"}, allow_network=False, http_backoff_s=0.01)
    openai = OpenAIImages("gpt-image-2", s)
    refs = [_reference(tmp_path), _reference(tmp_path, (20, 200, 40), "tortoise.png")]
    req = request().model_copy(update={"references": refs})
    assert openai.payload(req)["image[]"] == [f"<reference image {r.sha256}>" for r in refs]
    assert "image[]" not in openai.payload(request())  # without references: the generations body, unchanged
    result = openai.fetch(req, key="k1")
    (form, files, headers), = seen
    assert form == {"model": "gpt-image-2", "prompt": req.prompt, "size": "1536x864", "quality": openai.quality, "n": "1", "output_format": "png"}
    assert [(name, mime) for name, mime, _ in files] == [("reference-1.jpg", "image/jpeg"), ("reference-2.jpg", "image/jpeg")]
    assert all(Image.open(io.BytesIO(data)).format == "JPEG" for _, _, data in files)
    assert headers["Authorization"] == "Bearer sk-edit" and headers["Idempotency-Key"].endswith("k1")
    assert result.cost_usd > 0
