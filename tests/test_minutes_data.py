"""Real meetings (VCSum zh, QMSum en): parsed from their JSON form and split to fit the built-in model."""
from __future__ import annotations

import json

from services.llm import estimate_tokens
from services.minutes import parse_transcript, split_on_turns
from services.minutes.generate import PROMPT_OVERHEAD, part_prompt, system_prompt
from services.providers.base import Connection


def test_qmsum_meetings_parse_and_split_within_the_local_context(shared_data, tmp_path):
    from services.minutes.generate import part_budget
    from services.providers import model_info
    conn = Connection(provider="local", model="qwen2.5-coder-1.5b-instruct")
    window = model_info(conn).context_window
    lines = (shared_data / "meetings" / "qmsum_en_meetings.jsonl").read_text(encoding="utf-8").splitlines()
    longest = max(lines, key=len)
    path = tmp_path / "qmsum.json"
    path.write_text(longest, encoding="utf-8")
    transcript = parse_transcript(path)
    source = json.loads(longest)["meeting_transcripts"]
    assert len(transcript.lines) == len([t for t in source if t["content"].strip()])
    assert transcript.lines[0].speaker == source[0]["speaker"]
    assert transcript.language() == "en"

    parts = split_on_turns(transcript, part_budget(conn))
    assert len(parts) > 2  # about 87,000 characters cannot go in one 8,192-token request
    assert [p.line.number for part in parts for p in part] == [ln.number for ln in transcript.lines]
    system = system_prompt("general", "en")
    for index, part in enumerate(parts, 1):
        prompt = part_prompt(part, index, len(parts), "en")
        # the transcript part plus rules leave room for the schema and the answer
        assert estimate_tokens(prompt) + estimate_tokens(system) + PROMPT_OVERHEAD // 2 < window


def test_vcsum_meeting_as_text_transcript(shared_data, tmp_path):
    record = json.loads((shared_data / "meetings" / "vcsum_zh_meetings.jsonl").read_text(encoding="utf-8")
                        .splitlines()[0])
    text = "\n".join(f"发言人{spk}：{para}" for seg in record["segments"]
                     for spk, para in zip(seg["speakers"], seg["paragraphs"]))
    path = tmp_path / "vcsum.txt"
    path.write_bytes(text.encode("gb18030"))  # as a Chinese Windows export would save it
    transcript = parse_transcript(path)
    assert transcript.language() == "zh"
    assert len(transcript.lines) == sum(len(seg["paragraphs"]) for seg in record["segments"])
    assert set(transcript.speakers) == {f"发言人{s}" for seg in record["segments"] for s in seg["speakers"]}
