"""Bad input exits 2 with a message naming the problem, and writes nothing."""

import pytest

from ..conftest import run_cli

CASES = {
    "empty.txt": (b"", "empty"),
    "binary.txt": (bytes(range(256)), "binary"),
    "truncated.json": (b'{"schema_version": "1.0", "chapters": [{"chapter_id": "ch01", "title": "Gi', "truncated"),
    "short.txt": (b"Too short", "10–500"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_file_exits_2_and_writes_nothing(tmp_path, workspace, name):
    content, message = CASES[name]
    path = tmp_path / name
    path.write_bytes(content)
    proc = run_cli("make", str(path), workspace=workspace)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert not (workspace / "projects").exists()


def test_too_long_prompt_exits_2(workspace):
    proc = run_cli("make", "--prompt", "An ad. " * 80, workspace=workspace)
    assert proc.returncode == 2
    assert "559 characters" in proc.stderr and "10–500" in proc.stderr
    assert not (workspace / "projects").exists()


def test_bad_chapter_field_is_named(tmp_path, workspace):
    path = tmp_path / "c.json"
    path.write_text('{"schema_version": "1.0", "chapters": [{"chapter_id": "../x", "title": "T", "narration": {"text": "Hi."}, "visuals": [{"type": "b_roll", "description": "d"}]}]}')
    proc = run_cli("make", str(path), "--json", workspace=workspace)
    assert proc.returncode == 2
    assert "chapters[0].chapter_id" in proc.stderr
    assert '"exit_code": 2' in proc.stdout


def test_unknown_kind_is_rejected(tmp_path, workspace):
    proc = run_cli("plan", "--prompt", "A calm ad for a bottle", "--kind", "poem", workspace=workspace)
    assert proc.returncode == 2 and "--kind" in proc.stderr
