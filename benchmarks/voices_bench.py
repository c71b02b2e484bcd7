"""The offline voices measured (issue 25): how well a machine listener understands them and what they cost.

For each voice (``local:espeak``, ``local:piper``) every shot of the fable's storyboard (the offline planner's, as
``storyreel make`` would narrate it) is synthesized, then:

- **intelligibility**: the word error rate of PocketSphinx (its bundled en-us model, default settings, audio
  resampled to 16 kHz) against the narration text, shot by shot, pooled over the fable (jiwer; lower-cased, no
  punctuation — numbers in the text are spelled out the way Piper reads them, the same for both voices);
- **cost**: synthesis seconds per minute of speech on this machine (the median of ``--runs`` passes, each voice
  loaded before the first; one process, two cores).

Run: ``pip install -e '.[bench]' && python benchmarks/voices_bench.py [--runs 3] [--json out.json]``."""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import wave
from math import gcd
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
INPUT = ROOT.parent / "shared" / "inputs" / "hare-and-tortoise.txt"
if not INPUT.exists():
    INPUT = ROOT / "examples" / "hare-and-tortoise.txt"
VOICES = ("local:espeak", "local:piper")


def narrations(workspace: Path) -> list[str]:
    """The fable's shot narrations as the offline planner cuts them."""
    from storyreel import api

    planned = api.plan(api.PlanRequest.build(input_path=INPUT, workspace=workspace))
    return [shot.narration for _, shot in planned.storyboard.shots()]


def _normal(text: str) -> str:
    from storyreel.providers.tts.text import spoken, tokens

    said = spoken(text, tokens(text, "en")).lower().replace("-", " ")
    return " ".join(re.sub(r"[^a-z' ]+", " ", said).split())


def _pcm16k(path: Path) -> bytes:
    from scipy.signal import resample_poly

    with wave.open(str(path)) as wf:
        audio, rate = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").astype(np.float32), wf.getframerate()
    g = gcd(16000, rate)
    return np.clip(resample_poly(audio, 16000 // g, rate // g), -32768, 32767).astype("<i2").tobytes()


def heard(path: Path) -> str:
    """What PocketSphinx (bundled en-us model, default settings) hears in the WAV."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000)
    decoder.start_utt()
    decoder.process_raw(_pcm16k(path), full_utt=True)
    decoder.end_utt()
    return decoder.hyp().hypstr if decoder.hyp() else ""


def measure(voice: str, texts: list[str], runs: int, out: Path) -> dict:
    import jiwer

    from storyreel.providers.base import SpeechRequest
    from storyreel.providers.registry import resolve

    provider = resolve("tts", voice)
    provider.synthesize(SpeechRequest(text="Loading the voice.", language="en"), out / "warm.wav")
    times, speech = [], 0.0
    for _ in range(runs):
        started, speech = time.perf_counter(), 0.0
        for i, text in enumerate(texts):
            speech += provider.synthesize(SpeechRequest(text=text, language="en"), out / f"{i}.wav").duration_s
        times.append(time.perf_counter() - started)
    references = [_normal(t) for t in texts]
    hypotheses = [" ".join(heard(out / f"{i}.wav").lower().split()) for i in range(len(texts))]
    per_shot = [jiwer.wer(r, h) for r, h in zip(references, hypotheses, strict=True)]
    return {"voice": voice, "shots": len(texts), "speech_s": round(speech, 2),
            "synthesis_s_per_speech_minute": round(statistics.median(times) / (speech / 60), 2),
            "wer": round(jiwer.wer(references, hypotheses), 3), "wer_per_shot": [round(w, 3) for w in per_shot]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        texts = narrations(Path(tmp) / "ws")
        results = []
        for voice in VOICES:
            folder = Path(tmp) / voice.replace(":", "-")
            folder.mkdir()
            results.append(measure(voice, texts, args.runs, folder))
    for r in results:
        print(f"{r['voice']:14} WER {r['wer']:.3f}  synthesis {r['synthesis_s_per_speech_minute']:5.2f} s per minute of speech "
              f"({r['shots']} shots, {r['speech_s']} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
