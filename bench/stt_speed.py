"""Speed of the built-in offline transcription: model load, and seconds of decoding per second of audio (median).

    python bench/stt_speed.py               # 3 runs of a 53-s recording of the nine shared Mandarin clips
    python bench/stt_speed.py --runs 5
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = (ROOT / ".." / "shared" / "data" / "audio").resolve()


def recording():
    """The nine Mandarin clips in turn with a second of silence between, as 16 kHz samples."""
    import numpy as np

    from services.minutes import local_stt
    rows = [json.loads(line) for line in (DATA / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()]
    silence = np.zeros(local_stt.SAMPLE_RATE, dtype=np.float32)
    return np.concatenate([part for row in rows if row["lang"] == "zh"
                           for part in (local_stt.decode(DATA / row["file"]), silence)])


def main(argv: list[str] | None = None) -> int:
    """Print load time and the median real-time factor."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from services.minutes import local_stt
    started = time.perf_counter()
    local_stt.load_model()
    print(f"model check and load: {time.perf_counter() - started:.1f} s")
    samples = recording()
    audio_s = len(samples) / local_stt.SAMPLE_RATE
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        list(local_stt.transcribe_samples(samples, language="zh", simplified=True))
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"audio {audio_s:.1f} s; decoding {', '.join(f'{t:.1f}' for t in times)} s; median {median:.1f} s "
          f"= {median / audio_s:.2f} s per audio second ({audio_s / median:.1f}x real time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
