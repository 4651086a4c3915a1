"""Model faults on every page that calls a model, through a loopback OpenAI-protocol stub (the real HTTP client).

One matrix, page × fault: 401 (never retried; the message names the key variable), 429 then success (retried:
the stub counts the requests), 500 (retried, then a clear message), a timeout (the stub answers later than the
connection's timeout), a reply cut mid-way, and malformed JSON where the page expects structured output.
After every fault the page shows no traceback, keeps what the user had (conversation, uploaded data, earlier
results) and the next request works.
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.stubs import Reply, dashscope_stub, openai_stub

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = "openai-compatible"
KEY_VAR = "OPENAI_COMPATIBLE_API_KEY"
TIMEOUT_S = 0.5          # the connection's timeout while a timeout is injected (ASSISTANT_MODEL_TIMEOUT_S)
PATIENT_S = 30           # the timeout otherwise, so that a busy machine does not turn good replies into timeouts
SLOW_S = 1.5             # how late the stub answers in the timeout case
ATTEMPTS = 3             # services.faults.RETRY_ATTEMPTS
WRONG_KEY = "sk-test-wrong-0000"


@pytest.fixture
def model_env(monkeypatch, tmp_path):
    """Short model timeouts and a conversation database of the test's own."""
    monkeypatch.setenv("ASSISTANT_MODEL_TIMEOUT_S", str(PATIENT_S))
    monkeypatch.setenv("ASSISTANT_CHAT_DB", str(tmp_path / "chat.db"))
    monkeypatch.delenv("ASSISTANT_CHAT_SHARED", raising=False)


def started(server, provider: str, protocol: str):
    """A stub whose unscripted requests get a 500, so that an extra call shows up."""
    server.default = Reply(status=500, text="unscripted request")
    server.provider, server.protocol = provider, protocol
    return server


@pytest.fixture
def stub(model_env):
    """An OpenAI-protocol stub on 127.0.0.1."""
    with openai_stub() as server:
        yield started(server, PROVIDER, "openai")


@pytest.fixture
def ds_stub(model_env):
    """A DashScope-protocol stub on 127.0.0.1."""
    with dashscope_stub() as server:
        yield started(server, "dashscope", "dashscope")


@contextlib.contextmanager
def short_timeout():
    """The page's connection times out after TIMEOUT_S while inside (the page reads the setting on each run)."""
    os.environ["ASSISTANT_MODEL_TIMEOUT_S"] = str(TIMEOUT_S)
    try:
        yield
    finally:
        os.environ["ASSISTANT_MODEL_TIMEOUT_S"] = str(PATIENT_S)


def base_url(stub) -> str:
    return f"http://127.0.0.1:{stub.port}" + ("/api/v1" if stub.protocol == "dashscope" else "/v1")


def on_stub(at: AppTest, stub, *, lang: str = "zh") -> AppTest:
    """Point the page's sidebar choice at the stub, as the settings page would (typed base URL, key, model)."""
    provider = stub.provider
    at.session_state["app.started"] = True
    at.session_state["app.provider"] = provider
    at.session_state["app.lang"] = lang
    at.session_state["settings.base_urls"] = {provider: base_url(stub)}
    at.session_state["settings.keys"] = {provider: stub.api_key}
    if provider == PROVIDER:
        at.session_state["settings.models"] = {provider: "stub-model"}
    return at


def shown(at: AppTest) -> str:
    """Every message, text and caption on the page, for assertions on what the user reads."""
    parts = [*at.error, *at.warning, *at.info, *at.success, *at.markdown, *at.caption, *at.text]
    return "\n".join(str(p.value) for p in parts)


def chat_calls(stub) -> int:
    """Chat requests the stub received (not embeddings or model lists)."""
    return sum(1 for r in stub.requests if "chat/completions" in r["path"] or "text-generation" in r["path"])


# ---------------------------------------------------------------- the pages
@dataclass
class Page:
    """How to drive one page: open it, ask (one model-calling action), and what success and kept data look like."""

    name: str
    good: list[str]                 # the replies one successful action consumes, in order
    streamed: bool = False          # the answer is shown while it arrives (a cut keeps the part received)
    structured: str = ""            # "json" (schema output) or "sql" (ChatBI) where the page parses the reply
    bad_output_text: str = "格式"   # what the page says when the model's JSON is unusable
    extra: dict = field(default_factory=dict)

    # Each page below overrides these.
    def open(self, tmp_path, stub, lang="zh") -> AppTest:
        raise NotImplementedError

    def act(self, at: AppTest, n: int) -> None:
        raise NotImplementedError

    def succeeded(self, at: AppTest) -> bool:
        raise NotImplementedError

    def kept(self, at: AppTest):
        """What must survive a fault (compared before and after)."""
        raise NotImplementedError

    def cut_marked(self, at: AppTest) -> bool:
        """For streamed pages: the part received is kept and marked as cut."""
        raise NotImplementedError


def _chat_ready(at: AppTest) -> AppTest:
    at.query_params["u"] = uuid.uuid4().hex
    return at


class ChatPage(Page):
    def open(self, tmp_path, stub, lang="zh"):
        at = _chat_ready(AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=60))
        on_stub(at, stub, lang=lang)
        for k, v in self.extra.items():
            at.session_state[k] = v
        return at.run()

    def act(self, at, n):
        at.chat_input[0].set_value(f"第{n}个问题：押金什么时候退？").run()

    def last(self, at):
        messages = at.session_state["chat.messages"]
        return messages[-1] if messages and messages[-1]["role"] == "assistant" else None

    def succeeded(self, at):
        last = self.last(at)
        return bool(last) and last["status"] == "ok" and last["content"].startswith(self.good[-1][:8]) \
            and self.good[-1][:8] in shown(at)

    def kept(self, at):
        return [(m["role"], m["content"], m["status"]) for m in at.session_state["chat.messages"]]

    def cut_marked(self, at):
        last = self.last(at)
        return (last is not None and last["status"] == "cut" and 0 < len(last["content"]) < len(self.good[-1])
                and last["content"] in shown(at) and any("中断" in w.value for w in at.warning)
                and "断开了连接" in last["error"])  # the cause too, in the reader's language


class ChatWithKB(ChatPage):
    def open(self, tmp_path, stub, lang="zh"):
        self.extra = {"chat.use_kb": True, "chat.kb_base": lease_base(tmp_path)}
        return super().open(tmp_path, stub, lang)

    def succeeded(self, at):
        last = self.last(at)
        return super().succeeded(at) and bool((last.get("sources") or {}).get("citations"))


class KBAsk(Page):
    def open(self, tmp_path, stub, lang="zh"):
        self.base = lease_base(tmp_path)
        at = AppTest.from_file(str(ROOT / "pages" / "knowledge_base.py"), default_timeout=60)
        on_stub(at, stub, lang=lang)
        at.session_state["kb.selected"] = self.base
        return at.run()

    def act(self, at, n):
        at.text_area[0].set_value(f"押金什么时候退还？（{n}）")
        next(b for b in at.button if b.key and b.key.startswith("FormSubmitter:kb.ask_form")).click().run()

    def succeeded(self, at):
        record = at.session_state["kb.answer"]
        return bool(record) and record["answer"].text.startswith(self.good[-1][:8]) and not at.error \
            and not getattr(record["answer"], "cut", False)

    def kept(self, at):
        from services.kb.store import KBStore, chroma_client
        return [(f.file, f.chunks) for f in KBStore(chroma_client()).files(self.base)]

    def cut_marked(self, at):
        record = at.session_state["kb.answer"]
        return (bool(record) and 0 < len(record["answer"].text) < len(self.good[-1])
                and any("中断" in w.value and "断开了连接" in w.value for w in at.warning)
                and record["answer"].text in shown(at))


class Financials(Page):
    def open(self, tmp_path, stub, lang="zh"):
        from tests.test_financials_pdfs import cn_report
        self.pdf = cn_report(tmp_path / "cn.pdf")
        at = AppTest.from_file(str(ROOT / "pages" / "financials.py"), default_timeout=120)
        on_stub(at, stub, lang=lang)
        at.session_state["fin.use_model"] = True
        return at.run()

    def act(self, at, n):
        at.session_state["fin.queue"] = [(self.pdf.name, self.pdf.read_bytes())]  # what the uploader holds
        at.button(key="fin.run").click().run()

    def succeeded(self, at):
        fields = at.session_state["fin.results"].get("cn.pdf", {}).get("fields", {})
        return fields.get("revenue", {}).get("model_value") == 1_000_000.0 and not at.error \
            and not any("模型提取失败" in w.value for w in at.warning)

    def kept(self, at):
        # The table-parse figures of the uploaded report stay whatever the model does.
        fields = at.session_state["fin.results"].get("cn.pdf", {}).get("fields", {})
        return {k: f["table_value"] if "table_value" in f else f["value"] for k, f in fields.items()}


class Contracts(Page):
    def open(self, tmp_path, stub, lang="zh"):
        from tests.test_contract_page import LEASE
        at = AppTest.from_file(str(ROOT / "pages" / "contracts.py"), default_timeout=60)
        on_stub(at, stub, lang=lang)
        at.run()
        at.text_area(key="contract.pasted").set_value(LEASE)
        return at

    def act(self, at, n):
        at.button(key="contract.run").click().run()

    def succeeded(self, at):
        report = at.session_state["contract.report"]
        return report is not None and report.model == f"{PROVIDER}/stub-model" and \
            all(c.source.startswith("model") for c in report.clauses) and not at.error

    def kept(self, at):
        return at.text_area(key="contract.pasted").value


class ChatBI(Page):
    def open(self, tmp_path, stub, lang="zh"):
        csv = tmp_path / "销售.csv"
        csv.write_text("日期,城市,销售额\n2024-01-01,北京,1200\n2024-01-02,上海,800\n2024-01-03,北京,300\n",
                       encoding="utf-8")
        at = AppTest.from_file(str(ROOT / "pages" / "chatbi.py"), default_timeout=60)
        on_stub(at, stub, lang=lang)
        at.run()
        ws = at.session_state["bi.workspace"]
        assert ws.add_upload(csv, csv.name, csv.stat().st_size).error is None  # what the uploader does
        return at.run()

    def act(self, at, n):
        at.chat_input(key="bi.chat_input").set_value(f"各城市销售额合计（{n}）").run()

    def succeeded(self, at):
        # Earlier failed answers keep their messages in the conversation; the newest one must be whole.
        conversation = at.session_state["bi.workspace"].conversation
        last = conversation[-1] if conversation else None
        return last is not None and last.result is not None and last.error is None and last.summary_by_model \
            and [m.value for m in at.markdown].count(self.good[-1]) == sum(a.summary_by_model for a in conversation)

    def kept(self, at):
        ws = at.session_state["bi.workspace"]
        return [ws.files.run('SELECT count(*) FROM "销售"').rows] + [a.question for a in ws.conversation if a.ok]


class Minutes(Page):
    def open(self, tmp_path, stub, lang="zh"):
        at = AppTest.from_file(str(ROOT / "pages" / "minutes.py"), default_timeout=60)
        on_stub(at, stub, lang=lang)
        at.run()
        from tests.test_minutes_page import MEETING
        at.text_area(key="minutes.paste").input(MEETING)
        return at

    def act(self, at, n):
        at.button(key="minutes.go").click().run()

    def succeeded(self, at):
        result = at.session_state["minutes.result"]
        return result is not None and result.title == "发布计划会" and not at.error

    def kept(self, at):
        return at.text_area(key="minutes.paste").value


class ChatAgent(ChatPage):
    pass


def lease_base(tmp_path) -> str:
    """A knowledge base with one lease PDF (keyword search only, so no embedding calls reach the stub)."""
    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    from tests.test_kb_helpers import LEASE, make_pdf
    name = f"合同-{uuid.uuid4().hex[:6]}"
    store = KBStore(chroma_client())
    store.create_base(name, embedder=embeddings.BM25_ONLY, chunk_size=300, overlap=40)
    pdf = make_pdf(tmp_path / "租赁合同.pdf", [LEASE])
    add_files(name, [(pdf, pdf.name)], store=store, embedder=embeddings.KeywordOnly())
    return name


ANSWER = "押金在租期届满、承租方结清费用后七日内退还[1]。提前解约的，押金不予退还[1]。"
FIN_REPLY = json.dumps({
    "company_name": "测试科技股份有限公司", "stock_code": "600123", "fiscal_year": 2021, "currency": "CNY", "unit": "元",
    "revenue": {"value": 1000000.0, "page": 7, "source_text": "营业收入"},
    "net_profit": {"value": 120000.0, "page": 7, "source_text": "净利润"},
}, ensure_ascii=False)
CONTRACT_REPLY = json.dumps({"results": [
    {"clause_id": "第一条", "favours": "balanced", "risk": "low", "reason": "基本信息", "suggestion": ""},
    {"clause_id": "第二条", "favours": "lessor", "risk": "high", "reason": "滞纳金过高", "suggestion": "万分之五"},
    {"clause_id": "第三条", "favours": "lessor", "risk": "high", "reason": "随时进入", "suggestion": "提前通知"}]},
    ensure_ascii=False)
SQL_REPLY = '```sql\nSELECT "城市", sum("销售额") AS total FROM "销售" GROUP BY 1 ORDER BY 2 DESC\n```'
SUMMARY = "北京的销售额最高，为 1500。"


def minutes_reply() -> str:
    from tests.test_minutes_page import REPLY
    return json.dumps(REPLY, ensure_ascii=False)


PAGES = {
    "chat": lambda: ChatPage("chat", [ANSWER], streamed=True),
    "chat-dashscope": lambda: ChatPage("chat-dashscope", [ANSWER], streamed=True),
    "chat+kb": lambda: ChatWithKB("chat+kb", [ANSWER], streamed=True),
    "chat-agent": lambda: ChatAgent("chat-agent", [ANSWER], extra={"chat.agent": True}),
    "kb-ask": lambda: KBAsk("kb-ask", [ANSWER], streamed=True),
    "financials": lambda: Financials("financials", [FIN_REPLY], structured="json",
                                     bad_output_text="模型提取失败，仅保留表格解析结果"),
    "contracts": lambda: Contracts("contracts", [CONTRACT_REPLY], structured="json",
                                   bad_output_text="3 个条款模型未能给出有效结果，仅保留规则检查结果"),
    "chatbi": lambda: ChatBI("chatbi", [SQL_REPLY, SUMMARY], structured="sql"),
    "minutes": lambda: Minutes("minutes", [minutes_reply()], structured="json"),
}
FAULTS = ["401", "429-then-ok", "500", "timeout", "cut", "bad-output"]
KEY_VARS = {PROVIDER: KEY_VAR, "dashscope": "DASHSCOPE_API_KEY"}


def cases(pages: list[str]) -> list:
    """(page, fault) pairs that make sense: malformed output only where the page parses the model's reply."""
    return [pytest.param(p, f, id=f"{p}-{f}") for p in pages for f in FAULTS
            if f != "bad-output" or PAGES[p]().structured or p == "chat-agent"]


def good_replies(page: Page) -> list[Reply]:
    return [Reply(text=text) for text in page.good]


def no_traceback(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert "Traceback" not in shown(at)


def fault_script(page: Page, fault: str) -> list[Reply]:
    """What the stub answers to the faulty request(s), followed by the replies of a request that works."""
    good = good_replies(page)
    if fault == "429-then-ok":
        return [Reply(status=429)] + good
    if fault == "500":
        return [Reply(status=500)] * ATTEMPTS + good
    if fault == "timeout":
        return [Reply(delay_s=SLOW_S)] * ATTEMPTS + good
    if fault == "cut":
        return [Reply(text=page.good[0], cut_after=2)] + good
    if fault == "bad-output":
        if page.structured == "json":
            return [Reply(text="好的，结果如下：{收入: 很多, 利润")] * 2 + good   # the one repair request fails too
        if page.structured == "sql":
            return [Reply(text="我觉得北京卖得最好。")] * ATTEMPTS + good        # no SQL at all, repairs neither
        # the agent: a tool call whose arguments are not JSON, then the answer
        return [Reply(text="", tool_calls=[{"name": "calculator", "args": "{\"expression\": 1+"}])] + good
    return good  # 401: the key is wrong, the stub refuses before any reply is used


def run_case(page_name: str, fault: str, stub, tmp_path) -> dict:
    """Drive one page through one fault; returns what happened (for the report)."""
    page = PAGES[page_name]()
    at = page.open(tmp_path, stub)
    no_traceback(at)

    # A first request that works, so that there is history / data / an earlier result to keep.
    stub.replies = good_replies(page)
    page.act(at, 1)
    no_traceback(at)
    assert page.succeeded(at), shown(at)
    before = page.kept(at)
    calls_before = chat_calls(stub)

    if fault == "401":  # the key was revoked (or mistyped in Settings) since
        at.session_state["settings.keys"] = {stub.provider: WRONG_KEY}
    stub.replies = fault_script(page, fault)
    with short_timeout() if fault == "timeout" else contextlib.nullcontext():
        page.act(at, 2)
    no_traceback(at)
    calls = chat_calls(stub) - calls_before
    text = shown(at)

    if fault == "401":
        assert calls == 1, "a rejected key must not be retried"
        assert KEY_VARS[stub.provider] in text and "密钥" in text, text
    elif fault == "429-then-ok":
        assert calls == 1 + len(page.good), f"429 must be retried once: {calls} requests"
        assert page.succeeded(at), text
    elif fault == "500":
        assert calls == ATTEMPTS, f"500 must be retried up to {ATTEMPTS} times: {calls}"
        assert "500" in text and f"{ATTEMPTS} 次" in text, text
    elif fault == "timeout":
        assert calls == ATTEMPTS, f"a timeout before the first token is retried: {calls}"
        assert f"{TIMEOUT_S:g} 秒内没有响应" in text, text
    elif fault == "cut":
        if page.streamed:
            assert calls == 1, "text already shown must not be asked for again"
            assert page.cut_marked(at), text
        else:
            assert calls == 1 + len(page.good), "a reply cut before anything was shown is asked for again"
            assert page.succeeded(at), text
    elif fault == "bad-output":
        if page.structured == "json":
            assert calls == 2, "one repair request, then a message"
            assert page.bad_output_text in text, text
        elif page.structured == "sql":
            assert calls == ATTEMPTS and "SQL" in text, text
        else:
            assert calls == 2 and page.succeeded(at), text
            assert "calculator" in text or any("calculator" in e.label for e in at.expander), text

    # Nothing the user had is lost ...
    after = page.kept(at)
    if isinstance(before, list):  # a conversation: what was there stays, in order (a new turn may follow)
        assert after[:len(before)] == before
    else:
        assert after == before
    # ... and the next request works (for 401: once the key is corrected in Settings).
    at.session_state["settings.keys"] = {stub.provider: stub.api_key}
    stub.replies = good_replies(page)
    page.act(at, 3)
    no_traceback(at)
    assert page.succeeded(at), shown(at)
    if isinstance(page, ChatPage):
        roles = [m[0] for m in page.kept(at)]
        assert roles == ["user", "assistant"] * (len(roles) // 2)  # every question kept with its answer or error
    return {"calls": calls}


# ---------------------------------------------------------------- the matrix (chat pages; the others in
# test_model_faults_pages.py, so that each file stays short)
@pytest.mark.parametrize("page_name, fault", cases(["chat", "chat+kb", "chat-agent", "kb-ask"]))
def test_model_fault(page_name, fault, stub, tmp_path):
    run_case(page_name, fault, stub, tmp_path)


@pytest.mark.parametrize("page_name, fault", cases(["chat-dashscope"]))
def test_model_fault_dashscope(page_name, fault, ds_stub, tmp_path):
    run_case(page_name, fault, ds_stub, tmp_path)



def test_a_stream_that_stalls_mid_answer_ends_on_the_timeout_and_is_kept_as_cut(stub, tmp_path):
    """The server sends part of the answer, then stays silent with the socket open: the read timeout ends it."""
    page = PAGES["chat"]()
    at = page.open(tmp_path, stub)
    stub.replies = [Reply(text=ANSWER, cut_after=2, stall_s=SLOW_S)]
    with short_timeout():
        page.act(at, 1)
    no_traceback(at)
    assert chat_calls(stub) == 1, "text already shown must not be asked for again"
    last = page.last(at)
    assert last["status"] == "cut" and last["content"] == ANSWER[:8]
    assert f"{TIMEOUT_S:g} 秒内没有响应" in last["error"] and any("中断" in w.value for w in at.warning)
    stub.replies = good_replies(page)
    page.act(at, 2)
    assert page.succeeded(at) and len(at.session_state["chat.messages"]) == 4
