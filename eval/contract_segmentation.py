"""Measure clause segmentation: exactness on the hand-read Chinese lease, boundaries on the CUAD contracts.

Run from the repository root:  python eval/contract_segmentation.py [--json]
"""
from __future__ import annotations

import argparse
import ast
import os
import csv
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.contracts.segment import paragraphs, segment_text  # noqa: E402

# ../shared/data next to the repository; SHARED_DATA points elsewhere (e.g. from a git worktree).
DATA = Path(os.environ.get("SHARED_DATA", ROOT / ".." / "shared" / "data")) / "contracts"


def lease_exactness(data: Path = DATA) -> dict:
    """Ids, titles and text of every clause of lease_sample_01 against the hand reading and the file itself."""
    text = (data / "zh" / "lease_sample_01.txt").read_text(encoding="utf-8")
    expected = json.loads((data / "zh" / "lease_sample_01.expected.json").read_text(encoding="utf-8"))
    seg = segment_text(text)
    want = [(c["id"], c["topic"]) for c in expected["clauses"]]
    got = [(c.id, c.title) for c in seg.clauses]
    # Every non-space character of the file is in exactly one of preamble, a clause, or the signature block.
    pieces = [seg.preamble] + [c.text for c in seg.clauses] + [seg.tail]
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    lossless = squash("".join(pieces)) == squash(text)
    # Each clause's text is exactly the lines from its heading to the line before the next heading.
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"第[一二三四五六七八九十]+条", line)]
    by_hand = []
    for k, i in enumerate(starts):
        j = starts[k + 1] if k + 1 < len(starts) else next(
            n for n in range(i + 1, len(lines)) if lines[n].startswith("甲方（盖章）"))
        by_hand.append("\n".join(lines[i:j]).strip())
    text_exact = sum(1 for a, b in zip(by_hand, [c.text for c in seg.clauses]) if a == b)
    return {
        "expected": len(want),
        "found": len(got),
        "ids_exact": sum(1 for a, b in zip(want, got) if a[0] == b[0]),
        "titles_exact": sum(1 for a, b in zip(want, got) if a[1] == b[1]),
        "text_exact": text_exact,
        "lossless": lossless,
        "all_exact": want == got and text_exact == len(want) and lossless,
    }


def _squash_map(text: str) -> tuple[str, list[int]]:
    """Text without whitespace, and for each kept character its offset in the original."""
    chars, offsets = [], []
    for i, ch in enumerate(text):
        if not ch.isspace():
            chars.append(ch)
            offsets.append(i)
    return "".join(chars), offsets


def cuad_boundaries(data: Path = DATA, segmenter=segment_text) -> dict:
    """How often a lawyer-annotated CUAD clause lies inside one segment rather than being cut by a boundary."""
    rows = list(csv.DictReader((data / "en" / "cuad_master_clauses_subset.csv").open(encoding="utf-8")))
    per_doc = []
    tightness: list[float] = []
    for row in rows:
        path = data / "en" / (Path(row["Filename"]).stem + ".txt")
        if not path.exists():
            continue
        raw = path.read_text(encoding="utf-8", errors="replace")
        seg = segmenter(raw)
        text = seg.text
        squashed, offsets = _squash_map(text)
        bounds = [(0, seg.clauses[0].start if seg.clauses else len(text))]
        bounds += [(c.start, seg.clauses[i + 1].start if i + 1 < len(seg.clauses) else c.end)
                   for i, c in enumerate(seg.clauses)]
        if seg.clauses:
            bounds.append((seg.clauses[-1].end, len(text)))
        located = inside = 0
        for column, value in row.items():
            if column in ("Filename", "Document Name", "Parties", "Agreement Date", "Effective Date") or \
                    column.endswith("Answer") or not value or not value.startswith("["):
                continue
            try:
                excerpts = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                continue
            for excerpt in excerpts:
                key = re.sub(r"\s+", "", excerpt)
                if len(key) < 20:
                    continue
                pos = squashed.find(key)
                if pos == -1:
                    continue
                located += 1
                start, end = offsets[pos], offsets[pos + len(key) - 1]
                home = [(s, e) for s, e in bounds if s <= start and end < e]
                if home:
                    inside += 1
                    s, e = home[0]
                    tightness.append(len(key) / max(1, len(re.sub(r"\s+", "", text[s:e]))))
        tops = sorted({int(c.number.split(".")[0]) for c in seg.clauses if c.number and c.number[0].isdigit()})
        continuity = len(tops) / max(tops) if tops else 0.0
        lengths = [len(c.text) for c in seg.clauses]
        per_doc.append({
            "file": path.name[:60],
            "method": seg.method,
            "scheme": seg.scheme,
            "notes": seg.notes,
            "clauses": len(seg.clauses),
            "median_chars": int(statistics.median(lengths)) if lengths else 0,
            "top_level_continuity": round(continuity, 3),
            "excerpts_located": located,
            "excerpts_inside_one_segment": inside,
        })
    located = sum(d["excerpts_located"] for d in per_doc)
    inside = sum(d["excerpts_inside_one_segment"] for d in per_doc)
    numbered = [d for d in per_doc if d["method"] == "numbered"]
    return {
        "documents": len(per_doc),
        "numbered": len(numbered),
        "paragraph_fallback": len(per_doc) - len(numbered),
        "excerpts_located": located,
        "excerpts_inside_one_segment": inside,
        "inside_rate": round(inside / located, 3) if located else None,
        # Share of its segment an annotated excerpt fills (1.0 = the segment is exactly the lawyer's clause);
        # guards against a trivially "perfect" inside-rate from one giant segment.
        "median_excerpt_share_of_segment": round(statistics.median(tightness), 3) if tightness else None,
        "median_top_level_continuity": statistics.median(d["top_level_continuity"] for d in numbered) if numbered else None,
        "per_document": per_doc,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (real contracts live in ../shared/data)")
        return 0
    result = {"lease": lease_exactness(), "cuad": cuad_boundaries(),
              "cuad_paragraph_baseline": cuad_boundaries(segmenter=paragraphs)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    lease = result["lease"]
    print(f"lease_sample_01: {lease['found']}/{lease['expected']} clauses; ids exact {lease['ids_exact']}, "
          f"titles exact {lease['titles_exact']}, text exact {lease['text_exact']}, lossless {lease['lossless']}")
    cuad = result["cuad"]
    print(f"CUAD: {cuad['documents']} contracts ({cuad['numbered']} by numbering, {cuad['paragraph_fallback']} by "
          f"paragraphs); {cuad['excerpts_inside_one_segment']}/{cuad['excerpts_located']} annotated excerpts inside "
          f"one segment ({cuad['inside_rate']}); median share of its segment an excerpt fills "
          f"{cuad['median_excerpt_share_of_segment']}; median top-level numbering continuity "
          f"{cuad['median_top_level_continuity']}")
    base = result["cuad_paragraph_baseline"]
    print(f"baseline (blank-line paragraphs, no numbering): {base['excerpts_inside_one_segment']}/"
          f"{base['excerpts_located']} inside one segment ({base['inside_rate']}); median share "
          f"{base['median_excerpt_share_of_segment']}")
    print(f"{'file':60} {'method':10} {'clauses':>7} {'median':>6} {'contin':>6} {'inside':>9}")
    for d in cuad["per_document"]:
        print(f"{d['file']:60} {d['method']:10} {d['clauses']:7} {d['median_chars']:6} {d['top_level_continuity']:6} "
              f"{d['excerpts_inside_one_segment']:4}/{d['excerpts_located']:<4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
