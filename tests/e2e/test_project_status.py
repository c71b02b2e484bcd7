"""The project's status is settled in one place, by the verb runner, from what the verb's evaluation came to:
``done`` when every node is fresh with nothing needing attention, ``partial`` otherwise, ``failed``,
``cost_limit``, ``canceled`` or ``interrupted``; bad input leaves it as it was. Through the real CLI (in-process,
so a stage can be made to fail) on the real ad brief."""

from __future__ import annotations

import pytest

from storyreel import api
from storyreel.api.runner import settle
from storyreel.core.cancel import SHUTDOWN, Canceled, watching
from storyreel.core.errors import CostLimitReached, InputError, StageError
from storyreel.core.vocabulary import ProjectStatus
from storyreel.stages.render import RenderStage

from ..conftest import INPUTS, cli_json, run_cli

pytestmark = pytest.mark.e2e


def _status(ws, project_id: str) -> str:  # noqa: ANN001
    return next(p["status"] for p in cli_json("list", workspace=ws)["projects"] if p["project_id"] == project_id)


@pytest.fixture
def made(tmp_path):  # noqa: ANN201
    ws = tmp_path / "ws"
    result = cli_json("make", str(INPUTS / "ad-brief.txt"), workspace=ws)
    return ws, result["project_id"]


def test_a_render_that_fails_says_failed_and_the_next_good_one_done(made, monkeypatch):
    ws, pid = made
    assert _status(ws, pid) == "done"

    def broken(self, ctx, unit):  # noqa: ANN001, ANN202
        raise RuntimeError("the concat broke")

    monkeypatch.setattr(RenderStage, "run", broken)
    failed = run_cli("render", pid, "--force", workspace=ws)
    assert failed.returncode == 1 and "the concat broke" in failed.stderr and "Traceback" not in failed.stderr
    assert _status(ws, pid) == "failed"  # render used to say "done" whatever happened
    monkeypatch.undo()
    cli_json("render", pid, workspace=ws)
    assert _status(ws, pid) == "done"


def test_new_images_leave_the_video_out_of_date_until_the_next_make(made):
    import json

    ws, pid = made
    path = ws / "projects" / pid / "storyboard.json"
    board = json.loads(path.read_text())
    shot = next(s for c in board["chapters"] for s in c["shots"] if s["visual"]["type"] == "b_roll")
    shot["visual"]["description"] = "A stone water bottle on a mossy rock beside a cold mountain spring"
    path.write_text(json.dumps(board))
    cli_json("imagegen", pid, "--shot", shot["shot_id"], workspace=ws)
    assert _status(ws, pid) == "partial"  # a new picture: its clip, its crossfades and the video are stale now
    cli_json("make", str(INPUTS / "ad-brief.txt"), workspace=ws)
    assert _status(ws, pid) == "done"


def test_bad_input_leaves_the_status_as_it_was(made):
    ws, pid = made
    refused = run_cli("pick", pid, "no-such-shot", "1", workspace=ws)
    assert refused.returncode == 2
    refused = run_cli("imagegen", pid, "--shot", "no-such-shot", workspace=ws)
    assert refused.returncode == 2
    assert _status(ws, pid) == "done"


def test_a_canceled_make_says_canceled_and_one_stopped_by_a_shutdown_interrupted(made):
    ws, pid = made
    board = ws / "projects" / pid / "storyboard.json"
    board.write_text(board.read_text().replace("Tide", "Tyde", 1))  # something to do
    with watching(lambda: True), pytest.raises(Canceled):
        api.make(input_path=INPUTS / "ad-brief.txt", workspace=ws)
    assert _status(ws, pid) == "canceled"
    SHUTDOWN.set()
    try:
        with watching(lambda: True), pytest.raises(Canceled):
            api.make(input_path=INPUTS / "ad-brief.txt", workspace=ws)
    finally:
        SHUTDOWN.clear()
    assert _status(ws, pid) == "interrupted"


def test_settle_is_one_rule_over_every_outcome():
    from storyreel.engine.executor import RunReport
    from storyreel.engine.graph import Node
    from storyreel.engine.staleness import NodeStatus, State

    def report(*states: tuple[State, str | None]) -> RunReport:
        out = RunReport("x")
        for i, (state, attention) in enumerate(states):
            node = Node("clip", f"s{i}")
            out.statuses[node] = NodeStatus(node, state, [], "k", "v", attention)
        return out

    assert settle(report((State.FRESH, None), (State.FRESH, None))) is ProjectStatus.DONE
    assert settle(report((State.FRESH, None), (State.FRESH, "a stand-in"))) is ProjectStatus.PARTIAL
    assert settle(report((State.FRESH, None), (State.STALE, None))) is ProjectStatus.PARTIAL
    assert settle(CostLimitReached("cap", spent=1.0, cap=1.0)) is ProjectStatus.COST_LIMIT
    assert settle(StageError("a node failed")) is ProjectStatus.FAILED
    assert settle(RuntimeError("a bug")) is ProjectStatus.FAILED
    assert settle(Canceled()) is ProjectStatus.CANCELED
    SHUTDOWN.set()
    try:
        assert settle(Canceled()) is ProjectStatus.INTERRUPTED
    finally:
        SHUTDOWN.clear()
    assert settle(InputError("bad", field="x")) is None
    assert settle(KeyboardInterrupt()) is None
