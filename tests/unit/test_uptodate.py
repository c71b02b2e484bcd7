"""The up-to-date stamp answers a repeated make only while nothing it depended on has changed."""

from __future__ import annotations

import os

import pytest

from storyreel.api.requests import MakeRequest
from storyreel.engine import uptodate


@pytest.fixture
def stamped(tmp_path, monkeypatch):
    code = tmp_path / "code"
    code.mkdir()
    (code / "mod.py").write_text("x = 1\n")
    monkeypatch.setattr(uptodate, "PACKAGE_ROOT", code)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORYREEL_CRF", "20")
    ws = tmp_path / "ws"
    out = tmp_path / "video.mp4"
    out.write_bytes(b"video")
    request = MakeRequest.build(input_path=tmp_path / "in.txt", workspace=ws).stamp_identity()
    result = {"project_id": "p", "executed_nodes": [], "executed_count": 0}
    assert uptodate.write(ws, request, [out], [ws / "prompts"], ["OPENAI_API_KEY"], result) is not None
    assert uptodate.check(ws, request) == result
    return ws, request, out, code


def test_a_changed_output_file_misses(stamped):
    ws, request, out, _ = stamped
    st = out.stat()
    out.write_bytes(b"VIDEO")  # same size
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    assert uptodate.check(ws, request) is None


def test_a_deleted_output_misses(stamped):
    ws, request, out, _ = stamped
    out.unlink()
    assert uptodate.check(ws, request) is None


def test_a_template_appearing_misses(stamped):
    ws, request, _, _ = stamped
    (ws / "prompts").mkdir(parents=True)
    assert uptodate.check(ws, request) is None


@pytest.mark.parametrize(("name", "value"), [("STORYREEL_CRF", "23"), ("STORYREEL_NEW_THING", "1"), ("OPENAI_API_KEY", "sk-x")])
def test_a_changed_environment_misses(stamped, monkeypatch, name, value):
    ws, request, _, _ = stamped
    monkeypatch.setenv(name, value)
    assert uptodate.check(ws, request) is None


def test_a_dotenv_file_misses(stamped):
    ws, request, _, _ = stamped
    (ws.parent / ".env").write_text("STORYREEL_CRF=18\n")
    assert uptodate.check(ws, request) is None


def test_changed_or_added_code_misses(stamped):
    ws, request, _, code = stamped
    (code / "new.py").write_text("")
    assert uptodate.check(ws, request) is None
    (code / "new.py").unlink()
    assert uptodate.check(ws, request) is not None
    (code / "mod.py").write_text("x = 22\n")
    assert uptodate.check(ws, request) is None


def test_other_requests_and_broken_stamps_miss(stamped):
    ws, request, _, _ = stamped
    other = MakeRequest.build(input_path=ws.parent / "in.txt", workspace=ws, image_provider="openai:gpt-image-2").stamp_identity()
    assert uptodate.check(ws, other) is None
    uptodate.stamp_path(ws, request).write_text("{broken")
    assert uptodate.check(ws, request) is None


def test_no_stamp_is_written_when_an_output_is_already_gone(tmp_path):
    request = MakeRequest.build(prompt="a prompt to make", workspace=tmp_path).stamp_identity()
    assert uptodate.write(tmp_path, request, [tmp_path / "missing.mp4"], [], [], {}) is None
    assert not uptodate.stamp_path(tmp_path, request).exists()
