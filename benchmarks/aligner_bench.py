"""The local aligner measured against true word timings (issue 25).

Piper's word timings are exact (the model's own phoneme durations), so Piper reads each shot of a text, the
aligner is given only the audio and the text, and its word starts are compared with Piper's: the median and
95th-percentile absolute error, for each method — ``pocketsphinx`` (English) and ``dtw-espeak`` (every
language; DTW against espeak-ng's reading, which flatters nothing here because the voice is not espeak-ng's).

``--calibrate`` reads the Gettysburg Address instead and prints the median signed offset of pocketsphinx's word
starts (the constant :data:`storyreel.providers.tts.aligner.SPHINX_LEAD_S`, set from that text, never from the
fable that is scored). Also printed: aligner seconds per minute of speech.

Run: ``python benchmarks/aligner_bench.py [--calibrate] [--json out.json]``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
FABLE = INPUTS / "hare-and-tortoise.txt" if (INPUTS / "hare-and-tortoise.txt").exists() else ROOT / "examples" / "hare-and-tortoise.txt"
CALIBRATION = INPUTS / "gettysburg-address.txt" if (INPUTS / "gettysburg-address.txt").exists() else ROOT / "examples" / "gettysburg-address.txt"


def narrations(path: Path, workspace: Path) -> list[str]:
    """The text's shot narrations as the offline planner cuts them."""
    from storyreel import api

    planned = api.plan(api.PlanRequest.build(input_path=path, workspace=workspace))
    return [shot.narration for _, shot in planned.storyboard.shots()]


def measure(texts: list[str], out: Path, lead: float | None = None) -> dict:
    """Signed start errors (aligner − Piper, seconds) per method over every word of ``texts``."""
    from storyreel.providers.base import SpeechRequest
    from storyreel.providers.tts import aligner
    from storyreel.providers.tts.local_piper import LocalPiper

    if lead is not None:
        aligner.SPHINX_LEAD_S = aligner.DTW_LEAD_S = lead
    piper = LocalPiper()
    errors: dict[str, list[float]] = {"pocketsphinx": [], "dtw-espeak": []}
    seconds: dict[str, float] = {"pocketsphinx": 0.0, "dtw-espeak": 0.0}
    speech = 0.0
    fallbacks = 0
    for i, text in enumerate(texts):
        wav = out / f"{i}.wav"
        truth = piper.synthesize(SpeechRequest(text=text, language="en"), wav).words
        with wave.open(str(wav)) as wf:
            samples, rate = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2"), wf.getframerate()
        speech += len(samples) / rate
        audio = aligner._to_16k(samples, rate)
        words = aligner.tokens(text, "en")
        for method in errors:
            t0 = time.perf_counter()
            starts = aligner._sphinx(audio, words) if method == "pocketsphinx" else aligner._dtw(audio, text, "en", words)
            seconds[method] += time.perf_counter() - t0
            if starts is None:
                fallbacks += 1
                continue
            errors[method] += [s - w.start_s for s, w in zip(starts, truth, strict=True) if s is not None]
    return {"errors": errors, "seconds": seconds, "speech_s": speech, "sphinx_no_path": fallbacks}


def summary(result: dict) -> dict:
    rows = {}
    for method, errs in result["errors"].items():
        e = np.abs(np.array(errs))
        rows[method] = {"words": len(errs), "median_ms": round(float(np.median(e)) * 1000, 1),
                        "p95_ms": round(float(np.percentile(e, 95)) * 1000, 1),
                        "signed_median_ms": round(float(np.median(errs)) * 1000, 1),
                        "seconds_per_speech_minute": round(result["seconds"][method] / result["speech_s"] * 60, 2)}
    return {"speech_s": round(result["speech_s"], 1), "sphinx_no_path": result["sphinx_no_path"], "methods": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="measure pocketsphinx's offset on the Gettysburg Address")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = CALIBRATION if args.calibrate else FABLE
        texts = narrations(source, Path(tmp) / "ws")
        result = measure(texts, Path(tmp), lead=0.0 if args.calibrate else None)
    report = {"text": source.name, **summary(result)}
    if args.calibrate:
        report["sphinx_lead_s"] = round(-float(np.median(result["errors"]["pocketsphinx"])), 3)
        report["dtw_lead_s"] = round(-float(np.median(result["errors"]["dtw-espeak"])), 3)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
