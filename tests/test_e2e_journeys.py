"""One journey per page in a real browser: `streamlit run app.py` on 127.0.0.1, headless Debian Chromium driven by
Playwright. Each journey uploads a file, presses the page's main button, checks the result on screen, downloads the
export through the browser and reads the downloaded file. Model output comes from the replay provider.

One app serves the whole module; every journey gets its own browser (so its own Streamlit session) and its own
replay script: ASSISTANT_REPLAY_FILE is a symlink that each journey points at its script, and the replay provider
keys scripts by the resolved path, so a journey that fails half-way cannot hand its leftover replies to the next.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from services import i18n
from services import chat_text as _chat_texts  # noqa: F401 - registers the chat.* texts
from services.contracts import messages as _contract_texts  # noqa: F401
from services.financials import messages as _fin_texts  # noqa: F401
from services.kb import messages as _kb_texts  # noqa: F401
from services.minutes import messages as _minutes_texts  # noqa: F401
from services.chatbi import messages as _bi_texts  # noqa: F401
from services import settings as _settings_texts  # noqa: F401
from tests.browser import ARTIFACTS, browser_page, running_app, settle  # noqa: F401 - fixtures
from tests.stubs import openai_stub
from tests.test_contract_page import LEASE as SHORT_LEASE
from tests.test_financials_pdfs import cn_report
from tests.test_kb_helpers import LEASE as KB_LEASE, make_pdf
from tests.test_minutes_page import MEETING, REPLY as MINUTES_REPLY

pytestmark = pytest.mark.timeout(300)


def T(key: str, lang: str = "zh", **params) -> str:
    """What the page shows for a text key (the same catalogue the app uses)."""
    return i18n.t(key, lang, **params)


@dataclass
class App:
    url: str
    folder: Path
    replies: Path   # the symlink the server reads as ASSISTANT_REPLAY_FILE
    log: Path       # every request the replay provider received (ASSISTANT_REPLAY_LOG)

    def script(self, name: str, replies: list) -> int:
        """Point the server at a fresh replay script for one journey; returns how many requests were logged so far."""
        path = self.folder / f"{name}-{uuid.uuid4().hex[:8]}.jsonl"
        path.write_text("".join(json.dumps(r if isinstance(r, dict) else {"content": r}, ensure_ascii=False) + "\n"
                                for r in replies), encoding="utf-8")
        link = self.folder / f".link-{uuid.uuid4().hex[:8]}"
        link.symlink_to(path)
        os.replace(link, self.replies)
        return len(self.requests())

    def requests(self) -> list[dict]:
        """The requests the replay provider has received, oldest first."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    replies = folder / "replies.jsonl"
    empty = folder / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    replies.symlink_to(empty)
    log = folder / "requests.jsonl"
    with running_app(folder, {"ASSISTANT_REPLAY_FILE": str(replies), "ASSISTANT_REPLAY_LOG": str(log)}) as url:
        yield App(url, folder, replies, log)


@pytest.fixture
def page(browser_page, request):
    """The journey's own browser; a screenshot is kept when the journey fails, to see where it stopped."""
    failed_before = request.session.testsfailed
    yield browser_page
    if request.session.testsfailed > failed_before:
        ARTIFACTS.mkdir(exist_ok=True)
        browser_page.screenshot(path=str(ARTIFACTS / f"e2e-failed-{request.node.name}.png"), full_page=True)
        (ARTIFACTS / f"e2e-failed-{request.node.name}.html").write_text(browser_page.content(), encoding="utf-8")


# ---------------------------------------------------------------- helpers

def open_page(page, app: App, path: str = "") -> None:
    """A new browser session on one page, started on the replay provider."""
    page.goto(f"{app.url}/{path}")
    # The router's sidebar is there (also for a first visit by page link) and the replay provider is chosen.
    provider = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.locator("input")
    expect(provider).to_have_value("Replay", timeout=60_000)


def main(page):
    """The page's own area (not the sidebar); pages with a chat input have no "stMain" wrapper."""
    return page.get_by_test_id("stMainBlockContainer")


def upload(scope, path: Path) -> None:
    """Choose a file in the (only) uploader in scope and wait until the uploader lists it."""
    uploader = scope.get_by_test_id("stFileUploader")
    files = uploader.get_by_test_id("stFileChip")
    before = files.count()
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    files.nth(before).wait_for()
    settle(scope.page)   # the rerun the upload starts is over before the next click


def download(page, label: str, folder: Path) -> Path:
    """Press a download button and keep the file the browser received."""
    settle(page)
    # A download may rerun the page; a run that starts just after settle() briefly shows the old (stale) copy too.
    button = page.locator('[data-testid="stElementContainer"]:not([data-stale="true"]) [data-testid="stDownloadButton"]'
                          ).filter(has_text=label).locator("button").last
    with page.expect_download() as info:
        button.click()
    got = info.value
    target = folder / got.suggested_filename
    got.save_as(target)
    return target


def finish(page, name: str) -> None:
    """Screenshot for people to look at, and no traceback anywhere on the page."""
    settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}.png"), full_page=True)
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.first.inner_text()


def grid_rows(scope, until=None, timeout: float = 30.0) -> list[list[str]]:
    """The rows of every st.dataframe / st.data_editor in scope, read from the grid's accessible table (the grid
    itself is drawn on a canvas).

    Each grid fills its accessible table on its own schedule, so the first grid with rows says nothing about the
    others: with `until` (a test on the rows), the rows are read again until it holds or `timeout` seconds pass.
    """
    scope.locator('[data-testid="stDataFrame"] td').first.wait_for(state="attached")
    deadline = time.monotonic() + timeout
    while True:
        rows = scope.locator('[data-testid="stDataFrame"] tr').evaluate_all(
            "rows => rows.map(r => Array.from(r.querySelectorAll('th, td')).map(c => c.textContent.trim()))")
        if until is None or until(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.25)


def choose(scope, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox."""
    scope.get_by_test_id("stSelectbox").filter(has_text=label).locator("input").click()
    scope.page.get_by_role("option", name=option, exact=True).click()
    settle(scope.page)


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def docx_text(path: Path) -> str:
    from docx import Document
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


# ---------------------------------------------------------------- financial-report extractor

FIN_MODEL_REPLY = {
    "company_name": "测试科技股份有限公司", "stock_code": "600123", "fiscal_year": 2021, "currency": "CNY", "unit": "元",
    "revenue": {"value": 1000000.0, "page": 7, "source_text": "营业收入"},
    "operating_cost": {"value": 600000.0, "page": 7, "source_text": "营业成本"},
    "net_profit": {"value": 120000.0, "page": 7, "source_text": "净利润"},
    "net_profit_attributable": {"value": 100000.0, "page": 7, "source_text": "归母净利润"},
    "total_assets": {"value": 9999999.0, "page": 6, "source_text": "资产总计 (parent)"},
    "total_liabilities": {"value": 2000000.0, "page": 6, "source_text": "负债合计"},
}


def test_financial_report_journey(app, page, tmp_path):
    """Upload a report whose file name looks like a formula; extract with the model's cross-check; CSV and Excel."""
    app.script("financials", [json.dumps(FIN_MODEL_REPLY, ensure_ascii=False)])
    report = cn_report(tmp_path / "=HYPERLINK(1) 测试科技.pdf")
    open_page(page, app, "financials")
    body = main(page)
    body.get_by_text(T("fin.title")).wait_for()
    upload(body, report)
    body.get_by_text(T("fin.use_model")).click()
    body.get_by_role("button", name=T("fin.run")).click()

    # The figures are on screen, and the model's wrong total assets (the parent company's) is called out.
    body.get_by_text(T("fin.conflicts", fields="资产总计")).wait_for()
    body.get_by_role("button", name=T("fin.download_csv")).wait_for()
    # On screen (the grids virtualise columns, so read the leading ones): the comparison row and the detail rows.
    shown = grid_rows(body)
    # The comparison has one column per report, each value with its status; the file name is not a cell there.
    assert shown[0] == ["项目", "测试科技 2021"] and ["营业收入", "100.00 万元 ✓"] in shown, shown
    details = {r[0]: r[1:] for r in shown if r}   # the detail grid comes last: its rows win

    def num(text: str) -> float:
        return float(text.replace(",", ""))
    assert num(details["资产总计"][0]) == 5_000_000 and details["资产总计"][1] == "6", details
    assert num(details["负债合计"][0]) == 2_000_000 and details["负债合计"][1] == "6", details
    assert num(details["营业收入"][0]) == 1_000_000

    rows = read_csv(download(page, T("fin.download_csv"), tmp_path))
    header, data = rows[0], rows[1:]
    col = {name: header.index(name) for name in header}
    assets = next(r for r in data if r[col[T("fin.col.field")]] == "资产总计")
    assert float(assets[col[T("fin.col.value")]]) == 5_000_000.0
    assert float(assets[col[T("fin.col.model_value")]]) == 9_999_999.0
    assert assets[col[T("fin.col.page")]] not in ("", "0")
    # The file name starts with "=": in the CSV it is text, not a formula.
    assert {r[col[T("fin.col.file")]] for r in data} == {"'" + report.name}

    from openpyxl import load_workbook
    book = load_workbook(download(page, T("fin.download_xlsx"), tmp_path))
    sheet = book["comparison"]
    values = {sheet.cell(1, c).value: sheet.cell(2, c).value for c in range(1, sheet.max_column + 1)}
    assert values["资产总计"] == 5_000_000.0 and values["负债合计"] == 2_000_000.0
    file_cell = sheet.cell(2, 1)
    assert file_cell.data_type == "s" and file_cell.value == "'" + report.name

    saved = json.loads(download(page, T("fin.download_json"), tmp_path).read_text(encoding="utf-8"))
    assert saved[0]["fields"]["total_liabilities"]["value"] == 2_000_000.0
    assert app.requests(), "the model cross-check never reached the replay provider"
    finish(page, "financials")


# ---------------------------------------------------------------- chat

def test_chat_journey(app, page, tmp_path):
    """Attach a file, ask about it, see the answer, export the conversation as JSON and Markdown."""
    seen = app.script("chat", [{"content": "根据附件，押金为 **8,000 元**，租期届满后七日内退还。",
                                "usage": {"input_tokens": 120, "output_tokens": 20}}])
    notice = tmp_path / "租约摘要.txt"
    notice.write_text("租约摘要\n押金人民币捌仟元（8,000 元），租期届满后七日内退还。\n", encoding="utf-8")
    open_page(page, app)   # chat is the default page, at "/"
    body = main(page)
    body.get_by_text(T("chat.attach")).first.click()
    upload(body, notice)
    body.get_by_text(T("chat.attached", name=notice.name, tokens=0).split("（")[0]).wait_for()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("押金是多少，什么时候退？")
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").filter(has_text="七日内退还").last
    answer.wait_for()
    assert "8,000 元" in answer.inner_text()
    page.get_by_test_id("stChatMessage").filter(has_text="押金是多少").first.wait_for()

    # The attached file's text went to the model with the question.
    sent = app.requests()[seen:]
    assert len(sent) == 1
    user_turn = sent[0]["messages"][-1]["content"]
    assert "押金人民币捌仟元" in user_turn and "押金是多少，什么时候退？" in user_turn

    body.get_by_role("button", name=T("chat.export_json")).wait_for()
    exported = json.loads(download(page, T("chat.export_json"), tmp_path).read_text(encoding="utf-8"))
    question, reply = exported["messages"][0], exported["messages"][-1]
    assert question["role"] == "user" and question["content"] == "押金是多少，什么时候退？"
    assert [a["name"] for a in question["attachments"]] == [notice.name]
    assert reply["role"] == "assistant" and "8,000 元" in reply["content"] and reply["status"] == "ok"
    markdown = download(page, T("chat.export_md"), tmp_path).read_text(encoding="utf-8")
    assert "押金是多少，什么时候退？" in markdown and "七日内退还" in markdown and notice.name in markdown
    finish(page, "chat")


# ---------------------------------------------------------------- knowledge base

def test_knowledge_base_journey(app, page, tmp_path):
    """Create a base, add a PDF, ask, see the cited page, download the answer."""
    seen = app.script("kb", ["押金在租期届满、承租方结清费用后七日内退还[1]。"])
    lease = make_pdf(tmp_path / "租赁合同.pdf", ["封面\n房屋租赁合同", KB_LEASE, "第三章 维修\n房屋维修由出租方负责。"])
    base_name = f"合同库-{uuid.uuid4().hex[:6]}"
    open_page(page, app, "knowledge_base")
    body = main(page)
    body.get_by_label(T("kb.create.name")).fill(base_name)
    body.get_by_role("button", name=T("kb.create.button")).click()
    selected = body.get_by_test_id("stSelectbox").filter(has_text=T("kb.select")).locator("input")
    expect(selected).to_have_value(base_name, timeout=60_000)

    # A new base opens on the files view, where the next step (uploading) is.
    expect(body.get_by_text(T("kb.upload.header"))).to_be_visible()
    upload(body, lease)
    body.get_by_role("button", name=T("kb.upload.button")).click()
    body.get_by_text(T("kb.files.chunks", file=lease.name)).wait_for(timeout=180_000)   # e5 embeds in the background
    files = grid_rows(body)
    assert files[1][:2] == [lease.name, "3"], files   # file name, pages

    body.locator("button[kind^='segmented_control'], button[data-variant='segmented_control']").filter(
        has_text=re.compile(f"^{T('kb.view.ask')}$")).click()
    body.get_by_label(T("kb.ask.input")).fill("押金什么时候退还？")
    body.get_by_role("button", name=T("kb.ask.button")).click()
    source = body.get_by_text(T("kb.ask.source", n=1, file=lease.name, page=2))
    source.wait_for()
    assert body.get_by_text("七日内退还[1]").count() >= 1
    source.click()
    body.get_by_test_id("stExpanderDetails").filter(has_text="七日内退还").first.wait_for()

    sent = app.requests()[seen:]
    assert len(sent) == 1 and "七日内退还" in json.dumps(sent[0]["messages"], ensure_ascii=False)
    answer = download(page, T("kb.ask.download"), tmp_path).read_text(encoding="utf-8")
    assert answer.startswith("## 押金什么时候退还？")
    assert f"- [1] {lease.name}, p.2:" in answer and "七日内退还" in answer
    finish(page, "knowledge-base")


# ---------------------------------------------------------------- ChatBI

SALES_CSV = ("日期,城市,销售额,备注\n"
             "2023-01-05,北京,\"1,200\",\"=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")\"\n"
             "2023-02-11,上海,800,正常\n"
             "2023-03-02,北京,300,@SUM(A1:A2)\n")


def test_chatbi_journey(app, page, tmp_path):
    """Upload a CSV with formula cells, ask, see the table and summary, download CSV and Excel safely."""
    seen = app.script("chatbi", ['```sql\nSELECT "城市", "销售额", "备注" FROM "销售" ORDER BY "销售额" DESC\n```',
                                 "北京 1 月销售额最高，为 1,200。"])
    sales = tmp_path / "销售.csv"
    sales.write_text(SALES_CSV, encoding="utf-8")
    open_page(page, app, "chatbi")
    body = main(page)
    upload(body, sales)
    body.get_by_test_id("stExpander").filter(has_text="销售").first.wait_for()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("按销售额列出每一笔")
    box.press("Enter")
    body.get_by_text("北京 1 月销售额最高，为 1,200。").wait_for()
    body.get_by_role("button", name=T("bi.download_csv")).wait_for()
    keys = ("城市", "北京", "上海")
    result = [r for r in grid_rows(body, until=lambda rows: any(r and r[0] in keys[1:] for r in rows))
              if r and r[0] in keys]
    assert result[:4] == [["城市", "销售额", "备注"], ["北京", "1,200", '=HYPERLINK("http://evil.example","点我")'],
                          ["上海", "800", "正常"], ["北京", "300", "@SUM(A1:A2)"]], result
    assert len(app.requests()[seen:]) == 2

    rows = read_csv(download(page, T("bi.download_csv"), tmp_path))
    assert rows[0] == ["城市", "销售额", "备注"]
    assert rows[1] == ["北京", "1200", "'=HYPERLINK(\"http://evil.example\",\"点我\")"]
    assert rows[3] == ["北京", "300", "'@SUM(A1:A2)"]

    from openpyxl import load_workbook
    sheet = load_workbook(download(page, T("bi.download_xlsx"), tmp_path)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[1][:2] == ["北京", 1200]
    assert all(c.data_type == "s" for c in sheet["C"][1:]), [c.data_type for c in sheet["C"]]
    assert cells[1][2] == "'=HYPERLINK(\"http://evil.example\",\"点我\")" and cells[3][2] == "'@SUM(A1:A2)"
    finish(page, "chatbi")


# ---------------------------------------------------------------- contract analyzer

CONTRACT_RESULTS = [
    {"clause_id": "第一条", "favours": "balanced", "risk": "low", "reason": "房屋基本信息", "suggestion": ""},
    {"clause_id": "第二条", "favours": "lessor", "risk": "high", "reason": "滞纳金每日2%过高",
     "suggestion": "改为每日万分之五"},
    {"clause_id": "第三条", "favours": "lessor", "risk": "high", "reason": "出租方可随时进入",
     "suggestion": "提前24小时书面通知"},
]


def test_contract_journey(app, page, tmp_path):
    """Upload a Word contract, review it with the model, see the risky clauses, download Word and JSON."""
    from docx import Document
    seen = app.script("contract", [json.dumps({"results": CONTRACT_RESULTS}, ensure_ascii=False)])
    lease = tmp_path / "租赁合同.docx"
    doc = Document()
    for line in SHORT_LEASE.split("\n"):
        doc.add_paragraph(line)
    doc.save(str(lease))
    open_page(page, app, "contracts")
    body = main(page)
    upload(body, lease)
    body.get_by_role("button", name=T("contract.analyse")).click()
    body.get_by_text(T("contract.model_used", model="replay/replay")).wait_for()
    body.get_by_test_id("stMetricValue").nth(3).wait_for()
    metrics = body.get_by_test_id("stMetricValue").all_inner_texts()
    assert metrics[:3] == ["2", "0", "1"], metrics   # high, medium, low
    body.get_by_text("第二条 租金 · 高").wait_for()
    assert len(app.requests()[seen:]) == 1

    body.get_by_role("tab", name=T("contract.tab.export")).click()
    word = docx_text(download(page, T("contract.download.docx"), tmp_path))
    assert "第二条" in word and "滞纳金每日2%过高" in word and "改为每日万分之五" in word
    data = json.loads(download(page, T("contract.download.json"), tmp_path).read_text(encoding="utf-8"))
    risks = {c["id"]: c["risk"] for c in data["clauses"]}
    assert risks == {"第一条": "low", "第二条": "high", "第三条": "high"}, risks
    assert data["file"] == lease.name
    finish(page, "contracts")


# ---------------------------------------------------------------- meeting minutes (and the English UI)

def test_minutes_journey_and_english_ui(app, page, tmp_path):
    """Upload a transcript, write the minutes, see the action items, download CSV and Word; then switch to English
    and the minutes stay, with English headings and an English CSV."""
    seen = app.script("minutes", [json.dumps(MINUTES_REPLY, ensure_ascii=False)])
    transcript = tmp_path / "发布会议.txt"
    transcript.write_text(MEETING, encoding="utf-8")
    open_page(page, app, "minutes")
    body = main(page)
    upload(body, transcript)
    body.get_by_role("button", name=T("minutes.page.generate")).click()
    body.get_by_role("heading", name="发布计划会").wait_for()
    body.get_by_text(T("minutes.page.flagged", count=1).lstrip("⚠ ")).wait_for()   # the ⚠ becomes the icon
    body.get_by_text("下周三发布新版本").first.wait_for()
    tasks = ("完成登录模块的测试", "=cmd|' /C calc'!A0")
    actions = [r for r in grid_rows(body, until=lambda rows: any(r and r[0] in tasks for r in rows))
               if r and r[0] in tasks]
    assert actions and actions[0][:3] == ["完成登录模块的测试", "李四", "周五"], actions
    assert len(app.requests()[seen:]) == 1

    rows = read_csv(download(page, T("minutes.page.download_csv"), tmp_path))
    assert rows[0][:3] == ["task", "owner", "due"]   # fixed machine-readable header in every language
    assert ["完成登录模块的测试", "李四", "周五"] == rows[1][:3]
    assert rows[2][0] == "'=cmd|' /C calc'!A0"   # a formula from the model stays text
    word = docx_text(download(page, T("minutes.page.download_docx"), tmp_path))
    assert "发布计划会" in word and "下周三发布新版本" in word and "完成登录模块的测试" in word

    page.get_by_test_id("stSidebar").get_by_role("radiogroup").get_by_text("English").click()
    body.get_by_role("heading", name=T("minutes.h.actions", "en")).wait_for()
    body.get_by_role("heading", name="Meeting minutes").wait_for()
    body.get_by_role("heading", name="发布计划会").wait_for()   # the minutes survived the switch
    assert page.get_by_test_id("stSidebar").get_by_text("对话").count() == 0
    markdown = download(page, T("minutes.page.download_md", "en"), tmp_path).read_text(encoding="utf-8")
    assert "## Action items" in markdown and "## Decisions" in markdown and "完成登录模块的测试" in markdown
    finish(page, "minutes")


# ---------------------------------------------------------------- settings (then chat on the provider set up there)

def test_settings_journey(app, page, tmp_path):
    """Set up an OpenAI-compatible endpoint with a key, test it, use it; chat then answers through it, and the key
    shows only masked: never in the page, the export or anywhere the browser received."""
    from tests.stubs import Reply
    secret = "sk-e2e-Zq81-7Hd2-never-shown"
    with openai_stub() as stub:
        stub.api_key = secret
        stub.replies = [Reply(text="OK"), Reply(text="这是兼容接口的回答：季度营收 1,234 万元。")]
        open_page(page, app, "settings")
        body = main(page)
        choose(body, T("settings.provider"), "OpenAI-compatible")
        key_field = body.get_by_label(T("settings.api_key", env_var="OPENAI_COMPATIBLE_API_KEY"))
        key_field.wait_for()
        settle(page)   # the previous provider's form is gone
        key_field.fill(secret)
        body.get_by_label(T("settings.base_url")).fill(f"http://127.0.0.1:{stub.port}/v1")
        body.get_by_label(T("settings.model")).fill("stub-model")
        body.get_by_role("button", name=T("settings.test")).click()
        body.get_by_text(T("settings.test_ok", model="stub-model", reply="OK")).wait_for()
        body.get_by_role("button", name=T("settings.apply")).click()
        body.get_by_text(T("settings.saved", provider="OpenAI-compatible")).wait_for()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_test_id("stSelectbox").first.locator("input")).to_have_value("OpenAI-compatible",
                                                                                          timeout=60_000)
        from services.keys import mask
        body.get_by_text(T("settings.current_key", masked=mask(secret), source=T("settings.source.session"))).wait_for()
        settle(page)
        finish(page, "settings")
        assert secret not in page.content()

        # The same browser session goes on to chat (through the menu, not a new page load).
        sidebar.get_by_role("link", name=T("page.chat")).click()
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("上季度营收多少？")
        box.press("Enter")
        page.get_by_test_id("stChatMessage").filter(has_text="季度营收 1,234 万元").last.wait_for()
        exported = download(page, T("chat.export_json"), tmp_path).read_text(encoding="utf-8")
        assert "季度营收 1,234 万元" in exported and secret not in exported
        assert json.loads(exported)["messages"][-1]["provider"] == "openai-compatible"
        chat_posts = [r for r in stub.requests if r["path"].endswith("/chat/completions")]
        assert len(chat_posts) == 2 and all(r["headers"]["authorization"] == f"Bearer {secret}" for r in chat_posts)
        assert chat_posts[1]["body"]["messages"][-1]["content"] == "上季度营收多少？"
        assert secret not in page.content()
        finish(page, "settings-then-chat")
    assert secret not in (app.folder / "streamlit.log").read_text(errors="replace")


# ---------------------------------------------------------------- the real documents in ../shared/data

def test_real_annual_report_journey(app, page, tmp_path, shared_data):
    """四方科技 2019 annual report (156 pages): the seven figures on screen and in the CSV match the hand-read ones."""
    report = shared_data / "reports" / "cn" / "sifang_603339_2019_annual_report.pdf"
    expected = json.loads(report.with_name("sifang_603339_2019_annual_report.expected.json").read_text("utf-8"))
    seen = app.script("real-financials", [])   # tables only: no model call
    open_page(page, app, "financials")
    body = main(page)
    upload(body, report)
    body.get_by_role("button", name=T("fin.run")).click()
    body.get_by_role("button", name=T("fin.download_csv")).wait_for(timeout=180_000)
    from services.financials.messages import field_name
    shown = {r[0]: r[1:] for r in grid_rows(body) if r}
    for key, want in expected["fields"].items():
        value, page_number = shown[field_name(key, "zh")][:2]
        value = value.replace(",", "")  # shown with thousands separators
        assert float(value) == pytest.approx(want["value"]) and int(page_number) == want["page"], (key, value)
    rows = read_csv(download(page, T("fin.download_csv"), tmp_path))
    col = {name: i for i, name in enumerate(rows[0])}
    in_csv = {r[col[T("fin.col.field")]]: r for r in rows[1:]}
    for key, want in expected["fields"].items():
        row = in_csv[field_name(key, "zh")]
        assert float(row[col[T("fin.col.value")]]) == pytest.approx(want["value"])
        assert int(float(row[col[T("fin.col.page")]])) == want["page"]
    assert len(app.requests()) == seen   # the model was not asked
    finish(page, "financials-real")


def test_real_lease_contract_journey(app, page, tmp_path, shared_data):
    """A real Chinese lease, rules only: every clause a tenant-side lawyer marked high risk is high on screen and in
    the JSON export."""
    lease = shared_data / "contracts" / "zh" / "lease_sample_01.txt"
    expected = json.loads(lease.with_name("lease_sample_01.expected.json").read_text("utf-8"))
    high = [c["id"] for c in expected["clauses"] if c["risk_for_lessee"] == "high"]
    app.script("real-contract", [])
    open_page(page, app, "contracts")
    body = main(page)
    upload(body, lease)
    body.get_by_text(T("contract.use_model")).click()   # off: rules only
    body.get_by_role("button", name=T("contract.analyse")).click()
    body.get_by_text(T("contract.rules_only")[:10]).wait_for()
    body.get_by_test_id("stMetricValue").nth(3).wait_for()
    assert int(body.get_by_test_id("stMetricValue").first.inner_text()) >= len(high)
    for clause in high:
        body.get_by_test_id("stExpander").filter(has_text=f"{clause} ").filter(has_text=T("contract.risk.high")).first.wait_for()
    body.get_by_role("tab", name=T("contract.tab.export")).click()
    data = json.loads(download(page, T("contract.download.json"), tmp_path).read_text(encoding="utf-8"))
    risks = {c["id"]: c["risk"] for c in data["clauses"]}
    assert {c: risks.get(c) for c in high} == {c: "high" for c in high}
    assert data["file"] == lease.name and data["summary"]["model"] == ""
    finish(page, "contracts-real")
