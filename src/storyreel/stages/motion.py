"""Stage ``motion``: a generated shot's clip from an image-to-video vendor (``--clips VENDOR:MODEL``), bought
through the paid-call protocol (:mod:`storyreel.stages.purchase`: reserved against the cap before the create,
the vendor's job ID journaled before polling — a ``make`` after a crash or a cancel polls the same job instead of
paying again — and the MP4 journaled before anything else).

Units: the shots whose motion comes from the vendor (:meth:`ProjectContext.moving`: generated shots when a
vendor is set; template cards keep their Ken Burns move — a vendor would smear their text). The shot's selected
image is the start frame; the clip is asked for the shot's whole span on the timeline (the vendor makes the
shortest length its model allows that covers it); the motion prompt and negative prompt come from the shot's
``motion_prompt`` node (:mod:`storyreel.stages.motion_prompt`), the last frame, for models that take one, from its
``end_frame`` node (:mod:`storyreel.stages.end_frame`). Outputs: ``clips/<shot>.motion.mp4`` (as the vendor made it; the
``clip`` stage fits it to the frame, the 30 fps clock and the shot's length, :mod:`storyreel.media.footage`) and
``clips/<shot>.motion.json`` (provider, model, job, duration, the vendor's wait, cost, and the colour grade that
matches the clip to the shot's still with the CIEDE2000 distance of their mean colours before and after it,
:mod:`storyreel.media.grade`).

Attempts (``--attempts N``, FR-040): the clip is asked N times with seeds ``seed``, ``seed + 1``, …; each attempt is
kept (``clips/<shot>.motion-<n>.mp4``), priced, graded and scored offline
(:mod:`storyreel.providers.scorer.clip_metrics`) and, with ``--judge``, by the VLM judge on three frames of each
(:meth:`MotionStage._judge`, weighed with the metrics by :data:`CLIP_WEIGHTS`); the best total is used unless a person picked another
(``storyreel pick PROJECT SHOT N --clip`` stores ``visual.selected_clip`` in the storyboard; it wins and survives
re-runs, and re-choosing buys nothing: every attempt is kept). An attempt already made from the same request is kept, so raising N buys only the new ones;
a moderated attempt is left out (not retried in the run) and the shot needs attention; when every attempt is refused
the shot keeps its Ken Burns move as a stand-in and the next run asks again.
"""

from __future__ import annotations

import json
import shutil
from typing import ClassVar

from storyreel.core.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from storyreel.core.errors import ProviderRejected, StageError
from storyreel.core.hashing import hash_file, seed_for
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.grade import match
from storyreel.media.timeline import FPS
from storyreel.providers.base import JobState, ReferenceImage, VideoRequest, request_key
from storyreel.stages.context import ProjectContext
from storyreel.stages.end_frame import wants_end_frame
from storyreel.stages.motion_prompt import read_motion_prompt
from storyreel.stages.purchase import purchase
from storyreel.store.journal import CallJournal

CLIP_WEIGHTS = {"metrics": 0.5, "judge": 0.5}
"""An attempt's total when the VLM judge saw it: the offline metrics and the judge weigh the same (the metrics see
flicker and frozen frames the judge's three frames cannot; the judge sees what the clip shows)."""


class MotionStage(Stage[ProjectContext]):
    name: ClassVar[str] = "motion"
    code_version: ClassVar[str] = "motion/2"

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots() if ctx.moving(shot.shot_id)]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        if ctx.pinned(unit):
            return []  # the pinned clip is the whole recipe
        return [Node("select", unit), Node("motion_prompt", unit), *([Node("end_frame", unit)] if wants_end_frame(ctx, unit) else [])]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        if ctx.pinned(unit):
            return []
        return [*self.inputs(ctx, unit), Node("narration", unit)]  # the clip's length follows the narration

    def concurrency(self, ctx: ProjectContext) -> int:
        return (ctx.video_provider.max_concurrency if ctx.video_provider else None) or 4

    def request(self, ctx: ProjectContext, unit: str) -> VideoRequest:
        _, shot = ctx.storyboard.shot(unit)
        image, last = ctx.paths.image(unit), ctx.paths.end_frame(unit)
        width, height = ctx.frame_size
        timing = ctx.shot_timing(unit)
        prompt = read_motion_prompt(ctx, unit)
        end = ReferenceImage(label="the shot's end frame", sha256=hash_file(last).removeprefix("sha256:"), path=str(last)) \
            if wants_end_frame(ctx, unit) and last.is_file() else None
        return VideoRequest(
            shot_id=unit, prompt=prompt["prompt"], negative_prompt=prompt["negative_prompt"],
            start=ReferenceImage(label="the shot's image", sha256=hash_file(image).removeprefix("sha256:"), path=str(image)), end=end,
            duration_s=max(1.0, timing.span / FPS), width=width, height=height, seed=seed_for(f"motion:{shot.visual.description}"),
        )

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        provider = ctx.video_provider
        assert provider is not None
        pin = ctx.pinned(unit)
        if pin:
            return RecipeParts(provider="pinned", params={"clip": pin})
        _, shot = ctx.storyboard.shot(unit)
        return RecipeParts(provider=f"{provider.provider_id}@{provider.code_version}",
                           params={**provider.payload(self.request(ctx, unit)), "attempts": ctx.settings.video_attempts,
                                   **({"picked": shot.visual.selected_clip} if shot.visual.selected_clip else {}),
                                   **({"judge": ctx.judge.identity()} if ctx.judge is not None and ctx.settings.video_attempts > 1 else {})})

    @staticmethod
    def attempts(ctx: ProjectContext, base: VideoRequest) -> list[VideoRequest]:
        """The requests of the shot's attempts: ``base`` asked with seeds ``seed``, ``seed + 1``, …"""
        return [base.model_copy(update={"seed": base.seed + i}) for i in range(ctx.settings.video_attempts)]

    @staticmethod
    def _kept(ctx: ProjectContext, unit: str, number: int, key: str) -> dict | None:
        """Attempt ``number``'s entry from the last record when it was made from the same request and its file is
        unchanged — kept, not bought again (raising ``--attempts`` buys only the new ones)."""
        try:
            record = json.loads(ctx.paths.motion_meta(unit).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        entry = next((a for a in record.get("attempts", []) if a.get("attempt") == number), None)
        path = ctx.paths.motion_attempt(unit, number)
        if entry and entry.get("request_key") == key and path.is_file() and entry.get("sha256") == hash_file(path):
            return entry
        return None

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        from storyreel.providers.scorer.clip_metrics import score_clip

        if ctx.pinned(unit):
            return self._pinned(ctx, unit)
        provider = ctx.video_provider
        assert provider is not None
        image = ctx.paths.image(unit)
        base = self.request(ctx, unit)
        entries, failures, cleanup, spent = [], [], [], 0.0
        for number, request in enumerate(self.attempts(ctx, base), start=1):
            key = request_key(provider.provider_id, provider.payload(request))
            kept = self._kept(ctx, unit, number, key)
            if kept is not None:
                entries.append(kept)
                continue
            path = ctx.paths.motion_attempt(unit, number)

            def keep(received, path=path):  # noqa: ANN001, ANN202 - the MP4 as received
                atomic_write_bytes(path, received.data)
                return received

            try:
                received = purchase(ctx, node=f"motion[{unit}]", provider=provider, key=key, estimate=lambda r=request: provider.estimate(r),
                                    fetch=lambda jobs, attempt, r=request: provider.fetch(r, jobs=jobs, key=attempt), decode=keep)
            except ProviderRejected as exc:  # moderation: this attempt is out, never retried; the others may do
                failures.append({"attempt": number, "seed": request.seed, "state": JobState.MODERATED.value, "error": str(exc)})
                continue
            cleanup += CallJournal(ctx.paths, key).files()
            spent += received.cost_usd
            grade, colour = match(path, image)
            entries.append({"attempt": number, "seed": request.seed, "state": JobState.SUCCEEDED.value, "request_key": key,
                            "sha256": hash_file(path),
                            "job_id": received.details.get("prediction_id"), "duration_s": received.details.get("duration_s"),
                            "vendor_wait_s": received.details.get("predict_time_s"), "cost_usd": received.cost_usd,
                            "cost_source": received.details.get("cost_source"), "scores": score_clip(path, image),
                            "grade": grade.as_dict(), "colour_delta_e": colour})
        out, meta = ctx.paths.motion_clip(unit), ctx.paths.motion_meta(unit)
        if not entries:  # every attempt refused (moderation): the shot keeps its Ken Burns move, flagged; the next run asks again
            out.unlink(missing_ok=True)
            atomic_write_text(meta, json.dumps({"shot_id": unit, "provider": provider.provider_id, "attempts": [], "refused": failures},
                                               ensure_ascii=False, indent=2) + "\n")
            return NodeOutput(files=[meta], details={"provider": provider.provider_id, "refused": len(failures)},
                              attention=f"the vendor refused every attempt ({failures[0]['error'][:120]}); Ken Burns stands in")
        judge_cost, judged_note = self._judge(ctx, unit, entries, base.prompt) if ctx.judge is not None and len(entries) > 1 else (0.0, None)
        for e in entries:
            e["total"] = round(CLIP_WEIGHTS["metrics"] * e["scores"]["total"] + CLIP_WEIGHTS["judge"] * e["judge"]["total"], 2) \
                if e.get("judge") else e["scores"]["total"]
        spent += judge_cost
        picked = self._picked(ctx, unit, entries)
        chosen = picked or max(entries, key=lambda e: (e["total"], -e["attempt"]))
        with atomic_path(out) as tmp:
            shutil.copyfile(ctx.paths.motion_attempt(unit, chosen["attempt"]), tmp)
        record = {"shot_id": unit, "provider": provider.provider_id, "asked_s": round(base.duration_s, 3),
                  "prompt": base.prompt, "chosen": chosen["attempt"], "chosen_by": "person" if picked else "scores",
                  **{k: chosen[k] for k in ("duration_s", "job_id", "vendor_wait_s", "cost_usd", "cost_source", "grade", "colour_delta_e")},
                  "attempts": sorted(entries, key=lambda e: e["attempt"]), "refused": failures,
                  **({"picked": picked["attempt"]} if picked else {})}
        atomic_write_text(meta, json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        files = [out, meta] + [ctx.paths.motion_attempt(unit, e["attempt"]) for e in entries]
        files += [p for e in entries if (p := self._strip(ctx, unit, e["attempt"])).is_file() and e.get("judge")]
        notes = [n for n in (f"{len(failures)} attempt(s) refused by the vendor" if failures else None, judged_note) if n]
        return NodeOutput(files=files, details={"provider": provider.provider_id, "chosen": chosen["attempt"], "attempts": len(entries)},
                          cost_usd=round(spent, 6), cleanup=cleanup, versioned=[out],
                          attention="; ".join(notes) or None)

    @staticmethod
    def _pinned(ctx: ProjectContext, unit: str) -> NodeOutput:
        """A shot whose clip an edit pinned: the clip it names, found among the shot's attempts, is its clip — nothing is
        asked of the vendor. Raises :class:`StageError` when no attempt has those bytes any more."""
        pin, out, meta = ctx.pinned(unit), ctx.paths.motion_clip(unit), ctx.paths.motion_meta(unit)
        candidates = [out, *sorted(ctx.paths.clips.glob(f"{unit}.motion-[0-9].mp4"))]
        found = next((p for p in candidates if p.is_file() and hash_file(p) == pin), None)
        if found is None or not meta.is_file():
            raise StageError(f"{unit}: the clip an edit kept ({str(pin)[7:19]}…) is gone — undo the trim, or pick one of the "
                             "shot's clips (`storyreel pick PROJECT SHOT N --clip`)")
        if found != out:
            with atomic_path(out) as tmp:
                shutil.copyfile(found, tmp)
        attempts = [p for p in candidates[1:] if p.is_file()]
        return NodeOutput(files=[out, meta, *attempts], details={"pinned": pin}, versioned=[out])

    @staticmethod
    def _strip(ctx: ProjectContext, unit: str, number: int):  # noqa: ANN205 - a Path
        return ctx.paths.clips / f"{unit}.motion-{number}.frames.jpg"

    def _judge(self, ctx: ProjectContext, unit: str, entries: list[dict], prompt: str) -> tuple[float, str | None]:
        """The VLM judge (``--judge``) on every attempt at once: each shown as three frames side by side
        (:func:`~storyreel.providers.scorer.clip_metrics.frame_strip`), the shot's image as the reference (the
        clip's first frame: the subject must stay the same), the motion prompt as the description. Each entry gets
        ``judge`` (criteria, reason, total, the rubric hash); a verdict on the same attempts, prompt and judge is
        kept, not asked again. A paid judge is reserved before and booked after. Returns (USD, attention or None);
        a failed judge leaves the ranking to the offline metrics."""
        from storyreel.core.errors import ProviderError
        from storyreel.core.hashing import hash_value
        from storyreel.providers.scorer.clip_metrics import frame_strip
        from storyreel.providers.scorer.vlm_judge import check as check_verdict
        from storyreel.providers.scorer.vlm_judge import judge_total
        from storyreel.store.ledger import hold

        judge = ctx.judge
        assert judge is not None
        rubric = hash_value({"judge": judge.identity(), "prompt": prompt, "attempts": [e["sha256"] for e in entries]})
        if all((e.get("judge") or {}).get("rubric") == rubric for e in entries):
            return 0.0, None
        strips = [frame_strip(ctx.paths.motion_attempt(unit, e["attempt"]), self._strip(ctx, unit, e["attempt"])) for e in entries]
        description = (f"Each candidate is one video clip, shown as three of its frames side by side (near its start, middle and end). "
                       f"The clip should follow this motion prompt: {prompt} The reference image is the clip's first frame: the "
                       "subject must stay the same in every frame; warping, melting or flicker between the frames are artifacts.")
        booked = 0.0
        try:
            with hold(ctx.ledger, f"motion[{unit}]", judge.provider_id, lambda: judge.estimate(len(entries) + 1), paid=judge.paid,
                      request_key=rubric.removeprefix("sha256:")[:32]) as held:
                verdict, _, booked = judge.judge(strips, description, [("the shot's image (the clip's first frame)", ctx.paths.image(unit))])
                held.commit(booked)
            check_verdict(verdict, len(entries))
        except ProviderError as exc:
            for e in entries:
                e.pop("judge", None)
            return booked, f"judge failed, the attempts are ranked by the offline metrics: {str(exc)[:160]}"
        for judged in verdict.candidates:
            scores = {k: v for k, v in judged.model_dump(exclude={"index"}).items() if v is not None}
            entries[judged.index - 1]["judge"] = {**scores, "best": judged.index == verdict.best_index, "total": judge_total(judged),
                                                  "rubric": rubric}
        return booked, None

    @staticmethod
    def _picked(ctx: ProjectContext, unit: str, entries: list[dict]) -> dict | None:
        """The attempt a person picked (``visual.selected_clip``, ``storyreel pick … --clip``), when it was made."""
        _, shot = ctx.storyboard.shot(unit)
        return next((e for e in entries if e["attempt"] == shot.visual.selected_clip), None)
