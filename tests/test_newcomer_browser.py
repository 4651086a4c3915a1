"""What a newcomer sees in a real browser (issue 20): `streamlit run app.py` on a fresh server, headless Chromium,
the vLLM provider pointed at a loopback OpenAI-protocol stub. The first load's menu, an answer never on screen twice,
the knowledge-base chat's steps while it waits, and long work (minutes, contract review) with a clock and Stop."""
from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import ARTIFACTS, browser_page, running_app  # noqa: F401 - fixtures
from tests.stubs import Reply, openai_stub

pytestmark = pytest.mark.timeout(300)

RAW_NAMES = {"app", "chat", "chatbi", "contracts", "financials", "knowledge base", "knowledge_base", "minutes",
             "settings"}
KB_NAME = f"租约库-{uuid.uuid4().hex[:6]}"

# Every text the sidebar's menu links ever showed, and the most chat messages that ever held one text at once.
WATCH = """
window.__menu = new Set();
window.__most = 0;
window.__watch = '';
new MutationObserver(() => {
  document.querySelectorAll('[data-testid="stSidebar"] a').forEach(a => window.__menu.add(a.innerText.trim()));
  if (window.__watch) {
    const n = Array.from(document.querySelectorAll('[data-testid="stChatMessage"]'))
      .filter(m => m.innerText.includes(window.__watch)).length;
    window.__most = Math.max(window.__most, n);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def stub():
    with openai_stub() as server:
        yield server


@pytest.fixture(scope="module")
def app(tmp_path_factory, stub):
    folder = tmp_path_factory.mktemp("newcomer")
    make_base(folder / "data" / "kb")
    env = {"ASSISTANT_CHAT_PROVIDER": "vllm", "VLLM_BASE_URL": f"http://127.0.0.1:{stub.port}/v1",
           "VLLM_API_KEY": stub.api_key, "ASSISTANT_SESSION_GRACE_S": "1"}
    with running_app(folder, env) as url:
        yield url


def make_base(path) -> None:
    """A knowledge base with the test lease in the server's data folder, made before the server starts."""
    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    BM25 = embeddings.KeywordOnly()
    from tests.test_kb_helpers import LEASE, make_pdf
    store = KBStore(chroma_client(path))
    store.create_base(KB_NAME, embedder=BM25.id, chunk_size=300, overlap=40)
    pdf = make_pdf(path.parent / "租赁合同.pdf", [LEASE, "第三章 维修\n房屋维修由出租方负责。"])
    add_files(KB_NAME, [(pdf, pdf.name)], store=store, embedder=BM25)


def settle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                           " && !document.querySelector('[data-stale=\"true\"]')")


def chat_calls(stub) -> int:
    return sum(1 for r in stub.requests if r["path"].endswith("/chat/completions"))


def test_a_fresh_servers_first_load_shows_the_real_menu_and_never_raw_file_names(app, browser_page):
    # First in this module: only the first visit to a fresh server ever ran the pages/ folder as a page list.
    page = browser_page
    page.add_init_script(WATCH)
    page.goto(app)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    settle(page)
    seen = set(page.evaluate("Array.from(window.__menu)"))
    assert not {s.lower() for s in seen} & RAW_NAMES, seen
    for title in ("对话", "知识库", "合同审查", "会议纪要", "设置"):
        assert any(title in s for s in seen), (title, seen)


def test_an_answer_is_never_on_screen_twice(app, browser_page, stub):
    """The flaky `get_by_text(...)` of test_model_faults_browser: the streamed answer and the saved copy drawn by the
    rerun were both on the page for a moment."""
    page = browser_page
    page.add_init_script(WATCH)
    answer = "押金在租期届满后七日内退还。"
    page.goto(app)
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for()
    settle(page)
    for n, question in enumerate(["押金什么时候退？", "再说一遍？", "第三次？"]):
        stub.replies = [Reply(text=answer + "（" + str(n) + "）")]
        page.evaluate(f"window.__watch = {('（' + str(n) + '）')!r}; window.__most = 0")
        box.fill(question)
        box.press("Enter")
        page.get_by_test_id("stChatMessage").filter(has_text=f"（{n}）").first.wait_for()
        settle(page)
        assert page.evaluate("window.__most") == 1, f"answer {n} was shown twice at some moment"


def test_knowledge_base_chat_shows_its_step_and_the_seconds_while_it_waits(app, browser_page, stub):
    page = browser_page
    page.goto(app)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    settle(page)
    page.get_by_text("使用知识库").click()
    page.get_by_test_id("stSelectbox").filter(has_text="知识库").wait_for()
    settle(page)
    stub.replies = [Reply(text="押金七日内退还[1]。", delay_s=4)]
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("押金什么时候退还？")
    box.press("Enter")
    waiting = page.get_by_text(re.compile(r"生成中… 已把 \d+ 段资料交给模型，等待第一个字（已用 \d+ 秒）"))
    waiting.wait_for()
    first = int(re.search(r"已用 (\d+) 秒", waiting.inner_text()).group(1))
    page.wait_for_timeout(2200)
    if waiting.count():   # still waiting: the clock moved on
        assert int(re.search(r"已用 (\d+) 秒", waiting.inner_text()).group(1)) > first
    page.get_by_test_id("stChatMessage").filter(has_text="押金七日内退还").last.wait_for()
    settle(page)
    assert page.get_by_text(re.compile("生成中…")).count() == 0, "the step line goes once the answer comes"
    answer = page.get_by_test_id("stChatMessage").filter(has_text="押金七日内退还").last
    expect(answer).to_contain_text(re.compile(r"提供给模型的段落（\d+ 段）"))


MEETING = "\n".join(f"{'张三' if i % 2 else '李四'}：第{i}项议题，我们讨论了预算和进度。" for i in range(1, 9))


def test_minutes_show_a_clock_and_a_stop_button_and_stop_at_once(app, browser_page, stub):
    page = browser_page
    page.goto(f"{app}/minutes")
    page.get_by_text("会议纪要").first.wait_for()
    settle(page)
    before = chat_calls(stub)
    stub.replies = [Reply(text="{}", delay_s=20)]
    page.get_by_label("或直接粘贴文字稿").fill(MEETING)
    page.get_by_role("button", name="生成纪要").click()
    clock = page.get_by_text(re.compile(r"正在总结第 1/1 段… · 已用 \d+ 秒"))
    clock.wait_for()
    first = int(re.search(r"已用 (\d+) 秒", clock.inner_text()).group(1))
    page.wait_for_timeout(2500)
    assert int(re.search(r"已用 (\d+) 秒", clock.inner_text()).group(1)) >= first + 1, "the clock runs"
    page.get_by_role("button", name="停止").click()
    page.get_by_text(re.compile("已停止：生成纪要没有完成")).wait_for()
    settle(page)
    assert page.get_by_role("button", name="停止").count() == 0
    assert chat_calls(stub) == before + 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "newcomer-minutes-stopped.png"), full_page=True)


def test_a_contract_review_ends_when_its_tab_is_closed(app, browser_page, stub):
    """Forty clauses go to the model in batches; closing the tab after the first one stops the rest."""
    page = browser_page
    clauses = "\n".join(f"第{n}条 事项{n}\n乙方应按约定履行第{n}项义务，甲方予以配合。" for n in range(1, 41))
    page.goto(f"{app}/contracts")
    page.get_by_role("button", name="开始审查").wait_for()
    settle(page)
    page.get_by_label("或直接粘贴合同文字").fill("房屋租赁合同\n出租方（甲方）：王五\n承租方（乙方）：赵六\n" + clauses)
    stub.replies = [Reply(text="not json", delay_s=2)] * 40
    page.get_by_role("button", name="开始审查").click()
    page.get_by_role("button", name="停止").wait_for()
    page.get_by_text(re.compile(r"已用 \d+ 秒")).wait_for()
    deadline = time.monotonic() + 60
    while review_calls(stub) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    page.close()   # the user closes the tab mid-review
    time.sleep(8)  # the grace period (1 s here) and the batch in flight, with its one repair request
    settled = review_calls(stub)
    time.sleep(6)
    assert review_calls(stub) == settled <= 3, "nothing more is asked for a closed tab"
    stub.replies = []


def review_calls(stub) -> int:
    """Requests of the contract review only (an earlier test's request in flight may still arrive)."""
    return sum(1 for r in stub.requests if r["path"].endswith("/chat/completions") and "<clause id=" in str(r["body"]))
