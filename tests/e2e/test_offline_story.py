"""Issue 14: the embedded default tells the story — the prompt's product in the copy and the title card,
and pictures of what the narration names, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import cli_json

pytestmark = pytest.mark.e2e
DESK_LAMP = "A 30-second square promo for a desk lamp, colors #112233 and #FFCC00"  # the README's own example


def test_the_readme_prompt_names_the_lamp_and_shows_it(workspace):
    planned = cli_json("plan", "--prompt", DESK_LAMP, workspace=workspace)
    board = json.loads(Path(planned["storyboard_path"]).read_text())
    narration = [s["narration"] for c in board["chapters"] for s in c["shots"]]
    assert board["settings"]["title"] == "Desk lamp" and board["settings"]["aspect_ratio"] == "1:1"
    assert sum("desk lamp" in n.lower() for n in narration) >= 2 and not any("our product" in n for n in narration)
    assert all(n[0].isupper() for n in narration)
    title_card = board["chapters"][0]["shots"][0]["visual"]
    assert title_card["type"] == "title_card" and title_card["description"] == "Desk lamp"
    cli_json("imagegen", planned["project_id"], workspace=workspace)
    root = Path(planned["storyboard_path"]).parent
    manifest = json.loads((root / "images" / "manifest.json").read_text())
    shown = [e.get("subjects") or [] for e in manifest["images"] if e["visual_type"] == "b_roll"]
    assert shown and all("light bulb" in s for s in shown)
    provenance = json.loads((root / "provenance" / "imagegen_provenance.json").read_text())
    assert provenance["artwork"][0]["license"] == "CC BY-SA 4.0"


@pytest.mark.parametrize(("prompt", "product", "language"), [
    ("Ein 20-sekündiger Werbespot für eine Trinkflasche aus Edelstahl für Pendler, Farben #0F5257 und #E8D8B0.", "Trinkflasche", "de"),
    ("Şehirde çalışanlar için 20 saniyelik bir kahve makinesi reklamı, renkler #7A3E1D ve #F2E3D5.", "kahve makinesi", "tr"),
])
def test_german_and_turkish_prompts_name_their_product(workspace, prompt, product, language):
    planned = cli_json("plan", "--prompt", prompt, workspace=workspace)
    board = json.loads(Path(planned["storyboard_path"]).read_text())
    narration = " ".join(s["narration"] for c in board["chapters"] for s in c["shots"])
    assert board["settings"]["language"] == language and board["settings"]["title"].lower() == product.lower()
    assert narration.lower().count(product.lower()) >= 2
