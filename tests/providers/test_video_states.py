"""Every video vendor's job statuses map onto storyreel's six job states (issue 26: queued, running, succeeded,
failed, moderated, canceled); a refusal on content is ``moderated``, a status off the wire format an error."""

from __future__ import annotations

import pytest

from storyreel.core.errors import MalformedResponse
from storyreel.providers import replicate
from storyreel.providers.base import JobState
from storyreel.providers.video import fal_video, gemini_video, runway_video


def test_each_vendors_statuses_are_normalized() -> None:
    assert replicate.state({"status": "starting"}) is JobState.QUEUED and replicate.state({"status": "processing"}).waiting
    assert replicate.state({"status": "failed", "error": "The input or output was flagged as sensitive (E005)"}) is JobState.MODERATED
    assert replicate.state({"status": "failed", "error": "CUDA out of memory"}) is JobState.FAILED
    assert replicate.state({"status": "aborted"}) is JobState.CANCELED
    assert runway_video.state({"status": "THROTTLED"}) is JobState.QUEUED
    assert runway_video.state({"status": "FAILED", "failureCode": "SAFETY.OUTPUT.VIDEO"}) is JobState.MODERATED
    assert runway_video.state({"status": "FAILED", "failureCode": "INTERNAL.BAD_OUTPUT"}) is JobState.FAILED
    assert gemini_video.state({"status": "budget_exceeded"}) is JobState.FAILED
    assert gemini_video.state({"status": "failed", "errors": [{"message": "blocked by the safety filters"}]}) is JobState.MODERATED
    assert gemini_video.state({"status": "cancelled"}) is JobState.CANCELED
    assert set(fal_video.STATES.values()) == {JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED}
    for mapped in (replicate.STATES, runway_video.STATES, gemini_video.STATES):
        assert JobState.MODERATED not in mapped.values()  # moderated comes from the failure's reason, never a status name
    for state in (replicate.state, runway_video.state, gemini_video.state):
        with pytest.raises(MalformedResponse):
            state({"status": "exploded"})
