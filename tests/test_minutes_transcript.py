"""Transcript parsing: every format to numbered lines with speaker and timestamp; bad files give clear messages."""
from __future__ import annotations

import json

import pytest

from services.errors import InputError, user_message
from services.minutes.transcript import parse_timestamp, parse_transcript, parse_transcript_text


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_chinese_colon_lines_keep_speakers_and_numbering(tmp_path):
    path = write(tmp_path, "周会.txt", "张三：大家好，今天讨论发布计划。\n李四: 我负责测试，周五前完成。\n\n张三：好的。\n")
    tr = parse_transcript(path)
    assert [(ln.number, ln.speaker, ln.text) for ln in tr.lines] == [
        (1, "张三", "大家好，今天讨论发布计划。"), (2, "李四", "我负责测试，周五前完成。"), (3, "张三", "好的。")]
    assert tr.speakers == ["张三", "李四"]
    assert tr.language() == "zh"


def test_speaker_with_timestamp_in_brackets_and_leading_timestamps(tmp_path):
    text = ("Speaker 1 (00:01:02): Let's start with the budget.\n"
            "Speaker 2 (00:01:10): The budget is approved.\n"
            "[00:02:03] Alice: I will send the slides.\n")
    tr = parse_transcript(write(tmp_path, "call.txt", text))
    assert [(ln.speaker, ln.start, ln.timestamp) for ln in tr.lines] == [
        ("Speaker 1", 62.0, "00:01:02"), ("Speaker 2", 70.0, "00:01:10"), ("Alice", 123.0, "00:02:03")]
    assert tr.lines[2].label() == "L3 · Alice · 00:02:03"
    assert tr.language() == "en"


def test_header_lines_of_meeting_apps(tmp_path):
    text = "说话人1 00:00:05\n我们先过一下进度。\n还有预算。\n\n说话人2 00:00:30\n进度正常。\n"
    tr = parse_transcript(write(tmp_path, "export.txt", text))
    assert [(ln.speaker, ln.start) for ln in tr.lines] == [("说话人1", 5.0), ("说话人2", 30.0)]
    assert "预算" in tr.lines[0].text


def test_plain_paragraphs_have_no_speakers_and_prose_labels_are_not_speakers(tmp_path):
    text = ("Note: this meeting was short.\n\nWe reviewed the roadmap and agreed on dates.\n\n"
            "Summary: nothing else.\n\nThe next meeting is on Monday.\n\nWarning: slides were late.\n\n"
            "Reminder: book the room.\n")
    tr = parse_transcript(write(tmp_path, "notes.txt", text))
    assert all(ln.speaker is None for ln in tr.lines)
    assert tr.lines[0].text.startswith("Note: this meeting")
    assert len(tr.lines) == 6


def test_continuation_lines_belong_to_the_previous_speaker(tmp_path):
    tr = parse_transcript(write(tmp_path, "a.txt", "Alice: first point\nand a second line\nBob: reply\nAlice: ok\n"))
    assert [(ln.speaker, ln.text) for ln in tr.lines] == [
        ("Alice", "first point"), ("Alice", "and a second line"), ("Bob", "reply"), ("Alice", "ok")]


def test_url_is_not_a_speaker(tmp_path):
    tr = parse_transcript(write(tmp_path, "u.txt", "Alice: see the doc\nhttps://example.com/x is the link\n"
                                                   "Bob: thanks\nAlice: sure\n"))
    assert tr.lines[1].speaker == "Alice"
    assert tr.lines[1].text.startswith("https://example.com")


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig"])
def test_other_encodings_are_detected(tmp_path, encoding):
    text = "王五：预算需要重新审批，下周一前提交给财务部。\n赵六：我来准备材料，并通知项目组全体成员。\n" * 3
    tr = parse_transcript(write(tmp_path, "gbk.txt", text, encoding))
    assert tr.lines[0].speaker == "王五"
    assert "预算" in tr.lines[0].text


def test_binary_garbage_gives_an_encoding_or_empty_message(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError) as err:
        parse_transcript(path)
    assert err.value.key in ("minutes.error.encoding", "doc.error.corrupt", "doc.error.unsupported",
                             "minutes.error.empty")
    assert "broken.txt" in user_message(err.value, "zh")


def test_empty_and_blank_files(tmp_path):
    for name, content in [("empty.txt", ""), ("blank.txt", "\n\n   \n")]:
        with pytest.raises(InputError) as err:
            parse_transcript(write(tmp_path, name, content))
        assert err.value.key in ("minutes.error.empty", "doc.error.empty")
        assert name in err.value.message("en")


def test_unsupported_suffix(tmp_path):
    with pytest.raises(InputError) as err:
        parse_transcript(write(tmp_path, "slides.pptx", "x"))
    assert err.value.key == "minutes.error.unsupported"


def test_too_long_transcript_is_refused_with_the_numbers(tmp_path):
    path = write(tmp_path, "huge.txt", ("张三：" + "很长的发言" * 100 + "\n") * 900)
    with pytest.raises(InputError) as err:
        parse_transcript(path)
    assert err.value.key == "minutes.error.too_long"
    assert "450000" in err.value.message("en")


def test_srt(tmp_path):
    srt = ("1\n00:00:01,000 --> 00:00:04,000\n张三：我们开始吧。\n\n"
           "2\n00:00:05,500 --> 00:00:08,000\n李四：好的，先看进度。\n\n"
           "3\n00:01:05,000 --> 00:01:08,000\n没有说话人的字幕\n")
    tr = parse_transcript(write(tmp_path, "m.srt", srt))
    assert tr.source_format == "srt"
    assert [(ln.speaker, ln.start, ln.text) for ln in tr.lines] == [
        ("张三", 1.0, "我们开始吧。"), ("李四", 5.5, "好的，先看进度。"), (None, 65.0, "没有说话人的字幕")]


def test_vtt_voice_tags(tmp_path):
    vtt = ("WEBVTT\n\nNOTE exported\n\n"
           "a1\n00:00.000 --> 00:02.000\n<v Alice Smith>We ship on <b>Friday</b>.</v>\n\n"
           "a2\n00:01:03.250 --> 00:01:05.000\n<v.loud Bob>Agreed.\n")
    tr = parse_transcript(write(tmp_path, "m.vtt", vtt))
    assert [(ln.speaker, ln.start, ln.text) for ln in tr.lines] == [
        ("Alice Smith", 0.0, "We ship on Friday."), ("Bob", 63.25, "Agreed.")]


def test_json_exports(tmp_path):
    plain_list = [{"speaker": "Ann", "start": 3.5, "text": "Hello"}, {"speaker": "Ben", "start": "00:00:09",
                                                                     "text": "Hi Ann"}]
    tr = parse_transcript(write(tmp_path, "a.json", json.dumps(plain_list)))
    assert [(ln.speaker, ln.start, ln.text) for ln in tr.lines] == [("Ann", 3.5, "Hello"), ("Ben", 9.0, "Hi Ann")]

    whisper = {"text": "a b", "segments": [{"id": 0, "start": 0.0, "end": 2.0, "text": " First."},
                                           {"id": 1, "start": 2.0, "end": 4.0, "text": " Second."}]}
    tr = parse_transcript(write(tmp_path, "w.json", json.dumps(whisper)))
    assert [(ln.speaker, ln.start, ln.text) for ln in tr.lines] == [(None, 0.0, "First."), (None, 2.0, "Second.")]

    paraformer = {"transcripts": [{"channel_id": 0, "sentences": [
        {"begin_time": 1200, "end_time": 3000, "text": "第一句", "speaker_id": 0},
        {"begin_time": 61000, "end_time": 62000, "text": "第二句", "speaker_id": 1}]}]}
    tr = parse_transcript(write(tmp_path, "p.json", json.dumps(paraformer, ensure_ascii=False)))
    assert [(ln.speaker, ln.start, ln.text) for ln in tr.lines] == [("Speaker 0", 1.2, "第一句"),
                                                                   ("Speaker 1", 61.0, "第二句")]

    qmsum = {"meeting_transcripts": [{"speaker": "Professor E", "content": "So . OK ."}]}
    tr = parse_transcript(write(tmp_path, "q.json", json.dumps(qmsum)))
    assert tr.lines[0].speaker == "Professor E"


def test_bad_json_messages(tmp_path):
    with pytest.raises(InputError) as err:
        parse_transcript(write(tmp_path, "bad.json", '{"segments": [ {"text": "x"'))
    assert err.value.key == "minutes.error.bad_json"
    with pytest.raises(InputError) as err:
        parse_transcript(write(tmp_path, "shape.json", '{"title": "no utterances", "n": 3}'))
    assert err.value.key == "minutes.error.json_shape"


def test_docx_paragraphs_and_tables(tmp_path):
    import docx
    document = docx.Document()
    document.add_paragraph("张三：今天讨论合同续签。")
    document.add_paragraph("李四：我下周三前联系客户。")
    table = document.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ["王五", "00:03:00", "报价需要更新。"]):
        cell.text = text
    path = tmp_path / "m.docx"
    document.save(path)
    tr = parse_transcript(path)
    assert tr.source_format == "docx"
    assert [(ln.speaker, ln.start) for ln in tr.lines] == [("张三", None), ("李四", None), ("王五", 180.0)]


def test_corrupt_docx(tmp_path):
    path = tmp_path / "bad.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputError) as err:
        parse_transcript(path)
    assert err.value.key == "doc.error.corrupt"


def test_pasted_text_sniffs_the_format():
    tr = parse_transcript_text("1\n00:00:01,000 --> 00:00:02,000\nAlice: hi\n", "pasted.txt")
    assert tr.source_format == "srt" and tr.lines[0].speaker == "Alice"
    tr = parse_transcript_text('[{"speaker": "A", "text": "x"}]', "pasted.txt")
    assert tr.source_format == "json"


def test_parse_timestamp():
    assert parse_timestamp("01:02:03") == 3723
    assert parse_timestamp("1:02") == 62
    assert parse_timestamp("00:00:01,500") == 1.5
    assert parse_timestamp("hello") is None
