"""Stage ``narration``: speech audio and word timings per shot (``local``: a Piper voice for English,
espeak-ng for other languages; ``elevenlabs:…`` and ``google:…`` bought through the paid-call protocol,
:mod:`storyreel.stages.purchase`: journaled before decoding, reserved before the call, a lost answer uncertain).

Outputs ``audio/<shot>.wav`` and ``audio/<shot>.json``: ``duration_s``, ``sample_rate``, ``words`` and the
provenance — ``provider`` (e.g. ``local:piper/en_US-joe-medium``), ``voice``, ``timing`` (where the word
timings come from: ``engine-events``, ``model-alignment``, ``vendor``, ``aligner``), ``cost_usd`` and, when a
style was asked for, ``style`` and ``style_used`` (False: this voice takes no instructions).
"""

from __future__ import annotations

from typing import ClassVar

from storyreel.core.atomic import atomic_write_json
from storyreel.engine.graph import NodeOutput, RecipeParts, Stage
from storyreel.providers.base import PaidSpeechService, SpeechRequest, request_key
from storyreel.stages.context import ProjectContext
from storyreel.stages.purchase import purchase
from storyreel.store.journal import CallJournal


class NarrationStage(Stage[ProjectContext]):
    name: ClassVar[str] = "narration"
    # not offered to other workers (issue 29): espeak-ng's pitch flutter index is a static that runs on across a
    # process's utterances (wavegen.c AdvanceParameters' Flutter_ix), so the same words read in another process differ
    # in their last bits, and Piper samples noise; read here in storyboard order, a make's narration is reproducible
    code_version: ClassVar[str] = "narration/2"

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def concurrency(self, ctx: ProjectContext) -> int:
        """The provider's own limit (espeak-ng is one process-wide engine: 1; Piper: 2)."""
        return ctx.tts_provider.max_concurrency or 4

    def request(self, ctx: ProjectContext, unit: str) -> SpeechRequest:
        _, shot = ctx.storyboard.shot(unit)
        settings = ctx.storyboard.settings
        return SpeechRequest(
            text=shot.narration, language=settings.language, voice=ctx.settings.tts_voice or settings.voice,
            words_per_minute=ctx.settings.speech_rate_wpm, style=ctx.settings.tts_style,
        )

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        provider = ctx.tts_provider
        return RecipeParts(provider=f"{provider.provider_id}@{provider.code_version}", params=self.request(ctx, unit).model_dump(mode="json"))

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        wav = ctx.paths.narration_audio(unit)
        request = self.request(ctx, unit)
        cleanup = []
        if ctx.tts_provider.paid:
            voice: PaidSpeechService = ctx.tts_provider  # type: ignore[assignment]
            key = request_key(voice.provider_id, voice.payload(request))
            result = purchase(ctx, node=f"narration[{unit}]", provider=voice, key=key, estimate=lambda: voice.estimate(request),
                              fetch=lambda jobs, attempt: voice.fetch(request, jobs=jobs, key=attempt),
                              decode=lambda received: voice.finish(request, received, wav))
            cleanup = CallJournal(ctx.paths, key).files()
        else:
            result = ctx.tts_provider.synthesize(request, wav)
        meta = ctx.paths.narration_timing(unit)
        atomic_write_json(
            meta,
            {
                "duration_s": result.duration_s,
                "sample_rate": result.sample_rate,
                "words": [w.model_dump() for w in result.words],
                "provider": result.provider,
                "voice": result.provider_details.get("voice"),
                "timing": result.provider_details.get("timing"),
                "cost_usd": result.cost_usd,
                **({"style": request.style, "style_used": bool(result.provider_details.get("style_used"))} if request.style else {}),
            },
        )
        ctx.forget_narration(unit)
        return NodeOutput(files=[wav, meta], details={"provider": result.provider, **result.provider_details}, cost_usd=result.cost_usd,
                          cleanup=cleanup)

    def reused(self, ctx: ProjectContext, unit: str) -> None:
        ctx.forget_narration(unit)  # the timeline is measured anew from the narration put back
