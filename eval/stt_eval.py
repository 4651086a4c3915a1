"""Built-in offline transcription on the shared clips: CER for Mandarin, WER for English, and timing.

    python eval/stt_eval.py                        # the chosen settings on the held-out clips (and tuning)
    python eval/stt_eval.py --sweep                # prompt, beam size and VAD variants on the tuning clips only
    python eval/stt_eval.py --json results.json    # also write every clip's hypothesis and score

The clips are split into a tuning part and a held-out part by a hash of the file name (SPLIT below), decided
before any setting was tried; only the tuning part is used to choose settings. CER is the character edit
distance over the reference length after dropping punctuation and spaces (both sides converted to simplified
characters); WER is the same over lower-cased words without punctuation.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = (ROOT / ".." / "shared" / "data" / "audio").resolve()
# References that are another model's output, not a human transcript (audio/README.md).
MODEL_REFERENCES = {"kimiaudio_asr_example.wav", "funasr_llamacpp_sample.wav"}


def split_of(file: str) -> str:
    """"tune" or "held": a fixed split by the SHA-256 of the file name (about 40 % tuning)."""
    return "tune" if int(hashlib.sha256(file.encode("utf-8")).hexdigest(), 16) % 5 < 2 else "held"


def load_clips(data: Path = DATA) -> list[dict]:
    """The clips with their reference, language and split."""
    clips = []
    for line in (data / "transcripts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row["split"] = split_of(row["file"])
        row["path"] = str(data / row["file"])
        clips.append(row)
    return clips


def _strip(text: str) -> str:
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "S", "Z")) and not ch.isspace())


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate: edit distance over reference characters (punctuation and spaces dropped)."""
    from nltk.metrics.distance import edit_distance

    from services.minutes.local_stt import to_simplified
    ref, hyp = _strip(to_simplified(reference)), _strip(to_simplified(hypothesis))
    return edit_distance(hyp, ref) / max(1, len(ref))


def wer(hypothesis: str, reference: str) -> float:
    """Word error rate: edit distance over reference words (lower case, punctuation dropped)."""
    from nltk.metrics.distance import edit_distance

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))
    ref = words(reference)
    return edit_distance(words(hypothesis), ref) / max(1, len(ref))


def long_recording(clips: list[dict], split: str, repeat: int) -> dict:
    """A longer recording (over Whisper's 30-second window): a split's Mandarin clips in turn, a second of silence
    between, the sequence repeated; the reference is their texts joined."""
    import numpy as np

    from services.minutes import local_stt
    chosen = [c for c in clips if c["lang"] == "zh" and c["split"] == split] * repeat
    silence = np.zeros(local_stt.SAMPLE_RATE, dtype=np.float32)
    samples = np.concatenate([part for c in chosen for part in (local_stt.decode(c["path"]), silence)])
    return {"file": f"long-{split}-x{repeat}", "lang": "zh", "split": split, "samples": samples,
            "text": "".join(c["text"] for c in chosen)}


def run_clip(clip: dict, settings: dict) -> dict:
    """One clip transcribed with the settings: hypothesis, error rate, seconds."""
    from services.minutes import local_stt
    samples = clip["samples"] if "samples" in clip else local_stt.decode(clip["path"])
    started = time.perf_counter()
    segments = list(local_stt.transcribe_samples(samples, language=clip["lang"], simplified=clip["lang"] == "zh",
                                                 **settings))
    seconds = time.perf_counter() - started
    text = ("" if clip["lang"] == "zh" else " ").join(s.text for s in segments)
    score = cer(text, clip["text"]) if clip["lang"] == "zh" else wer(text, clip["text"])
    return {"file": clip["file"], "lang": clip["lang"], "split": clip["split"], "hypothesis": text,
            "reference": clip["text"], "error": round(score, 4), "seconds": round(seconds, 2),
            "audio_s": round(len(samples) / local_stt.SAMPLE_RATE, 2)}


def pooled(rows: list[dict], lang: str, split: str | None = None, strict: bool = False) -> dict:
    """Error pooled over the single clips (sum of edits over sum of reference length) and the time spent."""
    chosen = [r for r in rows if r["lang"] == lang and (split is None or r["split"] == split)
              and not r["file"].startswith("long-")
              and not (strict and r["file"] in MODEL_REFERENCES)]
    if not chosen:
        return {"clips": 0}
    def length(r):
        return len(_strip(r["reference"])) if lang == "zh" else len(re.findall(r"[a-z0-9']+", r["reference"].lower()))
    total = sum(length(r) for r in chosen)
    return {"clips": len(chosen), "error": round(sum(r["error"] * length(r) for r in chosen) / total, 4),
            "mean_error": round(statistics.mean(r["error"] for r in chosen), 4),
            "seconds": round(sum(r["seconds"] for r in chosen), 1), "audio_s": round(sum(r["audio_s"] for r in chosen), 1)}


VARIANTS = {
    "chosen": {},
    "zh_prompt": {"initial_prompt": "以下是普通话的句子，使用简体中文。"},
    "meeting_prompt": {"initial_prompt": "好的，我们开始开会。"},
    "beam1": {"beam_size": 1},
    "beam3": {"beam_size": 3},
    "beam8": {"beam_size": 8},
    "no_vad": {"vad_filter": False},
    "cond_prev": {"condition_on_previous_text": True},
    "window10": {"window_s": 10.0},
    "window20": {"window_s": 20.0},
    "window_native": {"window_s": 0.0},
    "vad_default": {"vad_parameters": {}},
    "vad_tight": {"vad_parameters": {"min_silence_duration_ms": 300, "speech_pad_ms": 200, "threshold": 0.5}},
}


def main(argv: list[str] | None = None) -> int:
    """Print the scores; --sweep compares the variants on the tuning clips."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", action="store_true", help="try the variants on the tuning clips")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated variant names for --sweep")
    parser.add_argument("--json", default=None, help="write every clip's result here")
    args = parser.parse_args(argv)
    clips = load_clips()
    print("split:", json.dumps({s: [c["file"] for c in clips if c["split"] == s] for s in ("tune", "held")},
                               ensure_ascii=False))
    from services.minutes import local_stt
    started = time.perf_counter()
    local_stt.load_model()
    print(f"model loaded in {time.perf_counter() - started:.1f} s")
    results = {}
    if args.sweep:
        tune = [c for c in clips if c["split"] == "tune"]
        long = long_recording(clips, "tune", repeat=3)
        for name in args.variants.split(","):
            rows = [run_clip(c, VARIANTS[name]) for c in tune]
            longest = run_clip(long, VARIANTS[name])
            results[name] = rows + [longest]
            print(f"{name:12s} tune zh CER {pooled(rows, 'zh')} | en WER {pooled(rows, 'en')} | "
                  f"{long['file']} ({longest['audio_s']} s) CER {longest['error']} in {longest['seconds']} s")
    else:
        rows = [run_clip(c, {}) for c in clips] + [run_clip(long_recording(clips, "held", repeat=1), {})]
        results["chosen"] = rows
        for r in rows:
            print(f"  {r['split']:4s} {r['lang']} {r['error']:.3f} {r['seconds']:5.1f}s/{r['audio_s']:5.1f}s "
                  f"{r['file']}: {r['hypothesis']}")
        for split in ("tune", "held"):
            print(f"{split}: zh CER {pooled(rows, 'zh', split)} | zh CER human refs only "
                  f"{pooled(rows, 'zh', split, strict=True)} | en WER {pooled(rows, 'en', split)}")
        print(f"all: zh CER {pooled(rows, 'zh')} | en WER {pooled(rows, 'en')}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
