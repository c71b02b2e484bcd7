"""The base of cloud voices (``elevenlabs:``, ``google:``): a paid speech call is :meth:`~SpeechProvider.fetch`
(the vendor's answer, undecoded, journaled by the narration stage before anything can fail) then
:meth:`~SpeechProvider.finish` (free and local: the WAV and the word timings) — the speech half of the
paid-call protocol (:mod:`storyreel.stages.purchase`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from storyreel.providers.base import (
    HttpProvider,
    JobLog,
    Provider,
    Received,
    SpeechRequest,
    SpeechResult,
    request_key,
)


class SpeechProvider(Provider):
    """Base of paid voices: a call is :meth:`fetch` (the paid part: the vendor's answer undecoded, journaled
    by the narration stage before anything else can fail) then :meth:`finish` (free, local: the WAV and the
    word timings). ``estimate`` is reserved in the ledger before the call."""

    modality: ClassVar[str] = "tts"
    default_voice: ClassVar[str] = ""

    def voice(self, request: SpeechRequest) -> str:
        """The vendor's voice for ``request``: the one it names (``--voice-name``), else :attr:`default_voice`.
        An espeak-ng style code from a storyboard (``en-us``) names no vendor voice."""
        wanted = request.voice
        return wanted if wanted and not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*", wanted) else self.default_voice

    def estimate(self, request: SpeechRequest) -> float:
        """Upper bound in USD of one call (reserved against the cap before it runs)."""
        return 0.0

    def payload(self, request: SpeechRequest) -> dict:
        """The vendor's request body (its hash names the call's journal entry)."""
        return request.model_dump(mode="json")

    def fetch(self, request: SpeechRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """Send the request; the answer undecoded (``data``: the audio bytes, ``details``: timings and usage).
        Raises ``ProviderRejected``, ``MalformedResponse``, ``UncertainCall`` or ``ProviderError``."""
        raise NotImplementedError

    def finish(self, request: SpeechRequest, received: Received, out_path: Path) -> SpeechResult:
        """The WAV at ``out_path`` and the word timings of a fetched answer. Raises ``MalformedResponse``."""
        raise NotImplementedError

    def synthesize(self, request: SpeechRequest, out_path: Path) -> SpeechResult:
        """:meth:`fetch` then :meth:`finish`, outside any project journal (the narration stage buys through
        :func:`storyreel.stages.purchase.purchase` instead)."""
        return self.finish(request, self.fetch(request, key=request_key(self.provider_id, self.payload(request))), out_path)


class HttpSpeechProvider(HttpProvider, SpeechProvider):
    """Base of voices that speak JSON over HTTP (:class:`HttpProvider`)."""
