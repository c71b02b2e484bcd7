"""Evaluating and executing stages: status without running, or run what is not fresh.

A node is skipped when its last successful run has the same key and its output files are present with
the recorded hashes. Otherwise it runs; the run record is committed only after its outputs are in place
(written atomically by the stage), so an interrupted make resumes from what is done. Units of one
stage run concurrently up to the stage's ``max_workers``.

With a build cache (:class:`~storyreel.store.objects.ObjectStore`) every successful node's outputs are kept by
content, and a node that must run but whose recipe key equals an earlier successful run's gets that run's files back
instead (recorded as a run with ``details.cached``, costing nothing): an undone edit or a restored version is not made
again, byte for byte. Forced nodes, user-editable outputs and stand-ins needing attention are never reused.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from storyreel.core.cancel import Canceled, checkpoint, current, watching
from storyreel.core.errors import CostLimitReached, InputError, StageError
from storyreel.core.hashing import FileHashes, hash_value
from storyreel.engine.dispatch import DISPATCH, Dispatcher
from storyreel.engine.graph import FORCED, Node, NodeOutput, Recipe, Stage
from storyreel.engine.staleness import (
    Cause,
    NodeStatus,
    StaleCause,
    State,
    compare,
    outputs_intact,
    outputs_present,
)
from storyreel.store.models import Run
from storyreel.store.objects import ObjectStore
from storyreel.store.records import RunStore

log = logging.getLogger("storyreel.engine")

POLL_S = 0.1
"""How often a fanned node's thread looks for a free slot here or its helper's outcome (one indexed row read)."""

ProgressFn = Callable[[str, Node, str], None]  # (event, node, detail); events: plan (detail: the stage's node count), start, done, attention, skip, fail


@dataclass
class RunReport:
    """Outcome of one evaluation: every node's status and the nodes executed or failed."""

    invocation: str
    statuses: dict[Node, NodeStatus] = field(default_factory=dict)
    executed: list[Node] = field(default_factory=list)
    restored: list[Node] = field(default_factory=list)
    """Nodes whose outputs came back from the build cache instead of running."""
    failed: dict[Node, str] = field(default_factory=dict)
    cost_limited: dict[Node, CostLimitReached] = field(default_factory=dict)
    outputs: dict[Node, dict[str, str]] = field(default_factory=dict)
    """Each node that ran or was restored: its output files (relative path → digest)."""


class NodeMismatch(RuntimeError):
    """A helper's recipe for an offered node differs from the coordinator's (another code version, settings or
    files): the helper does not run it, the coordinator does."""


class Executor:
    """Runs stages for one project. ``root`` is the project folder; output paths are recorded relative to it.
    ``should_stop`` (default: the one :func:`storyreel.core.cancel.watching` installed in the calling thread)
    is consulted before every node and at the checkpoints inside long ones: a stopped run raises
    :class:`~storyreel.core.cancel.Canceled`, and every finished node stays recorded. ``objects`` is the
    project's build cache (``None``: outputs are not kept beyond the latest run)."""

    def __init__(self, store: RunStore, project_id: str, root: Path, progress: ProgressFn | None = None,
                 should_stop: Callable[[], bool] | None = None, objects: Callable[[FileHashes], ObjectStore] | None = None) -> None:
        self.should_stop = should_stop if should_stop is not None else current()  # a job's stop, seen in the worker threads
        self.store = store
        self.project_id = project_id
        self.root = root
        self.progress = progress or (lambda *_: None)
        self.invocation = str(uuid.uuid4())
        self.hashes = FileHashes(root / ".file-hashes.json")
        self.objects = objects(self.hashes) if objects is not None else None
        self.forcing = False
        self._dispatch: Dispatcher | None = None
        self._prepared = False

    def evaluate(
        self,
        stages: Sequence[Stage[Any]],
        ctx: Any,
        *,
        execute: bool,
        force: bool = False,
        only: Callable[[Node], bool] | None = None,
    ) -> RunReport:
        """Compute every node's status in stage order; with ``execute`` run the ones not fresh.

        ``force`` re-runs selected nodes even when fresh; nodes whose last output needs attention are
        retried; ``only`` restricts execution to matching nodes (others are evaluated but not run). A node
        that fails stops only the nodes that require it: every other node still runs, and
        :class:`StageError` (carrying the report) is raised at the end naming the failed and the
        not-made nodes. :class:`CostLimitReached` stops the run after the stage that reached the cap.
        """
        self.forcing = force
        self._dispatch = DISPATCH.get() if execute else None
        try:
            return self._evaluate(stages, ctx, execute=execute, force=force, only=only)
        finally:
            if self.objects is not None and execute:
                self.objects.prune()
            self.hashes.save()

    def _evaluate(
        self, stages: Sequence[Stage[Any]], ctx: Any, *, execute: bool, force: bool, only: Callable[[Node], bool] | None
    ) -> RunReport:
        report = RunReport(self.invocation)
        latest = self.store.latest_success(self.project_id)
        for stage in stages:  # what a progress bar needs before anything runs: every stage's node count
            self.progress("plan", Node(stage.name, "*"), str(len(stage.units(ctx))))
        for group in _pool_groups(stages):
            pending: list[tuple[Stage[Any], Node, Recipe]] = []
            deferred: list[tuple[Stage[Any], Node]] = []  # waiting for nodes of this group that run first
            queued: set[Node] = set()
            for stage in group:
                for unit in stage.units(ctx):
                    node = Node(stage.name, unit)
                    if execute and any(n in queued for n in stage.requires(ctx, unit)):
                        deferred.append((stage, node))
                        queued.add(node)
                        continue
                    status, recipe = self._assess(stage, ctx, node, latest, report)
                    if self._should_run(node, status, recipe, execute=execute, force=force, only=only):
                        pending.append((stage, node, recipe))
                        queued.add(node)
                    elif status.state == State.FRESH:
                        self.progress("skip", node, "fresh")
                    report.statuses[node] = status
            if pending or deferred:  # longest first: the last worker does not run alone for long
                pending.sort(key=lambda item: -item[0].cost_hint(ctx, item[1].unit))

                def release(node_stage: Stage[Any], node: Node) -> tuple[Stage[Any], Node, Recipe] | None:
                    """A deferred node whose requirements have run: assessed now, returned when it must run."""
                    status, recipe = self._assess(node_stage, ctx, node, self.store.latest_for(self.project_id, [(node.stage, node.unit)]), report)
                    report.statuses[node] = status
                    if self._should_run(node, status, recipe, execute=execute, force=force, only=only):
                        return node_stage, node, recipe
                    if status.state == State.FRESH:
                        self.progress("skip", node, "fresh")
                    return None

                self._run_pending(group[0], ctx, pending, report, deferred, release)
                latest = self.store.latest_success(self.project_id)
            if report.cost_limited:
                first = next(iter(report.cost_limited.values()))
                undone = ", ".join(sorted(n.name for n in report.cost_limited))
                raise CostLimitReached(
                    f"stopped at the cost cap (${first.cap:.2f}): ${first.spent:.4f} spent; not made: {undone}. "
                    "Raise the cap with --max-cost (or STORYREEL_MAX_COST_USD) and run again: finished nodes are kept.",
                    spent=first.spent, cap=first.cap,
                )
        if report.failed:  # the other nodes ran; what depends on a failed node was not made
            lines = "\n".join(f"  {n.name}: {msg}" for n, msg in report.failed.items())
            waiting = sorted(n.name for n, st in report.statuses.items()
                             if st.state != State.FRESH and n not in report.failed and execute and (only is None or only(n)))
            more = f"\n{len(waiting)} node(s) that depend on them were not made: {', '.join(waiting[:8])}" + (" …" if len(waiting) > 8 else "")
            raise StageError(f"{len(report.failed)} node(s) failed:\n{lines}" + (more if waiting else ""), report=report)
        return report

    def _assess(
        self, stage: Stage[Any], ctx: Any, node: Node, latest: dict[tuple[str, str], Run], report: RunReport
    ) -> tuple[NodeStatus, Recipe | None]:
        last = latest.get((node.stage, node.unit))
        blocked = [
            n.name for n in stage.requires(ctx, node.unit) if report.statuses.get(n, NodeStatus(n, State.MISSING)).state != State.FRESH
        ]
        if blocked:
            state = State.MISSING if last is None else State.STALE
            causes = [] if last is None else [StaleCause(Cause.DEPENDENCY, tuple(sorted(blocked)))]
            return NodeStatus(node, state, causes), None
        parts = stage.recipe(ctx, node.unit)
        inputs = {n.name: report.statuses[n].version or "" for n in stage.inputs(ctx, node.unit)}
        recipe = Recipe(stage.name, stage.code_version, parts.provider, parts.params, inputs, parts.template_hash)
        if last is None:
            return NodeStatus(node, State.MISSING, [], recipe.key), recipe
        causes = compare(recipe, last) if last.key != recipe.key else []
        if stage.editable_output:
            intact = outputs_present(self.root, last)
        else:
            intact = outputs_intact(self.root, last, self.hashes)
        if not intact:
            causes.append(StaleCause(Cause.OUTPUT))
        if causes:
            return NodeStatus(node, State.STALE, causes, recipe.key), recipe
        version = last.output_version
        if stage.editable_output:
            version = hash_value({rel: self.hashes.hash(self.root / rel) for rel in last.outputs})
        attention = (last.details or {}).get("attention")
        return NodeStatus(node, State.FRESH, [], recipe.key, version, attention), recipe

    @staticmethod
    def _should_run(node: Node, status: NodeStatus, recipe: Recipe | None, *, execute: bool, force: bool,
                    only: Callable[[Node], bool] | None) -> bool:
        redo = status.state != State.FRESH or force or status.attention is not None
        return execute and (only is None or only(node)) and recipe is not None and redo

    def _run_pending(self, lead: Stage[Any], ctx: Any, pending: list[tuple[Stage[Any], Node, Recipe]], report: RunReport,
                     deferred: list[tuple[Stage[Any], Node]] = (), release: Callable[..., Any] | None = None) -> None:
        def work(item: tuple[Stage[Any], Node, Recipe]) -> None:
            stage, node, recipe = item
            with watching(self.should_stop):
                checkpoint()  # a stopped job starts no new node
                self._work(stage, ctx, node, recipe, report)

        workers = None
        fanning = any(st.fans_out for st, _, _ in pending) or any(st.fans_out for st, _ in deferred)
        helpers = self._dispatch.helpers() if self._dispatch is not None and fanning else 0
        if helpers > 0:
            local = max(1, min(lead.concurrency(ctx), len(pending) + len(deferred)))
            if not self._prepared:
                self._dispatch.prepare(self.project_id)
                self._prepared = True
            work = self._fanned(ctx, report, work, threading.BoundedSemaphore(local), self._dispatch)
            workers = local + 2 * helpers  # one more offer per helper slot waits on the queue: a helper never idles between nodes
            log.info("%s: %d node(s) offered to %d helper slot(s) besides %d here", lead.name, len(pending) + len(deferred), helpers, local)
        if not deferred:
            self._pool(lead, ctx, pending, work, workers)
            return
        self._pool_graph(lead, ctx, pending, list(deferred), release, report, work, workers)

    def _fanned(self, ctx: Any, report: RunReport, work: Callable[[Any], None], slots: threading.BoundedSemaphore,
                dispatcher: Dispatcher) -> Callable[[Any], None]:
        """``work`` for a pool shared with other workers: a fanning node is offered to all, then claimed here when one
        of this worker's ``slots`` is free or adopted from the helper that ran it; other nodes run here on a slot."""

        def run(item: tuple[Stage[Any], Node, Recipe]) -> None:
            stage, node, recipe = item
            if not stage.fans_out:
                with slots:
                    work(item)
                return
            with watching(self.should_stop):
                checkpoint()
                task = dispatcher.offer(self.project_id, node, recipe, self.forcing)
                finished = False
                elsewhere = False  # a helper holds it: wait for its outcome (or for it to come back on offer)
                try:
                    while True:
                        checkpoint()
                        if not elsewhere and slots.acquire(timeout=POLL_S):
                            try:
                                generation = dispatcher.claim(task)
                                if generation:
                                    try:
                                        work(item)
                                    finally:
                                        dispatcher.done(task, generation)
                                    finished = True
                                    return
                                elsewhere = True
                            finally:
                                slots.release()
                        elif elsewhere:
                            time.sleep(POLL_S)
                        found = dispatcher.outcome(task)
                        if found is None:
                            continue
                        if found["state"] == "queued":  # its helper stopped beating: on offer again, here too
                            elsewhere = False
                            continue
                        finished = True
                        if found["state"] == "done":
                            self._adopt(stage, ctx, node, recipe, found, report)
                            return
                        log.warning("%s: the helper %s could not run it (%s); running it here", node.name, found.get("worker"),
                                    (found.get("result") or {}).get("message"))
                        with slots:
                            work(item)
                        return
                finally:
                    if not finished:
                        dispatcher.withdraw(task)

        return run

    def _adopt(self, stage: Stage[Any], ctx: Any, node: Node, recipe: Recipe, found: dict[str, Any], report: RunReport) -> None:
        """Take a helper's outcome for ``node`` as if it had run here: its outputs placed (fetched by digest through the
        build cache when this copy lacks them; the stage told, as for a build-cache reuse), its status, its failure or
        the cost cap."""
        result = found.get("result") or {}
        status = result.get("status")
        if status == "fresh":
            for rel, digest in result["outputs"].items():
                if self._holds(rel, digest):
                    continue
                if self.objects is None or not self.objects.has(digest):
                    raise RuntimeError(f"{node.name}: made by {found.get('worker')}, but its output {rel} cannot be fetched here")
                self.objects.place(digest, self.root / rel)
            stage.reused(ctx, node.unit)
            report.statuses[node] = NodeStatus(node, State.FRESH, [], recipe.key, result.get("version"), result.get("attention"))
            report.outputs[node] = dict(result["outputs"])
            (report.restored if result.get("restored") else report.executed).append(node)
            attention = result.get("attention")
            self.progress("attention" if attention else "done", node, attention or f"by {found.get('worker')}")
        elif status == "input_error":
            raise InputError(result.get("message") or "bad input", field=result.get("field"), hint=result.get("hint"))
        elif status == "cost_limit":
            exc = CostLimitReached(result.get("message") or "cost cap reached", spent=float(result.get("spent") or 0),
                                   cap=float(result.get("cap") or 0))
            report.cost_limited[node] = exc
            report.statuses[node] = NodeStatus(node, State.MISSING, [StaleCause(Cause.FAILED)], recipe.key)
            self.progress("fail", node, str(exc))
        else:
            message = result.get("message") or "failed on a helper"
            report.failed[node] = message
            report.statuses[node] = NodeStatus(node, State.STALE, [StaleCause(Cause.FAILED)], recipe.key)
            self.progress("fail", node, message)

    def run_node(self, stage: Stage[Any], ctx: Any, unit: str, *, key: str, inputs: dict[str, str], forcing: bool) -> dict[str, Any]:
        """Run one offered node here, for the worker that coordinates its make: the recipe built from this copy with the
        coordinator's input versions must have the coordinator's ``key`` (else :class:`NodeMismatch`), then it runs (or
        comes back from the build cache) and is recorded as any node. Returns the outcome the coordinator adopts
        (:meth:`_adopt`): ``status`` fresh / failed / cost_limit / input_error, the data ``version``, ``outputs``
        (relative path → digest), ``attention``, ``restored``. Raises :class:`~storyreel.core.cancel.Canceled`."""
        node = Node(stage.name, unit)
        parts = stage.recipe(ctx, unit)
        recipe = Recipe(stage.name, stage.code_version, parts.provider, parts.params, dict(inputs), parts.template_hash)
        if recipe.key != key:
            raise NodeMismatch(f"{node.name}: this worker's recipe key {recipe.key} is not the coordinator's {key}")
        self.forcing = forcing
        report = RunReport(self.invocation)
        try:
            self._work(stage, ctx, node, recipe, report)
        except InputError as exc:
            return {"status": "input_error", "message": exc.message, "field": exc.field, "hint": exc.hint}
        finally:
            self.hashes.save()
        if node in report.cost_limited:
            exc = report.cost_limited[node]
            return {"status": "cost_limit", "message": str(exc), "spent": exc.spent, "cap": exc.cap}
        if node in report.failed:
            return {"status": "failed", "message": report.failed[node]}
        status = report.statuses[node]
        return {"status": "fresh", "version": status.version, "attention": status.attention, "outputs": report.outputs.get(node, {}),
                "restored": node in report.restored}

    def _pool_graph(self, lead: Stage[Any], ctx: Any, pending: list, deferred: list[tuple[Stage[Any], Node]],
                    release: Callable[..., Any], report: RunReport, work: Callable[[Any], None], workers: int | None = None) -> None:
        """Run ``pending`` and each deferred node as soon as the nodes it requires have run (assessed then,
        with their new versions), on ``lead.concurrency`` workers; whenever a worker frees, the queued node
        with the largest ``cost_hint`` starts."""
        from concurrent.futures import FIRST_COMPLETED, wait

        workers = max(1, min(workers or lead.concurrency(ctx), len(pending) + len(deferred)))
        outstanding = {node for _, node, _ in pending} | {node for _, node in deferred}
        queue = list(pending)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sr-{lead.name}") as pool:
            running: dict[Any, Node] = {}
            while True:
                for stage, node in [(st, n) for st, n in deferred if not any(r in outstanding for r in st.requires(ctx, n.unit))]:
                    deferred.remove((stage, node))
                    item = release(stage, node)
                    if item is None:
                        outstanding.discard(node)
                    else:
                        queue.append(item)
                queue.sort(key=lambda item: -item[0].cost_hint(ctx, item[1].unit))
                while queue and len(running) < workers:
                    item = queue.pop(0)
                    running[pool.submit(work, item)] = item[1]
                if not running:
                    if deferred:  # a requirement that never runs: report, do not hang
                        raise RuntimeError(f"deferred nodes wait for nothing: {[n.name for _, n in deferred]}")
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    outstanding.discard(running.pop(future))
                    future.result()  # InputError and Canceled end the evaluation, as in _pool

    def _work(self, stage: Stage[Any], ctx: Any, node: Node, recipe: Recipe, report: RunReport) -> None:
        """Run one node and record it: a success, a failure (reported after the stage), or the cost cap. A node
        the build cache holds gets its outputs back instead."""
        if self._reuse(stage, ctx, node, recipe, report):
            return
        self.progress("start", node, "")
        started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        token = FORCED.set(self.forcing)
        try:
            output = stage.run(ctx, node.unit)
        except (InputError, Canceled):
            raise
        except CostLimitReached as exc:
            log.warning("%s: not made, the cost cap is reached", node.name)
            self._record(node, recipe, None, "cost_limit", str(exc), started, time.perf_counter() - t0)
            report.cost_limited[node] = exc
            report.statuses[node] = NodeStatus(node, State.MISSING, [StaleCause(Cause.FAILED)], recipe.key)
            self.progress("fail", node, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - recorded as a failed run, reported after the stage
            message = f"{type(exc).__name__}: {exc}"
            log.error("%s failed after %.1f s: %s", node.name, time.perf_counter() - t0, message)
            self._record(node, recipe, None, "failed", message, started, time.perf_counter() - t0)
            report.failed[node] = message
            report.statuses[node] = NodeStatus(node, State.STALE, [StaleCause(Cause.FAILED)], recipe.key)
            self.progress("fail", node, message)
            return
        finally:
            FORCED.reset(token)
        if output.attention:
            output.details = {**output.details, "attention": output.attention}
        version = self._record(node, recipe, output, "success", None, started, time.perf_counter() - t0)
        report.outputs[node] = {p.relative_to(self.root).as_posix(): self.hashes.hash(p) for p in output.files}
        for leftover in output.cleanup:
            leftover.unlink(missing_ok=True)
        if output.cleanup and self.objects is not None:
            self.objects.removed(output.cleanup)
        log.info("%s done in %.2f s%s%s", node.name, time.perf_counter() - t0,
                 f", ${output.cost_usd:.4f}" if output.cost_usd else "", f" (attention: {output.attention})" if output.attention else "")
        report.statuses[node] = NodeStatus(node, State.FRESH, [], recipe.key, version, output.attention)
        report.executed.append(node)
        self.progress("attention" if output.attention else "done", node, output.attention or "")

    def _holds(self, rel: str, digest: str) -> bool:
        """Whether the project file ``rel`` already holds the content ``digest``."""
        dest = self.root / rel
        try:
            return dest.is_file() and self.hashes.hash(dest) == digest
        except OSError:
            return False

    def _reuse(self, stage: Stage[Any], ctx: Any, node: Node, recipe: Recipe, report: RunReport) -> bool:
        """Give ``node`` the outputs of its latest successful run with ``recipe``'s key from the build cache, when every
        file is there intact (none placed otherwise); recorded as a free run naming the run it came from."""
        if self.objects is None or self.forcing or stage.editable_output:
            return False
        earlier = self.store.reusable(self.project_id, node.stage, node.unit, recipe.key)
        if earlier is None or not earlier.outputs or not all(self.objects.has(d) for d in earlier.outputs.values()):
            return False
        t0 = time.perf_counter()
        started = datetime.now(timezone.utc)
        for rel, digest in earlier.outputs.items():
            if not self._holds(rel, digest):
                self.objects.place(digest, self.root / rel)
        stage.reused(ctx, node.unit)
        details = {**(earlier.details or {}), "cached": {"run": earlier.id, "invocation": earlier.invocation}}
        self.store.add(Run(
            project_id=self.project_id, invocation=self.invocation, stage=node.stage, unit=node.unit, key=recipe.key,
            code_version=recipe.code_version, provider=recipe.provider, template_hash=recipe.template_hash,
            params_hash=recipe.params_hash, input_versions=recipe.inputs, output_version=earlier.output_version,
            outputs=dict(earlier.outputs), details=details, status="success", error=None, cost_usd=0.0,
            duration_s=round(time.perf_counter() - t0, 4), started_at=started, finished_at=datetime.now(timezone.utc),
        ))
        report.outputs[node] = dict(earlier.outputs)
        log.info("%s: its outputs from the build cache (run %s)", node.name, earlier.id)
        report.statuses[node] = NodeStatus(node, State.FRESH, [], recipe.key, earlier.output_version)
        report.restored.append(node)
        self.progress("done", node, "cached")
        return True

    def _pool(self, stage: Stage[Any], ctx: Any, pending: list, work: Callable[[Any], None], workers: int | None = None) -> None:
        workers = max(1, min(workers or stage.concurrency(ctx), len(pending)))
        if workers == 1:
            for item in pending:
                work(item)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sr-{stage.name}") as pool:
                list(pool.map(work, pending))

    def _record(
        self,
        node: Node,
        recipe: Recipe,
        output: NodeOutput | None,
        status: str,
        error: str | None,
        started: datetime,
        duration: float,
    ) -> str | None:
        outputs = {}
        if output is not None:
            outputs = {p.relative_to(self.root).as_posix(): self.hashes.hash(p) for p in output.files}
            if self.objects is not None and status == "success" and not output.attention:
                for p in output.files:
                    self.objects.put(p, outputs[p.relative_to(self.root).as_posix()])
        version = None
        if output is not None:
            named = output.files if output.versioned is None else output.versioned
            version = hash_value({p.relative_to(self.root).as_posix(): outputs[p.relative_to(self.root).as_posix()] for p in named})
        self.store.add(
            Run(
                project_id=self.project_id,
                invocation=self.invocation,
                stage=node.stage,
                unit=node.unit,
                key=recipe.key,
                code_version=recipe.code_version,
                provider=recipe.provider,
                template_hash=recipe.template_hash,
                params_hash=recipe.params_hash,
                input_versions=recipe.inputs,
                output_version=version,
                outputs=outputs,
                details=(output.details if output else {}),
                status=status,
                error=error,
                cost_usd=output.cost_usd if output else 0.0,
                duration_s=round(duration, 4),
                started_at=started,
                finished_at=datetime.now(timezone.utc),
            )
        )
        return version


def _pool_groups(stages: Sequence[Stage[Any]]) -> list[list[Stage[Any]]]:
    """Stages in order, consecutive ones naming the same ``pool`` grouped (see :class:`Stage`)."""
    groups: list[list[Stage[Any]]] = []
    for stage in stages:
        if groups and stage.pool is not None and groups[-1][0].pool == stage.pool:
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups
