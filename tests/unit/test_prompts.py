"""Prompt templates: front matter, sections, rendering, hashes and the workspace override."""

from __future__ import annotations

import pytest

from storyreel.core.errors import InputError
from storyreel.prompts.registry import BUILTIN, load_template
from storyreel.store.assets import AssetStore
from storyreel.store.db import session_factory, sqlite_url

VALUES = {"project_title": "Bitcoin", "chapter_title": "Blok Zinciri", "visual_type": "diagram",
          "type_phrase": "A clean explanatory diagram", "description": "Birbirine zincirle bağlı bloklar",
          "narration": "İşlemler bloklar hâlinde toplanır.", "style_prefix": "Clean, modern", "palette": ["#14213D", "#FCA311"],
          "aspect_ratio": "16:9"}


def test_builtin_imagegen_template_has_the_seed_fields_and_sections():
    t = load_template("imagegen")
    assert set(t.meta) >= {"name", "model", "temperature", "max_tokens", "description"}
    assert {"System", "Input", "Direct"} <= set(t.sections)
    system = t.render("System", **VALUES)
    assert "Never ask for text" in system and "#FCA311" in system
    user = t.render("Input", **VALUES)
    assert "Chapter title: Blok Zinciri" in user and "Visual type: diagram" in user and "Narration context: İşlemler" in user
    direct = t.render("Direct", **VALUES)
    assert direct.startswith("Clean, modern. A clean explanatory diagram: Birbirine") and "No text" in direct
    assert t.content_hash.startswith("sha256:")


def test_workspace_copy_overrides_and_changes_the_hash(tmp_path):
    builtin = load_template("imagegen", tmp_path)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "imagegen.md").write_text((BUILTIN / "imagegen.md").read_text() + "\nExtra line.\n")
    user = load_template("imagegen", tmp_path)
    assert user.path.parent == tmp_path / "prompts"
    assert user.content_hash != builtin.content_hash


@pytest.mark.parametrize(("text", "message"), [
    ("---\nname: x\n---\n# Direct\nhi\n", "lacks model"),
    ("---\nname: [unclosed\n---\nbody", "front matter"),
])
def test_bad_templates_are_clear_input_errors(tmp_path, text, message):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "imagegen.md").write_text(text)
    with pytest.raises(InputError, match=message):
        load_template("imagegen", tmp_path)


def test_unknown_variable_names_the_template(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "imagegen.md").write_text(
        "---\nname: imagegen\nmodel: m\ntemperature: 0\nmax_tokens: 10\ndescription: d\n---\n# Direct\n{{ nope }}\n")
    with pytest.raises(InputError, match="imagegen.md"):
        load_template("imagegen", tmp_path).render("Direct", **VALUES)


def test_template_names_cannot_escape_the_folder():
    with pytest.raises(InputError):
        load_template("../../etc/passwd")


def test_prompt_versions_are_numbered_per_distinct_content(tmp_path):
    store = AssetStore(session_factory(sqlite_url(tmp_path)))
    a = store.prompt_version("imagegen", "sha256:a", "A")
    assert store.prompt_version("imagegen", "sha256:a", "A").id == a.id
    b = store.prompt_version("imagegen", "sha256:b", "B")
    assert (a.version, b.version) == (1, 2)
    assert store.prompt_version("other", "sha256:a", "A").version == 1
