import pytest

from storyreel.core.errors import InputError
from storyreel.core.source import read_source

from ..conftest import INPUTS


@pytest.mark.parametrize(
    ("name", "kind"),
    [("hare-and-tortoise.txt", "script"), ("gettysburg-address.txt", "script"), ("ad-brief.txt", "prompt"), ("chapters-bitcoin-tr.json", "chapters")],
)
def test_kind_is_detected_from_the_real_inputs(name, kind):
    assert read_source(INPUTS / name).kind == kind


def test_kind_override_wins():
    assert read_source(INPUTS / "ad-brief.txt", kind="script").kind == "script"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "binary"),
        (b"caf\xe9 au lait is a prompt", "UTF-8"),
        (b'{"schema_version": "1.0", "chapters": [{"chapter_id": "ch01",', "truncated"),
        (b"too short", "9 characters"),
    ],
)
def test_bad_inputs_are_rejected_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "input.txt"
    if b"schema_version" in content:
        path = tmp_path / "input.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_source(path)
    assert info.value.exit_code == 2


def test_prompt_limits_come_from_seed_004():
    with pytest.raises(InputError, match="10–500"):
        read_source(prompt="x" * 501)
    assert read_source(prompt="A short brief for a bottle ad.").kind == "prompt"
