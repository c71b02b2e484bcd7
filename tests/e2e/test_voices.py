"""The default voice (issue 25): the audio of the bundled Piper voice is speech (measured, not listened to), its
word timings are the model's own, and a change of voice re-runs narration and what follows — never an image,
a prompt or the plan. That every input makes a video to spec with the default voice (Piper for English,
espeak-ng for Turkish) is checked by ``tests/e2e/test_make.py``."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from ..conftest import INPUTS, cli_json, run_cli

pytestmark = pytest.mark.e2e


def _samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as wf:
        return np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").astype(np.float64) / 32768.0, wf.getframerate()


def speech_measures(path: Path) -> dict:
    """Listen-free measures of a narration WAV: the share of 20 ms frames that are voiced (RMS over −34 dBFS
    and a zero-crossing rate under 0.25: periodic, not hiss), the share of clipped samples, the duration."""
    audio, rate = _samples(path)
    n = int(0.02 * rate)
    frames = audio[: len(audio) // n * n].reshape(-1, n)
    rms = np.sqrt((frames ** 2).mean(axis=1))
    zcr = (np.abs(np.diff(np.sign(frames), axis=1)) > 0).mean(axis=1)
    return {"voiced": float(((rms > 0.02) & (zcr < 0.25)).mean()), "clipped": float((np.abs(audio) >= 32760 / 32768).mean()),
            "duration_s": len(audio) / rate}


def _sidecars(ws: Path, pid: str) -> dict[str, dict]:
    """Each shot's narration sidecar (``audio/<shot>.json``), by shot ID."""
    root = ws / "projects" / pid
    board = json.loads((root / "storyboard.json").read_text())
    return {s["shot_id"]: json.loads((root / "audio" / f"{s['shot_id']}.json").read_text()) for ch in board["chapters"] for s in ch["shots"]}


def test_a_new_voice_remakes_narration_never_images_and_piper_is_speech_paced_like_espeak(tmp_path: Path) -> None:
    """The fable made with espeak-ng, then again with the default voice: the second make re-runs narration and
    what follows, no image, prompt or plan node. Piper's audio is voiced, unclipped and within 0.5–2× espeak's
    length; its word timings follow the text, in order, inside the audio."""
    ws = tmp_path / "ws"
    fable = str(INPUTS / "hare-and-tortoise.txt")
    first = cli_json("make", fable, "--voice", "local:espeak", "--speech-rate", "150", workspace=ws)
    root = ws / "projects" / first["project_id"]
    assert json.loads((root / "options.json").read_text()) == {"resolution": "360p", "voice": "local:espeak", "speech_rate": 150}
    espeak = {shot: speech_measures(root / "audio" / f"{shot}.wav") for shot in _sidecars(ws, first["project_id"])}

    refused = run_cli("make", fable, "--voice", "local", "--voice-name", "en_GB-alan", workspace=ws)
    assert refused.returncode == 2 and "--voice-name: no Piper voice 'en_GB-alan' is installed" in refused.stderr
    assert "installed: en_US-joe-medium" in refused.stderr
    assert json.loads((root / "options.json").read_text())["voice"] == "local:espeak"  # refused before anything was kept

    again = cli_json("make", fable, "--voice", "local", "--speech-rate", "165", workspace=ws)
    assert again["project_id"] == first["project_id"]
    stages = {node.split("[")[0] for node in again["executed_nodes"]}
    assert {"narration", "audio_segment", "mix", "render", "qc"} <= stages
    assert not stages & {"plan", "image_prompt", "enhance", "reference", "image", "select", "manifest"}, stages

    board = json.loads((root / "storyboard.json").read_text())
    narrations = {s["shot_id"]: s["narration"] for ch in board["chapters"] for s in ch["shots"]}
    for shot, sidecar in _sidecars(ws, again["project_id"]).items():
        assert sidecar["provider"] == "local:piper/en_US-joe-medium"
        measured = speech_measures(root / "audio" / f"{shot}.wav")
        assert 0.35 <= measured["voiced"] <= 0.95, (shot, measured)
        assert measured["clipped"] < 1e-4, (shot, measured)
        assert 0.5 <= measured["duration_s"] / espeak[shot]["duration_s"] <= 2.0, (shot, measured, espeak[shot])
        words = sidecar["words"]
        starts = [w["start_s"] for w in words]
        assert starts == sorted(starts) and words[-1]["end_s"] <= sidecar["duration_s"] + 1e-6
        assert all(w["end_s"] >= w["start_s"] for w in words)
        assert [narrations[shot][w["char_start"]:w["char_end"]] for w in words] == [w["word"] for w in words]
