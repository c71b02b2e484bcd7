"""Error types shared by every layer.

The CLI maps :class:`InputError` to exit code 2 (bad input, nothing written) and every other
:class:`StoryreelError` to exit code 1 (a stage or provider failed).
"""

from __future__ import annotations


class StoryreelError(Exception):
    """Base class for errors storyreel reports to the user (message is user-facing)."""

    exit_code = 1


class InputError(StoryreelError):
    """Bad user input: names the field, line or limit and how to fix it. Exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.field = field
        self.hint = hint
        text = f"{field}: {message}" if field else message
        if hint:
            text = f"{text}\n  fix: {hint}"
        super().__init__(text)

    def renamed(self, field: str) -> InputError:
        """The same error naming the field as the user typed it (e.g. ``--aspect-ratio`` for ``aspect_ratio``)."""
        return InputError(self.message, field=field, hint=self.hint)


class StageError(StoryreelError):
    """One or more nodes failed; the message lists them and what was not made because of them.
    ``report`` is the engine's run report when the error comes from an evaluation."""

    def __init__(self, message: str, *, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class ProviderError(StoryreelError):
    """A provider (local engine or vendor API) failed to produce its output."""


class ConfigError(ProviderError):
    """A provider cannot be used as configured (missing or invalid key, unknown model, unreachable or
    forbidden base URL). Not a content decision: it fails loudly instead of leaving a stand-in, and the
    message says what to set. Exit code 1."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  fix: {hint}" if hint else message)


class UncertainCall(ProviderError):
    """A paid request was sent but its answer was lost (read timeout, reset connection, gateway error): the
    vendor may have done and billed the work. Not retried blindly; the ledger keeps its estimate as
    *uncertain*. Exit code 1."""


class UnusableAnswer(UncertainCall):
    """A paid request was answered (and billed) but the answer could not be used — a model's structured
    output that kept failing validation. Its exact cost is unknown: the ledger keeps its estimate as
    *uncertain*. Exit code 1."""


class CostLimitReached(StoryreelError):
    """A paid call would take the project over its cost cap (``max_cost_usd``); the message says what was
    spent, the cap and what is left undone."""

    def __init__(self, message: str, *, spent: float, cap: float) -> None:
        super().__init__(message)
        self.spent = spent
        self.cap = cap


class TransientError(ProviderError):
    """A failure worth retrying (429, 5xx, timeout, connection). ``retry_after`` in seconds if the server said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    """The provider refused the content (moderation, safety filter). ``reason`` is the provider's own text."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"rejected by the provider: {reason}")
        self.reason = reason


class MalformedResponse(ProviderError):
    """The provider answered 2xx with a body that does not follow its documented format."""
