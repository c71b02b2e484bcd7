"""``local`` narration: the offline voices and which one speaks a language.

``local:piper`` (a neural voice, :mod:`~storyreel.providers.tts.local_piper`) for the languages with a
bundled Piper voice — English today — and ``local:espeak`` (:mod:`~storyreel.providers.tts.local_espeak`) for
every other language espeak-ng speaks (Turkish, German, …). ``local`` alone (the default ``STORYREEL_TTS_PROVIDER``)
picks per project language with :func:`for_language`."""

from __future__ import annotations

from typing import Any, ClassVar

from storyreel.core.errors import InputError
from storyreel.providers.base import LocalProvider

PIPER_LANGUAGES = {"en": "en_US-joe-medium"}
"""Language (ISO 639-1) → the bundled Piper voice that speaks it."""
MODELS = ("piper", "espeak")


def for_language(provider_id: str, language: str) -> str:
    """The provider ID that narrates ``language`` for ``provider_id``: ``local`` (or ``local:auto``) becomes
    ``local:piper`` when a bundled Piper voice speaks the language and is installed, else ``local:espeak``;
    any other ID is kept."""
    if provider_id not in ("local", "local:auto"):
        return provider_id
    from storyreel.providers.tts.local_piper import bundled_voices

    voice = PIPER_LANGUAGES.get(language.split("-")[0].lower())
    return "local:piper" if voice is not None and voice in bundled_voices() else "local:espeak"


def check_voice_name(provider_id: str, name: str | None) -> None:
    """Refuse, before any work, a voice name no installed Piper voice has when ``provider_id`` would read English
    with Piper (``local`` or ``local:piper``); an espeak-ng style code (``en-us``) is left to espeak-ng. Raises
    :class:`InputError` (field ``voice_name``) naming the installed voices."""
    import re

    if not name or provider_id not in ("local", "local:auto", "local:piper") or re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*", name):
        return
    from storyreel.providers.tts.local_piper import bundled_voices

    if name not in bundled_voices():
        raise InputError(f"no Piper voice {name!r} is installed", field="voice_name",
                         hint=f"installed: {', '.join(bundled_voices()) or 'none'}")


class LocalVoice(LocalProvider):
    """The ``local`` vendor of the ``tts`` modality: ``LocalVoice("piper")`` is a
    :class:`~storyreel.providers.tts.local_piper.LocalPiper`, ``LocalVoice("espeak")`` a
    :class:`~storyreel.providers.tts.local_espeak.LocalEspeak`. Raises :class:`InputError` for another model."""

    modality: ClassVar[str] = "tts"
    code_version: ClassVar[str] = "local-voice/1"  # the chooser only: the voices carry their own versions
    default_model: ClassVar[str] = "espeak"

    def __new__(cls, model: str | None = None, settings: Any = None) -> Any:  # noqa: D102
        name = model or cls.default_model
        if name == "piper":
            from storyreel.providers.tts.local_piper import LocalPiper

            return LocalPiper(name, settings)
        if name == "espeak":
            from storyreel.providers.tts.local_espeak import LocalEspeak

            return LocalEspeak(name, settings)
        raise InputError(f"no local voice {name!r}", field="voice", hint="use local, local:piper or local:espeak")
