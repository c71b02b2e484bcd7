"""Story mode end to end, offline (issue 27): ``storyreel make --kind story --prompt …`` runs the story's steps as
engine nodes (lore → narrative → scenes → components → stage shot and shots per scene → the storyboard), then the
media stages, and gives a video that passes QC for three prompts of different genres; the components become the
storyboard's entities and the shots name them; a second make runs nothing; ``storyreel pick PROJECT narrative 2``
re-runs what depends on the narrative and never the lore, picking it again runs nothing, an option not made is
refused; ``status`` lists every step."""

from __future__ import annotations

import json

import pytest

from ..conftest import cli_json, run_cli

pytestmark = pytest.mark.e2e

PROMPTS = {
    "fable": "A fox and a crow argue over a piece of cheese in the forest",
    "science fiction": "Captain Ada Reyes must land a crippled starship on an ice moon",
    "mystery": "A lighthouse keeper finds a message in a bottle during a storm",
}
STEPS = ("lore", "narrative", "scenes", "components", "stage_shot", "shots", "plan")


@pytest.mark.parametrize("genre", sorted(PROMPTS))
def test_a_story_from_a_prompt_makes_a_video_that_passes_qc(genre, tmp_path) -> None:
    ws = tmp_path / "ws"
    made = cli_json("make", "--kind", "story", "--prompt", PROMPTS[genre], "--resolution", "360p", workspace=ws)
    assert made["status"] == "done"
    ran = {n.split("[")[0] for n in made["executed_nodes"]}
    assert set(STEPS) <= ran and {"reference", "image", "narration", "render", "qc"} <= ran
    root = ws / "projects" / made["project_id"]
    board = json.loads((root / "storyboard.json").read_text())
    assert board["plan"]["structure"] == "story" and board["source"]["kind"] == "story"
    scenes = json.loads((root / "story" / "scenes.json").read_text())["scenes"]
    assert [c["chapter_id"] for c in board["chapters"]] == ["title"] + [f"scene-{i}" for i in range(1, len(scenes) + 1)]
    entities = {e["entity_id"]: e for e in board["entities"]}
    kinds = {e["kind"] for e in entities.values()}
    assert {"character", "product", "place"} <= kinds
    story_shots = [s for ch in board["chapters"][1:] for s in ch["shots"]]
    assert all(s["visual"]["entities"] and set(s["visual"]["entities"]) <= set(entities) for s in story_shots)
    assert json.loads((root / "qc.json").read_text())["passed"]
    for eid, entity in entities.items():  # each component drawn once, on its sheet, then in every shot that names it
        assert json.loads((root / "assets" / "references" / f"{eid}.generated.json").read_text())["metadata"]["subject"]
    for shot in story_shots:
        meta = json.loads((root / "images" / shot["shot_id"] / "1.meta.json").read_text())
        named = [f"{entities[e]['name']} ({entities[e]['kind']})" for e in shot["visual"]["entities"]]
        assert meta["metadata"]["references"] == named, shot["shot_id"]
    spec = json.loads((root / "story" / "story.json").read_text())
    assert len(spec["lore_options"]) == 3 and spec["picks"] == {"lore": 1, "narrative": 1, "scenes": 1}
    assert all(s["stage_setting_shot"]["description"] and s["shots"] for s in spec["scenes"])
    again = cli_json("make", "--kind", "story", "--prompt", PROMPTS[genre], "--resolution", "360p", workspace=ws)
    assert again["executed_nodes"] == []


def test_a_pick_reruns_what_depends_on_it_and_never_the_lore(tmp_path) -> None:
    ws = tmp_path / "ws"
    made = cli_json("make", "--kind", "story", "--prompt", PROMPTS["mystery"], "--resolution", "360p", workspace=ws)
    pid, root = made["project_id"], ws / "projects" / made["project_id"]
    before = json.loads((root / "storyboard.json").read_text())
    picked = cli_json("pick", pid, "narrative", "2", workspace=ws)
    ran = {n.split("[")[0] for n in picked["executed_nodes"]}
    assert picked["status"] == "done" and "lore" not in ran and {"scenes", "components", "shots", "plan", "render"} <= ran
    after = json.loads((root / "storyboard.json").read_text())
    narration = [s["narration"] for ch in after["chapters"] for s in ch["shots"]]
    assert narration != [s["narration"] for ch in before["chapters"] for s in ch["shots"]]
    assert any("rival" in n for n in narration)  # the second plot: a rival wants the bottle too
    assert json.loads((root / "story" / "picks.json").read_text())["narrative"] == 2
    assert cli_json("pick", pid, "narrative", "2", workspace=ws)["executed_nodes"] == []  # already in use: nothing runs
    states = {row["node"]: row["state"] for row in cli_json("status", pid, workspace=ws)["nodes"]}
    assert all(states[n] == "FRESH" for n in states) and {"lore[story]", "shots[scene-1]", "plan[project]"} <= set(states)
    wrong = run_cli("pick", pid, "lore", "7", workspace=ws)
    assert wrong.returncode == 2 and "lore has no option 7; its options: 1, 2, 3" in wrong.stderr
    plain = run_cli("pick", pid, "scenes", "2", workspace=ws)  # one scene list without the setting: the fix is named
    assert plain.returncode == 2 and "STORYREEL_STORY_SCENE_OPTIONS=1" in plain.stderr
    other = cli_json("make", "--prompt", "A two-minute explainer on how tides work", "--resolution", "360p", workspace=ws)
    refused = run_cli("pick", other["project_id"], "lore", "2", workspace=ws)
    assert refused.returncode == 2 and "is not a story" in refused.stderr


def test_references_reach_a_vendor_that_takes_input_images(httpserver, tmp_path) -> None:
    """With Gemini images (inline parts): each scene's stage picture is asked with the scene's component sheets, and each
    shot with its components and its scene's stage picture; the seed's file names are kept under images/."""
    import base64
    import io

    from PIL import Image
    from werkzeug import Request, Response

    from tests.providers.test_gemini_replicate import GKEY, GPATH

    seen: list[dict] = []

    def gemini(req: Request) -> Response:
        body = json.loads(req.data)
        seen.append(body)
        buf = io.BytesIO()
        Image.new("RGB", (640, 360), (40 + 10 * (len(seen) % 10), 120, 90)).save(buf, "PNG")
        return Response(json.dumps({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data":
                        base64.b64encode(buf.getvalue()).decode()}}]}, "finishReason": "STOP"}],
                        "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1290}}), content_type="application/json")

    httpserver.expect_request(GPATH, method="POST").respond_with_handler(gemini)
    env = {"STORYREEL_GEMINI_BASE_URL": httpserver.url_for("/v1beta"), "GEMINI_API_KEY": GKEY, "STORYREEL_HTTP_BACKOFF_S": "0.01"}
    ws = tmp_path / "ws"
    made = cli_json("make", "--kind", "story", "--prompt", PROMPTS["fable"], "--image-provider", "gemini:gemini-2.5-flash-image",
                    "--resolution", "360p", "--max-cost", "20", workspace=ws, env=env)
    root = ws / "projects" / made["project_id"]
    board = json.loads((root / "storyboard.json").read_text())
    texts = [next(p["text"] for p in b["contents"][0]["parts"] if "text" in p) for b in seen]
    images_sent = [sum("inlineData" in p for p in b["contents"][0]["parts"]) for b in seen]
    stage_prompts = {json.loads((root / "images" / "stage" / f"{ch['chapter_id']}.json").read_text())["prompt"]: ch
                     for ch in board["chapters"][1:]}
    stage_calls = {t: n for t, n in zip(texts, images_sent, strict=True) if t in stage_prompts}
    assert len(stage_calls) == len(stage_prompts)
    for text, ch in stage_prompts.items():  # each stage picture: the scene's component sheets
        assert stage_calls[text] == len({e for s in ch["shots"] for e in s["visual"]["entities"]})
    stage = json.loads((root / "images" / "stage" / "scene-1.json").read_text())
    assert stage["references_sent"] and (root / stage["file"]).is_file() and stage["file"].startswith("images/stage_scene-1_")
    shot = board["chapters"][1]["shots"][1]
    meta = json.loads((root / "images" / shot["shot_id"] / "1.meta.json").read_text())
    shot_text = meta["prompt"]
    sent = next(n for t, n in zip(texts, images_sent, strict=True) if t == shot_text)
    assert sent == len(shot["visual"]["entities"]) + 1  # its components and the stage picture
    assert meta["references_sent"][-1] == "the scene's stage-setting picture"  # provenance names what was sent
    names = sorted(p.name.split("_")[0] for p in (root / "images").glob("*_*_*.png"))
    assert {"component", "shot", "stage"} <= set(names)


def test_scene_options_as_a_setting(tmp_path) -> None:
    """``STORYREEL_STORY_SCENE_OPTIONS=1``: the scenes step answers three scene lists; option 1 until a person picks;
    ``pick … scenes 2`` re-makes what depends on the scenes (a fourth scene here), never the lore or the plot."""
    ws, env = tmp_path / "ws", {"STORYREEL_STORY_SCENE_OPTIONS": "1"}
    made = cli_json("make", "--kind", "story", "--prompt", PROMPTS["fable"], "--resolution", "360p", workspace=ws, env=env)
    root = ws / "projects" / made["project_id"]
    assert len(json.loads((root / "story" / "scenes.json").read_text())["options"]) == 3
    assert len(json.loads((root / "storyboard.json").read_text())["chapters"]) == 1 + 3
    picked = cli_json("pick", made["project_id"], "scenes", "2", workspace=ws, env=env)
    ran = {n.split("[")[0] for n in picked["executed_nodes"]}
    assert not ran & {"lore", "narrative", "scenes"} and {"components", "stage_shot", "shots", "plan"} <= ran
    board = json.loads((root / "storyboard.json").read_text())
    assert [c["title"] for c in board["chapters"][1:]] == ["The find", "The trouble", "The journey", "Home"]
