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
from tests.browser import ARTIFACTS, browser_page, running_app  # noqa: F401 - fixtures
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


# ---------------------------------------------------------------- helpers

def open_page(page, app: App, path: str = "") -> None:
    """A new browser session on one page, started on the replay provider."""
    page.goto(f"{app.url}/{path}")
    # The router's sidebar is there (also for a first visit by page link) and the replay provider is chosen.
    provider = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.locator("input")
    expect(provider).to_have_value("Replay", timeout=60_000)


def main(page):
    return page.get_by_test_id("stMain")


def upload(scope, path: Path) -> None:
    """Choose a file in the (only) uploader in scope and wait until the uploader lists it."""
    uploader = scope.get_by_test_id("stFileUploader")
    files = uploader.get_by_test_id("stFileChip")
    before = files.count()
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    files.nth(before).wait_for()


def download(page, label: str, folder: Path) -> Path:
    """Press a download button and keep the file the browser received."""
    button = page.get_by_test_id("stDownloadButton").filter(has_text=label).locator("button")
    with page.expect_download() as info:
        button.click()
    got = info.value
    target = folder / got.suggested_filename
    got.save_as(target)
    return target


def finish(page, name: str) -> None:
    """Screenshot for people to look at, and no traceback anywhere on the page."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}.png"), full_page=True)
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.first.inner_text()


def grid_rows(scope) -> list[list[str]]:
    """The rows of every st.dataframe / st.data_editor in scope, read from the grid's accessible table (the grid
    itself is drawn on a canvas)."""
    scope.locator('[data-testid="stDataFrame"] td').first.wait_for(state="attached")
    return scope.locator('[data-testid="stDataFrame"] tr').evaluate_all(
        "rows => rows.map(r => Array.from(r.querySelectorAll('th, td')).map(c => c.textContent.trim()))")


def choose(scope, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox."""
    scope.get_by_test_id("stSelectbox").filter(has_text=label).locator("input").click()
    scope.page.get_by_role("option", name=option, exact=True).click()


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
    assert [report.name, "测试科技股份有限公司", "600123", "2021", "CNY"] == shown[1][:5], shown
    details = {r[0]: r[1:] for r in shown if r}
    assert details["资产总计"][:2] == ["5000000", "6"] and details["负债合计"][:2] == ["2000000", "6"], details
    assert details["营业收入"][0] == "1000000"

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
