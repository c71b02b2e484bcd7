"""What "Update video" would redo, in words (``storyreel.api.changes``, issue 24 item 8): a planned project
priced on a paid image provider (the loopback OpenAI server; nothing is called), and words that never name
the engine's nodes."""

from __future__ import annotations

import re

import pytest

from storyreel.api import Workspace, library

from ..conftest import INPUTS, cli_json
from .test_openai_make import FakeOpenAI, env_for

pytestmark = pytest.mark.e2e

PID = "btc-ep-0042"


def test_a_planned_project_on_a_paid_provider_says_what_it_will_cost(httpserver, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    fake = FakeOpenAI(rate_limited=0, reject=None)
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake)
    ws = tmp_path / "ws"
    env = {**env_for(httpserver), "STORYREEL_IMAGE_PROVIDER": "openai:gpt-image-2"}
    cli_json("plan", str(INPUTS / "chapters-bitcoin-tr.json"), workspace=ws, env=env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    changes = library.changes(Workspace.open(ws).project(PID))
    assert fake.calls == []  # priced by the dry run, nothing bought
    assert changes["first_make"] and [s["number"] for s in changes["shots"]] == [1, 2, 3, 4, 5, 6]
    assert all(s["reasons"] == ["not made yet"] for s in changes["shots"])
    assert changes["paid_calls"] == 4  # the four generated shots; the two title cards are templates
    assert changes["estimate_usd"] == pytest.approx(4 * 0.041 * 864 / 1024, rel=1e-3)
    assert changes["summary"].endswith("4 paid calls, about $0.14"), changes["summary"]
    words = " ".join([changes["summary"], *(s["text"] for s in changes["shots"])])
    assert not re.search(r"\w+\[[\w+-]+\]|_segment|image_prompt", words), words  # no node names, no stage names
    assert len(changes["nodes"]) > 20  # the engine's list stays available
