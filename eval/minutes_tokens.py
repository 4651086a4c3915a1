"""Real (Qwen2.5) tokens against the estimate the minutes are planned with, per part of every shared meeting.

    python eval/minutes_tokens.py                  # the built-in 1.5B model's tokenizer (vocabulary only)

Checks the sizing of docs/minutes.md: each part's real tokens plus the real rules-and-schema tokens plus the
answer reserve must fit in the 8,192-token window. Only the tokenizer is loaded, no weights are run.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from llama_cpp import Llama

    from eval.minutes_eval import load_meetings, split_of
    from services import i18n
    from services.llm import estimate_tokens
    from services.local_model import files
    from services.minutes.generate import (FOLLOWUP_SUMMARY_TOKENS, answer_tokens, followup_answer_tokens,
                                           items_prompt, part_budget, part_prompt, split_on_turns, system_prompt,
                                           transcript_sample)
    from services.minutes.schema import FullMinutes, PartItems
    from services.minutes.transcript import transcript_from_rows
    from services.providers import model_info
    from services.providers.base import Connection

    conn = Connection(provider="local", model="qwen2.5-coder-1.5b-instruct")
    spec = files.MODEL_FILES[conn.model]
    llm = Llama(model_path=str(files.cache_dir() / spec.file_name), vocab_only=True, verbose=False)
    window = model_info(conn).context_window
    answer = min(answer_tokens(conn), window // 4)

    def real(text: str) -> int:
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    schema = json.dumps(FullMinutes.model_json_schema(), ensure_ascii=False)
    systems = {lang: system_prompt("general", lang) + "\n\n" + i18n.t("llm.json_instruction", lang, schema=schema)
               for lang in ("zh", "en")}
    items_schema = json.dumps(PartItems.model_json_schema(), ensure_ascii=False)
    follow = {lang: items_prompt(99999, 99999, lang) + "\n\n" + i18n.t("llm.json_instruction", lang, schema=items_schema)
              for lang in ("zh", "en")}
    # the repeated summary at its cap: Chinese or English prose of FOLLOWUP_SUMMARY_TOKENS estimated tokens
    summary = {"zh": "会议讨论了预算和进度。" * (FOLLOWUP_SUMMARY_TOKENS // 10),
               "en": "The meeting discussed the budget. " * (FOLLOWUP_SUMMARY_TOKENS // 8)}
    print("| meeting | split | parts | real/estimate (min–max) | largest part, real tokens | "
          "+ rules & schema + answer reserve | + items follow-up and its answer | window |")
    print("|---|---|---|---|---|---|---|---|")
    for m in load_meetings():
        t = transcript_from_rows(m["rows"], m["id"], "json")
        parts = split_on_turns(t, part_budget(conn, m["lang"], "general", transcript_sample(t)))
        texts = [part_prompt(p, i, len(parts), m["lang"]) for i, p in enumerate(parts, 1)]
        ratios = [real(x) / estimate_tokens(x) for x in texts]
        largest = max(real(x) for x in texts)
        total = largest + real(systems[m["lang"]]) + answer
        # the follow-up: the same request, the summary, the question and its schema, its own (smaller) answer
        followup = (largest + real(systems[m["lang"]]) + real(summary[m["lang"]]) + real(follow[m["lang"]]) + 20 +
                    followup_answer_tokens(conn, m["lang"]))
        print(f"| {m['id']} | {split_of(m['id'])} | {len(parts)} | {min(ratios):.2f}–{max(ratios):.2f} | {largest} | "
              f"{total} | {followup} | {window} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
