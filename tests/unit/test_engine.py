"""Engine behaviour with a tiny two-stage pipeline: keys, skip, causes, early cutoff, output checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import StageError
from storyreel.engine.executor import Executor
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.engine.staleness import Cause, StaleCause
from storyreel.store.db import session_factory, sqlite_url
from storyreel.store.records import RunStore


@dataclass
class Ctx:
    root: Path
    words: dict[str, str]
    code: str = "v1"
    fail: set[str] = field(default_factory=set)


class Upper(Stage):
    name: ClassVar[str] = "upper"
    code_version: ClassVar[str] = "upper/1"
    max_workers: ClassVar[int] = 2

    def units(self, ctx):
        return sorted(ctx.words)

    def recipe(self, ctx, unit):
        return RecipeParts(provider="test:upper", params={"word": ctx.words[unit].lower()})

    def run(self, ctx, unit):
        if unit in ctx.fail:
            raise RuntimeError("boom")
        out = ctx.root / f"{unit}.txt"
        atomic_write_text(out, ctx.words[unit].upper())  # as every storyreel writer: a rename, never in place
        return NodeOutput(files=[out])


class Join(Stage):
    name: ClassVar[str] = "join"
    code_version: ClassVar[str] = "join/1"

    def units(self, ctx):
        return ["all"]

    def inputs(self, ctx, unit):
        return [Node("upper", u) for u in sorted(ctx.words)]

    def recipe(self, ctx, unit):
        return RecipeParts(provider="test:join", params={"sep": " "})

    def run(self, ctx, unit):
        out = ctx.root / "all.txt"
        atomic_write_text(out, " ".join((ctx.root / f"{u}.txt").read_text() for u in sorted(ctx.words)))
        return NodeOutput(files=[out])


@pytest.fixture
def env(tmp_path):
    store = RunStore(session_factory(sqlite_url(tmp_path)))
    store.upsert_project("p", title="t", input_kind="script", input_name="x")
    root = tmp_path / "p"
    root.mkdir()
    return store, Ctx(root, {"a": "one", "b": "two"})


def _run(store, ctx, execute=True, **kw):
    return Executor(store, "p", ctx.root).evaluate([Upper(), Join()], ctx, execute=execute, **kw)


def test_second_run_executes_nothing(env):
    store, ctx = env
    assert len(_run(store, ctx).executed) == 3
    assert _run(store, ctx).executed == []


def test_changed_param_reruns_the_node_and_its_dependents_with_causes(env):
    store, ctx = env
    _run(store, ctx)
    ctx.words["a"] = "uno"
    status = _run(store, ctx, execute=False).statuses
    assert status[Node("upper", "a")].causes == [StaleCause(Cause.PARAMS)]
    assert status[Node("upper", "b")].state == "FRESH"
    assert status[Node("join", "all")].causes == [StaleCause(Cause.DEPENDENCY, ("upper[a]",))]  # not fresh yet
    _run(store, ctx, only=lambda n: n.stage == "upper")
    join = _run(store, ctx, execute=False).statuses[Node("join", "all")]
    assert join.causes == [StaleCause(Cause.DATA, ("upper[a]",))]  # upstream data changed
    assert str(join.causes[0]) == "DATA:upper[a]"
    assert [n.name for n in _run(store, ctx).executed] == ["join[all]"]


def test_a_change_that_leaves_the_recipe_equal_keeps_the_key(env):
    store, ctx = env
    _run(store, ctx)
    ctx.words["a"] = "ONE"  # the recipe lower-cases the word: same params, same key
    assert _run(store, ctx).executed == []


def test_modified_output_file_is_rebuilt(env):
    store, ctx = env
    _run(store, ctx)
    (ctx.root / "b.txt").write_text("tampered")
    status = _run(store, ctx, execute=False).statuses
    assert status[Node("upper", "b")].causes == [StaleCause(Cause.OUTPUT)]
    # the rebuilt file has the same bytes as before, so join stays fresh (early cutoff)
    assert [n.name for n in _run(store, ctx).executed] == ["upper[b]"]


def test_failure_is_recorded_and_resume_runs_only_what_is_left(env):
    store, ctx = env
    ctx.fail = {"b"}
    with pytest.raises(StageError, match=r"upper\[b\]: RuntimeError: boom"):
        _run(store, ctx)
    ctx.fail = set()
    assert sorted(n.name for n in _run(store, ctx).executed) == ["join[all]", "upper[b]"]


def test_force_reruns_fresh_nodes(env):
    store, ctx = env
    _run(store, ctx)
    assert len(_run(store, ctx, force=True).executed) == 3


def test_unchanged_outputs_are_not_read_again_but_edits_are_seen(env, monkeypatch):
    """The freshness check trusts a file's recorded hash while its size and mtime are unchanged."""
    import os

    from storyreel.core import hashing

    store, ctx = env
    _run(store, ctx)
    reads = []
    real = hashing.hash_file
    monkeypatch.setattr(hashing, "hash_file", lambda p, *a: reads.append(p.name) or real(p, *a))
    assert _run(store, ctx).executed == [] and reads == []  # a no-op reads no output file
    target = ctx.root / "a.txt"
    st = target.stat()
    target.write_text("XXX")  # same size, new bytes
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000))
    assert _run(store, ctx, execute=False).statuses[Node("upper", "a")].causes == [StaleCause(Cause.OUTPUT)]
    assert reads == ["a.txt"]
    (ctx.root / ".file-hashes.json").write_text("{not json")  # a broken cache is rebuilt, not trusted
    assert [n.name for n in _run(store, ctx).executed] == ["upper[a]"]
    assert _run(store, ctx).executed == []


def test_a_stage_concurrency_setting_overrides_max_workers(env):
    """Units run concurrently up to ``concurrency(ctx)`` when a stage defines it (render workers)."""
    import threading

    store, ctx = env
    ctx.words.update({"c": "three", "d": "four"})
    barrier = threading.Barrier(4, timeout=10)

    class Wide(Upper):
        def concurrency(self, ctx):
            return 4

        def run(self, ctx, unit):
            barrier.wait()  # breaks (and the node fails) unless all four units run at once
            return super().run(ctx, unit)

    report = Executor(store, "p", ctx.root).evaluate([Wide()], ctx, execute=True)
    assert len(report.executed) == 4 and not report.failed


def test_stages_sharing_a_pool_run_their_nodes_together_longest_first(env):
    """Consecutive stages naming one ``pool`` share its workers: a short node of the second stage fills the
    worker the first stage's long node leaves idle, instead of waiting for the whole first stage."""
    import threading
    import time

    store, ctx = env
    ctx.words.update({"c": "three"})
    started: list[str] = []
    lock = threading.Lock()
    short_ran_during_long = threading.Event()
    long_running = threading.Event()

    class Encode(Upper):
        pool: ClassVar[str | None] = "encode"

        def cost_hint(self, ctx, unit):
            return 100.0 if unit == "a" else 10.0

        def run(self, ctx, unit):
            with lock:
                started.append(f"upper[{unit}]")
            if unit == "a":
                long_running.set()
                short_ran_during_long.wait(timeout=10)
            return super().run(ctx, unit)

    class Fade(Stage):
        name: ClassVar[str] = "fade"
        code_version: ClassVar[str] = "fade/1"
        pool: ClassVar[str | None] = "encode"

        def units(self, ctx):
            return ["x"]

        def cost_hint(self, ctx, unit):
            return 1.0

        def recipe(self, ctx, unit):
            return RecipeParts(provider="test:fade", params={})

        def run(self, ctx, unit):
            with lock:
                started.append("fade[x]")
            if long_running.is_set():
                short_ran_during_long.set()
            out = ctx.root / "fade.txt"
            out.write_text("x")
            return NodeOutput(files=[out])

    t0 = time.perf_counter()
    report = Executor(store, "p", ctx.root).evaluate([Encode(), Fade(), Join()], ctx, execute=True)
    assert not report.failed and short_ran_during_long.is_set() and time.perf_counter() - t0 < 9
    assert started[0] == "upper[a]" and started[-1] == "fade[x]"  # longest first, across both stages
    assert {n.name for n in report.executed} == {"upper[a]", "upper[b]", "upper[c]", "fade[x]", "join[all]"}


class _PoolUpper(Upper):
    """Upper in the "encode" pool; unit "a" is long: it waits (≤ 10 s) for ``ctx.release`` to be set."""

    pool: ClassVar[str | None] = "encode"

    def cost_hint(self, ctx, unit):
        return 100.0 if unit == "a" else 10.0

    def run(self, ctx, unit):
        if unit == "a":
            ctx.a_saw_join = ctx.release.wait(timeout=10)  # True: pjoin ran while upper[a] was running
        return super().run(ctx, unit)


class _PoolJoin(Stage):
    """Joins upper[b] and upper[c] inside the same pool (as ``mix`` joins the audio segments)."""

    name: ClassVar[str] = "pjoin"
    code_version: ClassVar[str] = "pjoin/1"
    pool: ClassVar[str | None] = "encode"

    def units(self, ctx):
        return ["bc"]

    def inputs(self, ctx, unit):
        return [Node("upper", "b"), Node("upper", "c")]

    def recipe(self, ctx, unit):
        return RecipeParts(provider="test:pjoin", params={})

    def run(self, ctx, unit):
        out = ctx.root / "bc.txt"
        out.write_text("+".join((ctx.root / f"{u}.txt").read_text() for u in ("b", "c")))
        ctx.release.set()  # upper[a] may finish now: pjoin ran while it was still running
        return NodeOutput(files=[out])


def test_a_node_requiring_nodes_of_its_own_pool_runs_once_they_have_run_while_the_others_go_on(env):
    """pjoin[bc] requires upper[b] and upper[c], which run in the same pool: it waits for them only (not for
    the long upper[a], which is still running when it runs), and reads their new outputs; an edit of b
    re-runs upper[b] and pjoin[bc] and nothing else."""
    import threading

    store, ctx = env
    ctx.words.update({"c": "three"})
    ctx.release = threading.Event()
    stages = [_PoolUpper(), _PoolJoin()]
    report = Executor(store, "p", ctx.root).evaluate(stages, ctx, execute=True)
    assert not report.failed and ctx.a_saw_join  # pjoin did not wait for the long upper[a]
    assert (ctx.root / "bc.txt").read_text() == "TWO+THREE"

    ctx.words["b"] = "deux"
    ctx.release = threading.Event()
    status = Executor(store, "p", ctx.root).evaluate(stages, ctx, execute=False)
    assert status.statuses[Node("pjoin", "bc")].causes == [StaleCause(Cause.DEPENDENCY, ("upper[b]",))]
    report = Executor(store, "p", ctx.root).evaluate(stages, ctx, execute=True)
    assert sorted(n.name for n in report.executed) == ["pjoin[bc]", "upper[b]"]
    assert (ctx.root / "bc.txt").read_text() == "DEUX+THREE"


def test_a_failed_requirement_in_the_pool_leaves_its_dependent_unmade_and_the_rest_made(env):
    """upper[c] fails: pjoin[bc] does not run (stale, waiting on it) and the StageError names both; upper[a]
    and upper[b] are made, and a re-run makes only what is left."""
    import threading

    store, ctx = env
    ctx.words.update({"c": "three"})
    ctx.release = threading.Event()
    ctx.release.set()
    ctx.fail = {"c"}
    stages = [_PoolUpper(), _PoolJoin()]
    with pytest.raises(StageError) as failed:
        Executor(store, "p", ctx.root).evaluate(stages, ctx, execute=True)
    assert "upper[c]" in str(failed.value) and "pjoin[bc]" in str(failed.value)
    assert not (ctx.root / "bc.txt").exists() and (ctx.root / "a.txt").exists()
    ctx.fail = set()
    report = Executor(store, "p", ctx.root).evaluate(stages, ctx, execute=True)
    assert sorted(n.name for n in report.executed) == ["pjoin[bc]", "upper[c]"]


def _cached(store, ctx, **kw):
    from storyreel.store.objects import ObjectStore

    executor = Executor(store, "p", ctx.root, objects=lambda hashes: ObjectStore(ctx.root / "cache", hashes, kw.pop("limit", None)))
    return executor.evaluate([Upper(), Join()], ctx, execute=True, **kw)


def test_the_build_cache_gives_back_an_earlier_version_without_running(env):
    """A → B → A: the second A is not made again; its files come back byte for byte, recorded as free runs naming the
    run they came from. A forced run, and a damaged cache object, make the node anew."""
    store, ctx = env
    _cached(store, ctx)
    first = (ctx.root / "all.txt").read_bytes()
    ctx.words["a"] = "uno"
    assert {n.name for n in _cached(store, ctx).executed} == {"upper[a]", "join[all]"}
    ctx.words["a"] = "one"
    back = _cached(store, ctx)
    assert back.executed == [] and {n.name for n in back.restored} == {"upper[a]", "join[all]"}
    assert (ctx.root / "all.txt").read_bytes() == first and (ctx.root / "a.txt").read_text() == "ONE"
    runs = store.for_invocation(back.invocation)
    assert all(r.details["cached"]["run"] and r.cost_usd == 0 for r in runs)
    assert _cached(store, ctx).executed == [] and _cached(store, ctx).restored == []  # fresh now

    ctx.words["a"] = "uno"
    assert _cached(store, ctx, force=True).restored == []  # --force makes anew
    ctx.words["a"] = "one"
    blob = next(p for p in (ctx.root / "cache").glob("*/*") if p.read_bytes() == b"ONE")
    blob.unlink()
    blob.write_bytes(b"bad")  # a damaged object (not a link any more) is dropped and the node runs
    again = _cached(store, ctx)
    assert [n.name for n in again.executed] == ["upper[a]"] and [n.name for n in again.restored] == ["join[all]"]
    assert (ctx.root / "a.txt").read_text() == "ONE"


def test_a_deleted_output_comes_back_from_the_cache_and_the_cache_is_bounded(env):
    store, ctx = env
    _cached(store, ctx)
    (ctx.root / "all.txt").unlink()
    assert [n.name for n in _cached(store, ctx).restored] == ["join[all]"] and (ctx.root / "all.txt").read_text() == "ONE TWO"
    for word in ("three", "four", "five"):
        ctx.words["b"] = word
        _cached(store, ctx, limit=8)  # objects the project no longer links are evicted past 8 bytes
    alone = [p for p in (ctx.root / "cache").glob("*/*") if p.stat().st_nlink == 1]
    assert sum(p.stat().st_size for p in alone) <= 8
    assert all(p.stat().st_nlink > 1 for p in (ctx.root / "cache").glob("*/*") if p.read_bytes() in (b"FIVE", b"ONE FIVE"))
