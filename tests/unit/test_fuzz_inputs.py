"""Fuzzing the input readers and the chapter-JSON importer through the CLI entry point (in-process):
whatever the file holds, ``storyreel plan`` exits 0 or 2 — never a traceback — and writes nothing
outside the workspace."""

from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from storyreel.cli import app

runner = CliRunner()
NASTY = "\x00\x07\x1b\r\t\u202e\u2066\ufeff/\\.'\"$`\n#:"
words = st.text(alphabet=st.sampled_from(string.ascii_letters + "çğışöüÄß" + NASTY + " .,;!?-"), max_size=80)
good_id = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True)
bad_id = st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{60,70}", fullmatch=True), good_id.map(lambda i: i + "\n"),
                   words, st.integers(), st.just("../../etc"), st.just(""))
sentence = st.from_regex(r"[A-Z][a-zçğışöü ]{2,60}[.!?]", fullmatch=True)
narration = st.one_of(st.lists(sentence, min_size=1, max_size=8).map(" ".join), st.lists(sentence, min_size=1, max_size=8).map(" ".join),
                      st.text(max_size=400), st.text(min_size=5001, max_size=6000))


def mostly(good, bad):  # noqa: ANN001, ANN201
    """Valid values seven times in eight, so most documents get past the schema check and reach the
    importer, the planner and the storyboard (``one_of(good, good, …)`` would collapse to one branch)."""
    return st.integers(0, 7).flatmap(lambda i: bad if i == 7 else good)


visual = st.fixed_dictionaries(
    {"type": mostly(st.sampled_from(["b_roll", "diagram", "title_card", "screen_share", "talking_head"]), st.sampled_from(["video", 3, None])),
     "description": mostly(sentence, words)},
    optional={"image_prompt": st.one_of(words, st.none())},
)
chapter = st.fixed_dictionaries(
    {"chapter_id": mostly(good_id, bad_id), "title": mostly(sentence, words), "narration": st.fixed_dictionaries({"text": narration}),
     "visuals": mostly(st.lists(visual, min_size=1, max_size=3), st.lists(visual, max_size=60))},
    optional={"order": mostly(st.integers(-5, 5), st.text(max_size=3)),
              "overlays": mostly(st.lists(st.fixed_dictionaries({"type": st.sampled_from(["caption", "lower_third"]), "text": sentence}), max_size=2),
                                 st.lists(st.fixed_dictionaries({"type": words, "text": words}), max_size=5)),
              "transitions": st.fixed_dictionaries({"in": mostly(st.sampled_from(["fade", "cut"]), st.just("wipe")), "out": st.sampled_from(["fade", "cut"])})},
)
document = st.fixed_dictionaries(
    {"schema_version": mostly(st.just("1.0"), st.sampled_from(["1", "2.0", ""])), "chapters": mostly(st.lists(chapter, min_size=1, max_size=4), st.lists(chapter, max_size=1))},
    optional={"episode_id": mostly(good_id, bad_id), "title": st.one_of(words, st.none(), sentence),
              "language": mostly(st.sampled_from(["en", "tr", "de"]), st.sampled_from(["xx-YY", "EN", "", "en\n"]))},
)


def plan(tmp_path: Path, name: str, data: bytes) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    path = inputs / name
    path.write_bytes(data)
    workspace = tmp_path / "ws"
    before = {p for p in tmp_path.rglob("*") if workspace not in p.parents}
    result = runner.invoke(app, ["plan", str(path), "--workspace", str(workspace), "--json"])
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    after = {p for p in tmp_path.rglob("*") if workspace not in p.parents and p != workspace}
    assert after == before, sorted(map(str, after - before))
    if result.exit_code == 0:
        out = json.loads(result.stdout.strip().splitlines()[-1])
        assert workspace.resolve() in Path(out["storyboard_path"]).resolve().parents


fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _doc(**chapter) -> dict:
    base = {"chapter_id": "c1", "title": "T", "narration": {"text": "One. Two."}, "visuals": [{"type": "b_roll", "description": "d"}]}
    return {"schema_version": "1.0", "chapters": [{**base, **chapter}]}


@fuzz
@given(doc=document)
@example(doc={**_doc(), "episode_id": "ep-1\n"})  # the reproducers of issue 10 are always tried
@example(doc=_doc(chapter_id="a" * 61, visuals=[{"type": "b_roll", "description": "x"}, {"type": "diagram", "description": "y"}]))
@example(doc=_doc(narration={"text": "x" * 6000}))
@example(doc={**_doc(title="\u202e" + "t" * 300), "title": "w" * 199 + "\x1b"})
def test_chapter_json_documents(tmp_path_factory, doc):
    plan(tmp_path_factory.mktemp("c"), "chapters.json", json.dumps(doc).encode())


@fuzz
@given(text=st.text(max_size=1500))
@example(text="w" * 501)
@example(text="A title\n\n" + "y" * 6000)
@example(text="# \x1b[31m\n\nBody.")
def test_scripts_and_prompts(tmp_path_factory, text):
    plan(tmp_path_factory.mktemp("s"), "script.txt", text.encode("utf-8", "surrogatepass"))


@fuzz
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes(tmp_path_factory, data):
    plan(tmp_path_factory.mktemp("b"), "input.md", data)
