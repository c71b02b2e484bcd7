"""Replicate's predictions wire, shared by ``replicate:`` images and video clips (one vendor, one wire).

Create ``POST {base}/models/{owner}/{model}/predictions`` with ``{"input": {...}}``, then poll
``GET {base}/predictions/{id}`` until the status is terminal (``succeeded``, ``failed``, ``canceled``,
``aborted``); past a deadline the prediction is cancelled (``POST /predictions/{id}/cancel``). Replicate has
no idempotency key: a prediction is created once — its ID goes into the received journal as soon as the create
answers, and a run that stopped while polling polls the same prediction again. When the create's own answer is
lost (timeout, reset) the recent predictions are listed (``GET {base}/predictions``, newest first, each with its
input) and one with exactly our input is adopted; only when none is there is the create repeated.
Reference: https://replicate.com/docs/reference/http (read 2026-12).
"""

from __future__ import annotations

import re
import time
from typing import Any

from storyreel.core.cancel import Canceled, checkpoint
from storyreel.core.errors import MalformedResponse, ProviderError, ProviderRejected, UncertainCall
from storyreel.providers.base import Deduplication, JobLog, JobState
from storyreel.providers.http import poll_waits

STATES = {"starting": JobState.QUEUED, "processing": JobState.RUNNING, "succeeded": JobState.SUCCEEDED,
          "failed": JobState.FAILED, "canceled": JobState.CANCELED, "aborted": JobState.CANCELED}
"""Replicate's prediction statuses (https://replicate.com/docs/reference/http#predictions.get) as :class:`JobState`;
a failure whose error names a safety or moderation reason is ``moderated`` (:func:`state`)."""
REJECTION = re.compile(r"nsfw|safety|sensitive|content policy|moderation|flagged", re.I)


def state(prediction: dict) -> JobState:
    """The prediction's normalized state. Raises :class:`MalformedResponse` for a status off the wire format."""
    found = STATES.get(str(prediction.get("status")))
    if found is None:
        raise MalformedResponse(f"replicate: prediction {prediction.get('id')} has status {prediction.get('status')!r}")
    if found is JobState.FAILED and REJECTION.search(str(prediction.get("error") or "")):
        return JobState.MODERATED
    return found
DEDUPLICATION = Deduplication(  # no idempotency key; an earlier attempt's prediction is found in the list and adopted
    "adopt-by-listing", "https://replicate.com/docs/reference/http#predictions.list (newest first, with each input)", "2026-12")


class Predictions:
    """One model's predictions over a vendor client (``provider.http``, ``provider.create``): ``run(payload,
    jobs, deadline_s, poll_s)`` → the succeeded prediction. ``provider`` is the adapter (an ``HttpProvider``)."""

    def __init__(self, provider: Any, model: str) -> None:
        self.provider = provider
        self.model = model

    def run(self, payload: dict, jobs: JobLog | None, *, deadline_s: float, poll_s: float) -> dict:
        """The prediction of ``payload`` — the one an earlier attempt created (its ID in ``jobs``, or found in the
        list after a create that went out) unless it ended without an output, else a new one, recorded at once —
        polled to its end. Raises
        :class:`ProviderRejected` for a failure that names a safety or moderation reason (never retried),
        :class:`ProviderError` for any other failure, a cancel or the deadline (the prediction is then cancelled
        at the vendor), :class:`MalformedResponse` for an answer off the wire format."""
        known = jobs.job_id() if jobs is not None else None
        prediction = self.provider.http.request("GET", f"/predictions/{known}") if known else None
        if prediction is not None and state(prediction) not in (JobState.SUCCEEDED, JobState.QUEUED, JobState.RUNNING):
            prediction = None  # the journaled prediction ended without an output (refused, cancelled): this run asks anew
        if prediction is None:  # a create that went out before (the journal says so) may have made a prediction: look for it first
            earlier = self.find(payload["input"]) if jobs is not None and jobs.attempted() and not known else None
            prediction = earlier or self.create(payload, jobs)
            if jobs is not None and prediction.get("id"):
                jobs.record_job(str(prediction["id"]))
        prediction = self.finished(prediction, deadline_s, poll_s)
        ended = state(prediction)
        if ended is not JobState.SUCCEEDED:
            error = str(prediction.get("error") or prediction.get("status"))
            if ended is JobState.MODERATED:
                raise ProviderRejected(error)
            raise ProviderError(f"replicate: prediction {prediction.get('id')} {ended.value}: {error}")
        return prediction

    def create(self, payload: dict, jobs: JobLog | None) -> dict:
        """Create the prediction; when the create's answer is lost, adopt the prediction the vendor made from it
        if the list shows one, else create again (it was not made)."""
        path = f"/models/{self.model}/predictions"
        try:
            return self.provider.create(path, payload, jobs=jobs)
        except UncertainCall:
            made = self.find(payload["input"])
            if made is not None:
                return made
            return self.provider.create(path, payload, jobs=jobs)

    def find(self, inputs: dict) -> dict | None:
        """A recent prediction of this model with exactly ``inputs`` that is still running or succeeded (the first
        page of ``GET /predictions``); one that failed or was cancelled is not adopted."""
        listing = self.provider.http.request("GET", "/predictions")
        for item in listing.get("results") or []:
            if isinstance(item, dict) and item.get("input") == inputs and str(item.get("model", self.model)) == self.model \
                    and STATES.get(str(item.get("status"))) in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED):
                return item
        return None

    def cancel(self, prediction_id: str) -> None:
        """Ask the vendor to stop a prediction (best effort: the reason we cancel is the error to report)."""
        try:
            self.provider.http.request("POST", f"/predictions/{prediction_id}/cancel", idempotent=True)
        except ProviderError:
            pass

    def finished(self, prediction: dict, deadline_s: float, poll_s: float) -> dict:
        """Poll until the status is terminal (waits growing from ``poll_s``, :func:`~storyreel.providers.http.poll_waits`); past ``deadline_s`` cancel the prediction and
        raise :class:`ProviderError`; a stopped job cancels it too (:class:`Canceled`, ``call_in_flight``)."""
        deadline = time.monotonic() + deadline_s
        waits = poll_waits(poll_s)
        while state(prediction).waiting:
            if "id" not in prediction:
                raise MalformedResponse("replicate: the prediction has no id")
            if time.monotonic() > deadline:
                self.cancel(prediction["id"])
                raise ProviderError(f"replicate: prediction {prediction['id']} still {prediction.get('status')} after "
                                    f"{deadline_s:.0f} s; cancelled")
            time.sleep(min(next(waits), max(0.0, deadline - time.monotonic()) + 0.01))
            try:
                checkpoint()
            except Canceled:  # the job stopped: stop the vendor's work too (it may bill the seconds already run)
                self.cancel(prediction["id"])
                raise Canceled(f"canceled; replicate prediction {prediction['id']} cancelled at the vendor", call_in_flight=True) from None
            prediction = self.provider.http.request("GET", f"/predictions/{prediction['id']}")
        return prediction
