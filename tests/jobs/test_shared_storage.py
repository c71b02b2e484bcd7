"""Shared artifact storage (issue 29 item 1) against a real S3 API on loopback (moto's server mode): two workspace
folders — two machines with no shared disk — on one database and one bucket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyreel.core.hashing import hash_file
from tests.conftest import INPUTS, cli_json, run_cli
from tests.jobs.helpers import bucket_keys, s3_env  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

FABLE = str(INPUTS / "hare-and-tortoise.txt")


def _machines(tmp_path: Path) -> tuple[Path, Path, dict]:
    """Two workspaces on one SQLite database file (a stand-in for the shared PostgreSQL of the scale-out tests)."""
    env = {"STORYREEL_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    return tmp_path / "machine-a", tmp_path / "machine-b", env


def test_a_project_made_on_one_machine_is_complete_on_another(tmp_path: Path, s3_env, monkeypatch) -> None:  # noqa: ANN001
    env, client = s3_env
    a, b, db = _machines(tmp_path)
    for name, value in db.items():
        monkeypatch.setenv(name, value)
    made = cli_json("make", FABLE, workspace=a)
    pid = made["project_id"]
    root_a, root_b = a / "projects" / pid, b / "projects" / pid
    keys = bucket_keys(client, env)
    # every file is an object named by its content; the deliverables also under the project's name
    assert keys[f"projects/{pid}/video.mp4"] == (root_a / "video.mp4").stat().st_size
    assert {f"projects/{pid}/{n}" for n in ("video.mp4", "video.srt", "video.vtt", "thumbnail.jpg", "qc.json")} <= set(keys)
    digest = hash_file(root_a / "images" / sorted(p.name for p in (root_a / "images").glob("*.png"))[0])
    assert f"objects/{digest[7:9]}/{digest[9:]}" in keys
    assert not any(".lock" in k or "file-hashes" in k for k in keys)

    # machine B has nothing on its disk: a status reads the project, a render re-runs nothing and delivers the same bytes
    assert not root_b.exists()
    status = cli_json("status", pid, workspace=b)
    assert all(n["state"] == "FRESH" for n in status["nodes"]), [n for n in status["nodes"] if n["state"] != "FRESH"][:3]
    rendered = cli_json("render", pid, workspace=b)
    assert rendered["executed_nodes"] == [], rendered["executed_nodes"]
    assert hash_file(root_b / "video.mp4") == hash_file(root_a / "video.mp4")

    # an edit on B (one shot's words) re-makes that shot there; A then sees B's version without making anything
    board = json.loads((root_b / "storyboard.json").read_text())
    shot = board["chapters"][0]["shots"][0]
    edited = cli_json("edit", pid, "duplicate", shot["shot_id"], workspace=b)
    assert edited["executed_nodes"], edited
    again = cli_json("render", pid, workspace=a)
    assert again["executed_nodes"] == [], again["executed_nodes"]
    assert hash_file(root_a / "video.mp4") == hash_file(root_b / "video.mp4")
    assert (root_a / "storyboard.json").read_bytes() == (root_b / "storyboard.json").read_bytes()
    assert bucket_keys(client, env, f"projects/{pid}/")[f"projects/{pid}/video.mp4"] == (root_b / "video.mp4").stat().st_size


def test_a_bucket_that_does_not_answer_is_named_by_doctor(tmp_path: Path, s3_env, monkeypatch) -> None:  # noqa: ANN001
    env, _ = s3_env
    monkeypatch.setenv("STORYREEL_STORAGE_URL", f"s3://no-such-bucket-{tmp_path.name[-6:].lower()}/x")
    proc = run_cli("doctor", "--offline", "--json", workspace=tmp_path / "ws")
    report = json.loads(proc.stdout)
    check = next(c for c in report["checks"] if c["name"] == "artifact storage")
    assert proc.returncode == 1 and not check["ok"] and "STORYREEL_STORAGE_URL" in check["fix"], check
    monkeypatch.setenv("STORYREEL_STORAGE_URL", env["STORYREEL_STORAGE_URL"])
    good = json.loads(run_cli("doctor", "--offline", "--json", workspace=tmp_path / "ws").stdout)
    assert next(c for c in good["checks"] if c["name"] == "artifact storage")["ok"]


def test_a_storage_url_that_is_not_s3_is_refused_with_the_fix(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("STORYREEL_STORAGE_URL", "ftp://example/x")
    proc = run_cli("make", FABLE, workspace=tmp_path / "ws")
    assert proc.returncode in (1, 2) and "STORYREEL_STORAGE_URL" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not list((tmp_path / "ws").glob("projects/*/video.mp4"))




# ------------------------------------------------------------------------------------------ the sync itself
def _copy(tmp_path: Path, machine: str, sessions, url: str):  # noqa: ANN001, ANN202
    from storyreel.core.hashing import FileHashes
    from storyreel.store.files import ProjectPaths
    from storyreel.store.objects import ObjectStore
    from storyreel.store.storage import storage_for
    from storyreel.store.sync import ProjectSync, TreeStore

    paths = ProjectPaths(tmp_path / machine, "tide-and-stone")
    paths.root.mkdir(parents=True, exist_ok=True)
    local = ObjectStore(paths.objects, FileHashes(paths.root / ".file-hashes.json"))
    return ProjectSync(storage_for(url), TreeStore(sessions), paths, local)


@pytest.fixture
def two_copies(tmp_path: Path, s3_env):  # noqa: ANN001, ANN201
    from storyreel.core.settings import Settings
    from storyreel.store.db import database

    env, client = s3_env
    sessions = database(Settings(workspace=tmp_path / "db"))
    return _copy(tmp_path, "a", sessions, env["STORYREEL_STORAGE_URL"]), _copy(tmp_path, "b", sessions, env["STORYREEL_STORAGE_URL"]), env, client


def test_push_then_pull_gives_the_same_folder_and_only_what_changed_moves(two_copies) -> None:  # noqa: ANN001
    a, b, env, client = two_copies
    (a.paths.root / "images").mkdir()
    (a.paths.root / "storyboard.json").write_text('{"shots": 3}')
    (a.paths.root / "images" / "s1.png").write_bytes(b"\x89PNG" + bytes(range(256)) * 40)
    (a.paths.root / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"m" * 5000)
    (a.paths.root / ".lock.owner").write_text("{}")  # stays on its machine
    (a.paths.root / "images" / ".s2.png.1.sr-tmp.png").write_bytes(b"half written")  # a temp file: never shared
    generation = a.push()
    assert generation >= 1 and a.push() == generation  # nothing changed: no new generation
    assert b.pull() == 3
    for rel in ("storyboard.json", "images/s1.png", "video.mp4"):
        assert (b.paths.root / rel).read_bytes() == (a.paths.root / rel).read_bytes()
    assert not (b.paths.root / ".lock.owner").exists() and not list((b.paths.root / "images").glob(".*"))
    assert b.pull() == 0  # at the tree's generation: one query, nothing fetched
    prefix = env["STORYREEL_STORAGE_URL"].split("/", 3)[3]
    assert client.get_object(Bucket="storyreel-test", Key=f"{prefix}/projects/tide-and-stone/video.mp4")["Body"].read() == \
        (a.paths.root / "video.mp4").read_bytes()

    # B edits one file and removes another; A gets exactly that
    (b.paths.root / "storyboard.json").write_text('{"shots": 2}')
    (b.paths.root / "video.mp4").unlink()
    b.push()
    assert a.pull() == 1
    assert (a.paths.root / "storyboard.json").read_text() == '{"shots": 2}' and not (a.paths.root / "video.mp4").exists()
    assert (a.paths.root / "images" / "s1.png").exists()
    assert "projects/tide-and-stone/video.mp4" not in bucket_keys(client, env)  # the deliverable's name goes too


def test_a_damaged_object_is_refused_and_nothing_is_placed(two_copies) -> None:  # noqa: ANN001
    from storyreel.store.storage import object_key

    a, b, env, client = two_copies
    (a.paths.root / "storyboard.json").write_text('{"shots": 3}')
    a.push()
    digest = a.hashes.hash(a.paths.root / "storyboard.json")
    prefix = env["STORYREEL_STORAGE_URL"].split("/", 3)[3]
    client.put_object(Bucket="storyreel-test", Key=f"{prefix}/{object_key(digest)}", Body=b'{"shots": 9}')  # bit rot
    with pytest.raises(OSError, match=digest):
        b.pull()
    assert not (b.paths.root / "storyboard.json").exists() and not [p for p in b.paths.objects.rglob("*") if p.is_file()]


def test_a_reader_does_not_swap_files_under_a_verb_writing_here(two_copies) -> None:  # noqa: ANN001
    from storyreel.store.locks import project_lock

    a, b, _, _ = two_copies
    (a.paths.root / "storyboard.json").write_text('{"shots": 3}')
    a.push()
    with project_lock(b.paths, verb="make"):
        assert b.refresh() == 0 and not (b.paths.root / "storyboard.json").exists()
    assert b.refresh() == 1 and (b.paths.root / "storyboard.json").exists()


def test_the_paid_call_journal_reaches_the_other_machine_as_it_is_written(two_copies) -> None:  # noqa: ANN001
    """A vendor job ID journaled on A (before A dies) is on B after its pull, so B polls it instead of paying again;
    the entry's removal once the run is recorded reaches the tree too."""
    from storyreel.store.journal import CallJournal
    from storyreel.store.sync import ProjectMirror

    a, b, _, _ = two_copies
    a.paths.mirror = ProjectMirror(a)
    journal = CallJournal(a.paths, "k" * 64)
    journal.record_attempt()
    journal.record_job("pred-123")
    assert b.pull() == 1
    assert CallJournal(b.paths, "k" * 64).job_id() == "pred-123" and CallJournal(b.paths, "k" * 64).attempted()
    journal.discard()
    b.pull()
    assert CallJournal(b.paths, "k" * 64).job_id() is None


def test_local_copies_are_kept_within_their_bound_and_never_lose_a_file(tmp_path: Path, s3_env, monkeypatch) -> None:  # noqa: ANN001
    """STORYREEL_LOCAL_COPIES_MB=0: every copy whose files are all in the bucket goes — not one with a file only it has,
    not one a verb here is writing — and a later verb fetches what it needs again, making nothing."""
    from storyreel.api import Workspace
    from storyreel.store.locks import project_lock

    a, _, db = _machines(tmp_path)
    for name, value in db.items():
        monkeypatch.setenv(name, value)
    fable = cli_json("make", FABLE, workspace=a)["project_id"]
    speech = cli_json("make", str(INPUTS / "gettysburg-address.txt"), workspace=a)["project_id"]
    video = hash_file(a / "projects" / fable / "video.mp4")
    (a / "projects" / speech / "notes.txt").write_text("only here")  # written beside a verb: never pushed
    monkeypatch.setenv("STORYREEL_LOCAL_COPIES_MB", "0")
    ws = Workspace.open(a)
    with project_lock(ws.project(fable).paths, verb="make"):
        assert ws.evict_copies() == []  # one is being written, the other holds a file nowhere else
    assert ws.evict_copies() == [fable] and not (a / "projects" / fable).exists()
    assert (a / "projects" / speech / "notes.txt").exists()
    again = cli_json("render", fable, workspace=a)
    assert again["executed_nodes"] == [] and hash_file(a / "projects" / fable / "video.mp4") == video
