"""Isolation and secrets (issue 9, item 5): one browser session never sees another's keys, tables or private
knowledge bases; keys never reach the log, the page, an export or the data folder; uploaded files keep safe names
under the data folder and old sessions' files are removed after the retention period."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser import ARTIFACTS, ROOT, browser_page, running_app, settle  # noqa: F401 - fixtures

ENV_KEY = "sk-ENVSECRET-7f3a9c2e1b4d5a6f"
TYPED_KEY = "sk-TYPEDSECRET-9e8d7c6b5a4f3e2d"
SECRET_PARTS = ("ENVSECRET", "TYPEDSECRET", ENV_KEY, TYPED_KEY)


# ---------------------------------------------------------------------------------------------------------------
# Retention: old session folders go, recent ones stay, nothing outside the data folder is touched
# ---------------------------------------------------------------------------------------------------------------
def _session(root: Path, sid: str, age_days: float, now: float) -> Path:
    folder = root / "sessions" / sid / "uploads"
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"%PDF-1.4 test")
    stamp = now - age_days * 86400
    for p in (folder / "report.pdf", folder, folder.parent):
        os.utime(p, (stamp, stamp), follow_symlinks=False)
    return folder.parent


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    from services import storage
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setattr(storage, "DATA_DIR", root)
    return root


def test_cleanup_deletes_old_sessions_and_keeps_recent_ones(data_root, monkeypatch):
    from services import storage
    now = time.time()
    old = _session(data_root, "a" * 32, 10, now)
    recent = _session(data_root, "b" * 32, 2, now)
    # An old folder with one file touched today counts as in use.
    touched = _session(data_root, "c" * 32, 30, now)
    os.utime(touched / "uploads" / "report.pdf", (now, now))
    monkeypatch.setenv(storage.RETENTION_ENV, "7")
    removed = storage.cleanup_sessions(now=now)
    assert removed == ["a" * 32]
    assert not old.exists() and recent.exists() and touched.exists()
    # A shorter retention removes more; 0 means keep everything.
    assert storage.cleanup_sessions(1, now=now) == ["b" * 32]
    assert storage.cleanup_sessions(0, now=now) == [] and touched.exists()


def test_cleanup_never_follows_a_symlink_out_of_the_data_folder(data_root, tmp_path):
    from services import storage
    now = time.time()
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / "precious.txt"
    precious.write_text("keep me")
    old_stamp = now - 30 * 86400
    os.utime(precious, (old_stamp, old_stamp))
    os.utime(outside, (old_stamp, old_stamp))
    old = _session(data_root, "d" * 32, 30, now)
    (old / "uploads" / "link-dir").symlink_to(outside, target_is_directory=True)
    (old / "uploads" / "link-file").symlink_to(precious)
    for link in (old / "uploads" / "link-dir", old / "uploads" / "link-file", old / "uploads"):
        os.utime(link, (old_stamp, old_stamp), follow_symlinks=False)
    os.utime(old, (old_stamp, old_stamp))
    # A whole "session folder" that is a symlink to somewhere else.
    (data_root / "sessions" / ("e" * 32)).symlink_to(outside, target_is_directory=True)
    os.utime(data_root / "sessions" / ("e" * 32), (old_stamp, old_stamp), follow_symlinks=False)

    removed = storage.cleanup_sessions(7, now=now)
    assert sorted(removed) == ["d" * 32, "e" * 32]
    assert not old.exists() and not (data_root / "sessions" / ("e" * 32)).exists()
    assert precious.read_text() == "keep me" and outside.is_dir()


def test_cleanup_runs_at_most_once_an_hour(data_root):
    from services import storage
    now = time.time()
    _session(data_root, "f" * 32, 30, now)
    assert storage.cleanup_if_due(now=now) == ["f" * 32]
    _session(data_root, "0" * 32, 30, now)
    assert storage.cleanup_if_due(now=now + 60) is None          # not due yet: nothing done
    assert (data_root / "sessions" / ("0" * 32)).exists()
    assert storage.cleanup_if_due(now=now + 3700) == ["0" * 32]


def test_cleanup_command_line(tmp_path):
    root = tmp_path / "data"
    now = time.time()
    _session(root, "1" * 32, 9, now)
    _session(root, "2" * 32, 1, now)
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(root), "ASSISTANT_RETENTION_DAYS": "7"}
    done = subprocess.run([sys.executable, "-m", "services", "cleanup"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "removed 1 session folder" in done.stdout
    assert sorted(p.name for p in (root / "sessions").iterdir()) == ["2" * 32]
    done = subprocess.run([sys.executable, "-m", "services", "cleanup", "--days", "0.5"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not list((root / "sessions").iterdir())


@pytest.mark.parametrize("name", ["../../x.pdf", "/etc/passwd.pdf", "..\\..\\win.pdf", "a\x00b.pdf", "..", ".",
                                  "sub/../../../y.pdf", "\u202egnp.pdf", "x" * 400 + ".pdf"])
def test_saved_uploads_stay_in_their_folder(tmp_path, name):
    from services import storage
    folder = tmp_path / "sessions" / "uploads"
    folder.mkdir(parents=True)
    path = storage.save_upload(folder, name, b"data")
    assert path.parent == folder.resolve() and path.read_bytes() == b"data"
    assert "\x00" not in path.name and "/" not in path.name and not path.name.startswith(".")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]


# ---------------------------------------------------------------------------------------------------------------
# Keys: a loopback provider that rejects every key and echoes it back in its error body
# ---------------------------------------------------------------------------------------------------------------
class EchoingRejecter(BaseHTTPRequestHandler):
    """OpenAI-compatible endpoint: 401 for the environment key, 400 for any other, both quoting the key."""

    seen: list = []

    def log_message(self, *args):
        pass

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - /models
        self._reply(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        self.seen.append(key)
        status = 401 if key == ENV_KEY else 400
        self._reply(status, {"error": {"message": f"Incorrect API key provided: {key}. Your key {key} is not valid.",
                                       "type": "invalid_request_error", "code": "invalid_api_key"}})


@pytest.fixture(scope="module")
def secret_app(tmp_path_factory):
    """The app started with a distinctive OpenAI key in its environment, pointed at the echoing stub."""
    EchoingRejecter.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EchoingRejecter)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    tmp = tmp_path_factory.mktemp("secret-app")
    stub_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    env = {"OPENAI_API_KEY": ENV_KEY, "OPENAI_BASE_URL": stub_url, "ASSISTANT_CHAT_PROVIDER": "openai",
           "ASSISTANT_SECRETS_FILE": str(tmp / "secrets.toml")}
    try:
        with running_app(tmp, env) as url:
            yield {"url": url, "tmp": tmp, "stub": stub_url}
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def shot_on_failure(request, browser_page):
    """A full-page screenshot in test-artifacts/ when the test fails (to see what the page showed)."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            browser_page.screenshot(path=str(ARTIFACTS / f"failed-{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)[:80]}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - the page may be gone
            pass


def _no_traceback(page) -> None:
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()


def _assert_no_secret(text: str, where: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text, f"key material {part!r} found in {where}"


def _select(page, label: str, option: str) -> None:
    page.get_by_test_id("stMain").get_by_label(label).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def _ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def test_keys_never_appear_in_page_log_exports_or_data(secret_app, browser_page, tmp_path, shot_on_failure):
    page = browser_page
    contents = []
    page.goto(secret_app["url"])
    page.get_by_text("OpenAI · ", exact=False).first.wait_for()
    # 1. The environment key is rejected (401, body echoing the key): a clear message, no key.
    _ask(page, "你好，环境变量里的密钥")
    page.get_by_text("拒绝了 API 密钥", exact=False).first.wait_for()
    _no_traceback(page)
    contents.append(("chat page (env key)", page.content()))

    # 2. A key typed on the settings page, for a custom endpoint answering 400 with the key in its body.
    page.goto(secret_app["url"] + "/settings")
    page.get_by_text("各服务状态").wait_for()
    _select(page, "模型服务", "OpenAI")
    page.get_by_text("当前密钥：sk-…5a6f（来源：环境变量）", exact=False).wait_for()  # the env key, masked
    _select(page, "模型服务", "OpenAI-compatible")
    form = page.get_by_test_id("stMain")
    form.get_by_label("API 密钥（OPENAI_COMPATIBLE_API_KEY）").wait_for()
    page.get_by_text("未设置密钥").wait_for()
    # The previous provider's form stays in the page until the rerun has finished drawing: wait until it is gone.
    page.wait_for_function("document.querySelectorAll('input[aria-label=\"服务地址（Base URL）\"]').length === 1")
    form.get_by_label("服务地址（Base URL）").fill(secret_app["stub"])
    form.get_by_label("模型名（可留空使用默认）").fill("stub-model")
    form.get_by_label("API 密钥（OPENAI_COMPATIBLE_API_KEY）").fill(TYPED_KEY)
    page.get_by_role("button", name="测试连接").click()
    page.get_by_text("拒绝了请求", exact=False).first.wait_for()
    alert = page.get_by_text("拒绝了请求", exact=False).first.inner_text()
    assert "sk-…3e2d" in alert  # the echoed key, masked
    _no_traceback(page)
    contents.append(("settings page after test", page.content()))
    page.get_by_role("button", name="保存并使用").click()
    page.get_by_text("已保存，当前模型服务", exact=False).wait_for()
    page.get_by_text("当前密钥：sk-…3e2d（来源：本次会话）", exact=False).wait_for()
    contents.append(("settings page after save", page.content()))

    # 3. Chat with the typed key: the failure is shown and stored, the key is not.
    page.get_by_role("link", name="对话").first.click()
    page.get_by_test_id("stChatInputTextArea").wait_for()
    page.get_by_text("OpenAI-compatible · stub-model", exact=False).first.wait_for()
    _ask(page, "你好，输入的密钥")
    page.get_by_text("拒绝了请求", exact=False).first.wait_for()
    _no_traceback(page)
    contents.append(("chat page (typed key)", page.content()))
    exports = []
    for button in ("导出 Markdown", "导出 JSON"):
        locator = page.get_by_role("button", name=button)
        if locator.count() == 0:
            locator = page.get_by_test_id("stDownloadButton").filter(has_text=button.split()[-1])
        with page.expect_download() as info:
            locator.first.click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        exports.append(target)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "secrets-chat.png"), full_page=True)

    # Both keys really were sent (so the test can fail), and none of it leaked anywhere.
    assert ENV_KEY in EchoingRejecter.seen and TYPED_KEY in EchoingRejecter.seen
    for where, html in contents:
        _assert_no_secret(html, where)
    assert len(exports) == 2 and all(p.stat().st_size > 0 for p in exports)
    assert "拒绝了请求" in exports[0].read_text(encoding="utf-8")  # the stored failure is in the export
    for path in exports:
        _assert_no_secret(path.read_text(encoding="utf-8"), path.name)
    scanned = 0
    for path in secret_app["tmp"].rglob("*"):  # the streamlit log, the chat database, the data folder
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for part in SECRET_PARTS:
                assert part.encode() not in data, f"key material {part!r} found in {path}"
            scanned += 1
    assert scanned >= 2 and (secret_app["tmp"] / "streamlit.log").exists()
    assert not (secret_app["tmp"] / "secrets.toml").exists()  # nothing saved to disk unless asked


def test_another_session_sees_no_key_table_or_private_base(secret_app, browser_page, shot_on_failure):
    """Browser A types a key, loads a table and makes a private and a shared base; browser B sees only the shared one."""
    page_a = browser_page
    url = secret_app["url"]
    page_a.goto(url + "/settings")
    page_a.get_by_text("各服务状态").wait_for()
    _select(page_a, "模型服务", "DeepSeek")
    # The previous provider's form stays in the page until the rerun has finished drawing: wait until it is gone.
    page_a.wait_for_function("document.querySelectorAll('input[aria-label^=\"API 密钥\"]').length === 1 && "
                             "document.querySelector('input[aria-label=\"API 密钥（DEEPSEEK_API_KEY）\"]') !== null")
    page_a.get_by_label("API 密钥（DEEPSEEK_API_KEY）").fill(TYPED_KEY)
    page_a.get_by_role("button", name="保存并使用").click()
    page_a.get_by_text("当前密钥：sk-…3e2d（来源：本次会话）", exact=False).wait_for()

    page_a.goto(url + "/chatbi")
    page_a.get_by_text("上传数据文件").wait_for()
    page_a.locator("input[type=file]").first.set_input_files(
        files=[{"name": "secret_sales.csv", "mimeType": "text/csv",
                "buffer": "region,amount\nnorth,10\nsouth,20\n".encode()}])
    page_a.get_by_text("secret_sales", exact=False).first.wait_for()

    page_a.goto(url + "/knowledge_base")
    page_a.get_by_text("还没有知识库", exact=False).wait_for()
    for name, shared in (("私有库甲", False), ("公共库乙", True)):
        form = page_a.get_by_test_id("stForm").first
        details = page_a.get_by_test_id("stExpander").filter(has_text="新建知识库").locator("details").first
        # After the first base the page redraws on its files view with the form folded, and a late rerun can fold
        # it again after it was seen open: wait for each run to end, open the form, and try the field again until
        # typing into it works.
        for _ in range(15):
            settle(page_a)
            if details.get_attribute("open") is None:
                details.locator("summary").click()
                settle(page_a)
            try:
                form.get_by_label("名称").fill(name, timeout=3000)
                break
            except PlaywrightTimeoutError:
                page_a.wait_for_timeout(1000)
        else:
            pytest.fail("the new-base form never took the name")
        if shared:
            form.get_by_text("共享给本应用的所有用户").click()
        form.get_by_role("button", name="创建").click()
        page_a.get_by_text(f"已创建知识库「{name}」", exact=False).first.wait_for()
        page_a.get_by_test_id("stMain").get_by_label("选择知识库").first.wait_for()
    _select(page_a, "选择知识库", "私有库甲")
    _no_traceback(page_a)

    browser = page_a.context.browser
    page_b = browser.new_context(locale="zh-CN").new_page()
    page_b.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    page_b.goto(url + "/knowledge_base")
    page_b.get_by_test_id("stMain").get_by_label("选择知识库").first.wait_for()
    page_b.get_by_test_id("stMain").get_by_label("选择知识库").first.click()
    options = [o.inner_text().strip() for o in page_b.get_by_role("option").all()]
    page_b.keyboard.press("Escape")
    assert "公共库乙" in options and "私有库甲" not in options
    assert "私有库甲" not in page_b.content()

    page_b.goto(url + "/chatbi")
    page_b.get_by_text("上传数据文件").wait_for()
    assert "secret_sales" not in page_b.content()
    page_b.goto(url + "/settings")
    page_b.get_by_text("各服务状态").wait_for()
    _select(page_b, "模型服务", "DeepSeek")
    page_b.get_by_text("未设置密钥").wait_for()
    _assert_no_secret(page_b.content(), "another session's settings page")
    ARTIFACTS.mkdir(exist_ok=True)
    page_b.screenshot(path=str(ARTIFACTS / "isolation-other-session.png"), full_page=True)

    # Browser A, reloaded with its own address, still sees its private base.
    page_a.reload()
    page_a.get_by_test_id("stMain").get_by_label("选择知识库").first.click()
    options_a = [o.inner_text().strip() for o in page_a.get_by_role("option").all()]
    page_a.keyboard.press("Escape")
    assert "私有库甲" in options_a and "公共库乙" in options_a


def _uploaded_files(data: Path, suffix: str) -> list[Path]:
    return [p for p in data.rglob(f"*{suffix}")]


@pytest.mark.parametrize("page_path,names,done_text", [
    ("/chatbi", ["../../escape.csv", "/tmp/absolute-escape.csv", "..\\..\\win-escape.csv"], "已载入表"),
    ("/minutes", ["../../escape-minutes.txt"], None),
])
def test_crafted_upload_names_stay_in_the_session_folder(secret_app, browser_page, page_path, names, done_text,
                                                         shot_on_failure):
    page = browser_page
    data = secret_app["tmp"] / "data"
    suffix = Path(names[0]).suffix
    before = set(_uploaded_files(data, suffix))
    page.goto(secret_app["url"] + page_path)
    page.get_by_test_id("stFileUploaderDropzone").first.wait_for()
    body = "k,v\n1,2\n" if suffix == ".csv" else "张三：我们下周一交付报告。\n李四：好的，我来负责。\n"
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": n, "mimeType": "text/plain", "buffer": body.encode()} for n in names])
    page.get_by_test_id("stFileUploaderDropzone").first.wait_for()
    page.get_by_text(re.compile(r"^\d+(\.\d+)?\s?[KM]?B$")).first.wait_for()  # the file chip: upload done
    if done_text:
        page.get_by_text(done_text, exact=False).first.wait_for()
    else:  # the minutes page saves the upload when it is used
        page.get_by_role("button", name="生成纪要").click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(set(_uploaded_files(data, suffix)) - before) < len(names):
        time.sleep(0.5)
    _no_traceback(page)
    new = set(_uploaded_files(data, suffix)) - before
    assert len(new) == len(names), sorted(map(str, new))
    assert all(p.resolve().is_relative_to(data.resolve() / "sessions") and p.parent.name == "uploads" for p in new)
    assert not Path("/tmp/absolute-escape.csv").exists()
    stray = [p for p in secret_app["tmp"].rglob(f"*{suffix}") if not p.resolve().is_relative_to(data.resolve())]
    assert stray == [] and not list(ROOT.glob(f"*escape*")) and not list(ROOT.parent.glob("*escape*"))


def test_a_nul_byte_in_an_upload_name_writes_nothing(secret_app, browser_page, shot_on_failure):
    """Streamlit itself refuses such a name (in its uploader, before the page runs): nothing may be written, and
    the server keeps serving other sessions."""
    page = browser_page
    data = secret_app["tmp"] / "data"
    before = set(_uploaded_files(data, ".csv"))
    page.goto(secret_app["url"] + "/chatbi")
    page.get_by_test_id("stFileUploaderDropzone").first.wait_for()
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "nul\x00byte.csv", "mimeType": "text/csv", "buffer": b"k,v\n1,2\n"}])
    page.wait_for_timeout(3000)
    assert set(_uploaded_files(data, ".csv")) == before
    other = page.context.browser.new_context(locale="zh-CN").new_page()
    other.goto(secret_app["url"] + "/chatbi")
    other.get_by_text("上传数据文件").wait_for()
    _no_traceback(other)


def test_sessions_starting_together_all_see_every_provider():
    """Found by the upload test: the provider registry was marked loaded before its imports finished, so a page
    starting at the same moment as another saw no providers at all (a crash on a freshly started server)."""
    code = ("import threading\nfrom services import providers\nout = []\n"
            "ts = [threading.Thread(target=lambda: out.append(len(providers.all_providers()))) for _ in range(8)]\n"
            "[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sorted(out))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(counts) == 8 and counts[0] > 0 and len(set(counts)) == 1, counts


def test_sessions_starting_together_can_all_list_knowledge_bases(tmp_path):
    """Found by the kill test: the chat page opens a Chroma client on every run, and clients created at the same
    moment raced inside chromadb ("Could not connect to tenant default_tenant"): a crashed page after a restart."""
    code = ("import threading\nfrom services import kb\nerrors = []\n"
            "def f():\n    try:\n        kb.list_bases()\n    except Exception as exc:\n        errors.append(repr(exc))\n"
            "ts = [threading.Thread(target=f) for _ in range(6)]\n[t.start() for t in ts]\n[t.join() for t in ts]\n"
            "print(len(errors), errors[:1])\n")
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0 []"
