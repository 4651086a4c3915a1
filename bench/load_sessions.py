"""Load: many browser sessions at once against one `streamlit run app.py` on 127.0.0.1.

Each session is its own Chromium browser context (no shared cookies or storage, so its own Streamlit session) and
loops, for the whole run, over three steps: a question on the chat page answered by the built-in local model, a
small CSV (with the session's own token in a cell) uploaded to ChatBI and queried with typed SQL, and a small text
file (with the token) added to the session's own knowledge base and asked about. After every step the page's HTML
must not contain ANOTHER session's token (a cross-session leak), and must show no exception or error message.
The server's memory (its process and children, sampled with psutil) and every answer's wait are recorded; the
local model generates one answer at a time (FairLock, FIFO), so the answers per session show whether the queue is
fair.

    PYTHONPATH=. .venv/bin/python -m bench.load_sessions --sessions 20 --minutes 5

Results: bench/out/load/<time>/results.json and summary.txt (plus screenshots of any failed step).
Loopback only: every request the browser makes to another host is aborted.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psutil
from playwright.async_api import expect

from services.chatbi.naming import table_name
from tests.browser import CHROMIUM, CHROMIUM_ARGS, running_app

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "load"
UI_TIMEOUT_MS = 180_000          # a page or widget under load (2 shared cores)
# Keys a developer may have exported: the run must use the built-in model and nothing remote.
_REMOTE_ENV = ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DEEPSEEK_API_KEY", "SILICONFLOW_API_KEY",
               "OLLAMA_BASE_URL", "VLLM_BASE_URL", "OPENAI_COMPATIBLE_BASE_URL", "OPENAI_COMPATIBLE_API_KEY",
               "CHROMA_HOST", "ASSISTANT_REPLAY_FILE", "ASSISTANT_CHAT_PROVIDER", "ASSISTANT_CHAT_SHARED")
# What a step may show without it counting as an error: none. Every st.error / st.exception is counted.
ERROR_SELECTORS = ('[data-testid="stException"]', '[data-testid="stAlertContentError"]')
NAV = {"chat": "对话", "chatbi": "数据问答", "kb": "知识库"}


@dataclass
class SessionStats:
    """What one browser session did and saw."""

    index: int
    token: str
    steps: dict = field(default_factory=lambda: {"chat": 0, "chatbi": 0, "kb": 0})
    chat_waits: list = field(default_factory=list)    # seconds from Enter to the finished answer
    chat_ttft: list = field(default_factory=list)     # the server's time to first token (queue + prompt), seconds
    kb_waits: list = field(default_factory=list)      # seconds from "ask" to the finished, cited answer
    bi_waits: list = field(default_factory=list)      # seconds from the typed SQL to the table and summary
    errors: list = field(default_factory=list)        # {"step", "kind", "detail", "at_s"}
    leak_checks: int = 0
    leaks: list = field(default_factory=list)         # {"step", "other_session", "at_s"}
    own_token_seen: dict = field(default_factory=lambda: {"chat": 0, "chatbi": 0, "kb": 0})

    @property
    def model_answers(self) -> int:
        return len(self.chat_waits) + len(self.kb_waits) + len(self.bi_waits)


class MemorySampler:
    """Peak and series of the RSS of a process and all its children, sampled in a thread."""

    def __init__(self, pid: int, every_s: float = 0.5):
        self.root = psutil.Process(pid)
        self.every_s = every_s
        self.series: list[tuple[float, float]] = []
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> float:
        total = 0
        for proc in [self.root] + self.root.children(recursive=True):
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass  # a child that just ended
        mb = total / 2**20
        self.series.append((round(time.monotonic() - self._start, 1), round(mb, 1)))
        self.peak_mb = max(self.peak_mb, mb)
        return mb

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def server_pid(url: str) -> int:
    """The `streamlit run` process this process started for url."""
    port = str(urlparse(url).port)
    for proc in psutil.Process().children(recursive=True):
        try:
            cmd = proc.cmdline()
        except psutil.Error:
            continue
        if any("streamlit" in c for c in cmd) and port in cmd:
            return proc.pid
    raise RuntimeError(f"no streamlit process listening on port {port} among this process's children")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (pos - low), 2)


def wait_summary(values: list[float]) -> dict:
    return {"count": len(values), "p50_s": percentile(values, 0.5), "p95_s": percentile(values, 0.95),
            "max_s": round(max(values), 2) if values else None}


SEGMENT = "button[kind^='segmented_control'], button[data-variant='segmented_control']"


async def segment_selected(button) -> bool | None:
    """Whether a segmented-control button is the selected one; None when its markup does not say."""
    if await button.get_attribute("aria-checked") in ("true", "false"):   # Streamlit 1.67: role="radio"
        return await button.get_attribute("aria-checked") == "true"
    kind = await button.get_attribute("kind")                              # older: kind="segmented_controlActive"
    return kind.endswith("Active") if kind else None


async def view(page, name: str) -> None:
    """Switch the knowledge-base page's view (a segmented control, not tabs); a view already shown is not clicked."""
    button = page.locator(SEGMENT).filter(has_text=re.compile(f"^{name}$")).first
    selected = await segment_selected(button)
    if selected is None:
        # Guessing would bring back the lost uploads: a click on the selected segment starts a rerun while the
        # file is being chosen (see docs/reliability/load.md, issue 19).
        raise RuntimeError(f"cannot tell whether the view {name!r} is shown: the segmented control's markup changed")
    if not selected:
        await button.click()


async def appears(locator, timeout_ms: float, every_s: float = 1.5) -> None:
    """Wait for a locator by asking once every few seconds: twenty pages polling on every animation frame
    (Playwright's wait_for) took as much CPU as the server and its model."""
    end = time.monotonic() + timeout_ms / 1000
    while not await locator.count():
        if time.monotonic() > end:
            raise TimeoutError(f"Timeout {timeout_ms:.0f}ms exceeded waiting for {locator}")
        await asyncio.sleep(every_s)


class Session:
    """One browser context driving the three pages in a loop."""

    def __init__(self, browser, url: str, stats: SessionStats, tokens: list[str], files_dir: Path, run_start: float,
                 answer_timeout_s: float, shots: Path):
        self.browser, self.url, self.stats, self.tokens = browser, url, stats, tokens
        self.files_dir, self.run_start, self.answer_timeout_ms = files_dir, run_start, answer_timeout_s * 1000
        self.shots = shots
        self.others = [t for t in tokens if t != stats.token]
        self.loop = 0
        self.current: tuple[str, float] | None = None   # the step under way and when it started
        self.kb_base: str | None = None
        self.page = None

    # -------------------------------------------------------------------------------------------- set-up
    async def open(self) -> None:
        context = await self.browser.new_context(viewport={"width": 1300, "height": 900}, locale="zh-CN",
                                                 reduced_motion="reduce")

        async def loopback_only(route):
            req = route.request.url
            if (urlparse(req).hostname or "") in ("127.0.0.1", "localhost") or req.startswith(("data:", "blob:")):
                await route.continue_()
            else:
                await route.abort()

        await context.route("**/*", loopback_only)
        context.set_default_timeout(UI_TIMEOUT_MS)
        self.page = await context.new_page()
        await self.start_page()

    async def start_page(self) -> None:
        """A fresh Streamlit session for this browser context (also the recovery after a failed step)."""
        self.kb_base = None
        await self.page.goto(self.url)
        await self.page.get_by_text("local · qwen2.5-coder-1.5b-instruct").first.wait_for()

    async def go(self, name: str) -> None:
        # The router draws the menu with st.page_link (Streamlit's own sidebar menu is off).
        await self.page.locator('[data-testid="stPageLink-NavLink"]', has_text=NAV[name]).first.click()

    def at(self) -> float:
        return round(time.monotonic() - self.run_start, 1)

    # -------------------------------------------------------------------------------------------- checks
    async def check(self, step: str) -> None:
        """No other session's token anywhere in this page's HTML; no exception or error message shown."""
        page = self.page
        html = await page.content()
        self.stats.leak_checks += 1
        for other in self.others:
            if other in html:
                self.stats.leaks.append({"step": step, "other_session": self.tokens.index(other), "at_s": self.at()})
        if self.stats.token in html:
            self.stats.own_token_seen[step] += 1
        for selector in ERROR_SELECTORS:
            for element in await page.locator(selector).all():
                text = (await element.inner_text()).strip()
                self.stats.errors.append({"step": step, "kind": selector.split('"')[1], "detail": text[:300],
                                          "at_s": self.at()})

    async def failed(self, step: str, exc: BaseException) -> None:
        kind = "timeout" if "Timeout" in type(exc).__name__ else type(exc).__name__
        self.stats.errors.append({"step": step, "kind": kind, "detail": str(exc).splitlines()[0][:300],
                                  "at_s": self.at()})
        try:
            stem = self.shots / f"s{self.stats.index:02d}-{step}-{self.loop}"
            await self.page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
            # The page's text as well: a screenshot of a long page under load is often cut or blank.
            stem.with_suffix(".txt").write_text(await self.page.inner_text("body"), encoding="utf-8")
            await self.check(step)   # a leak or an error message on a failed step still counts
            await self.start_page()
        except Exception as again:  # noqa: BLE001 - the session keeps going; this is recorded too
            self.stats.errors.append({"step": step, "kind": "recovery", "detail": str(again).splitlines()[0][:300],
                                      "at_s": self.at()})

    # -------------------------------------------------------------------------------------------- steps
    async def chat(self) -> None:
        page, token = self.page, self.stats.token
        await self.go("chat")
        await page.get_by_role("heading", name="对话").first.wait_for()
        await page.get_by_role("button", name="新对话").click()
        messages = page.get_by_test_id("stChatMessage")
        await page.get_by_text("开始提问吧").wait_for()  # an empty conversation
        question = f"用一句话回答（编号 {token}-{self.loop}）：{self.loop + 2} 加 {self.loop + 3} 等于几？"
        box = page.get_by_test_id("stChatInputTextArea")
        await box.fill(question)
        started = time.monotonic()
        await box.press("Enter")
        # The numbers line ("… tokens/秒") is drawn under the answer once it is complete and saved.
        await appears(messages.nth(1).filter(has_text="tokens"), self.answer_timeout_ms)
        self.stats.chat_waits.append(round(time.monotonic() - started, 2))
        # The server's own numbers: time to first token includes the wait for the model (the FIFO queue).
        numbers = re.search(r"首字 ([0-9.]+) 秒", await messages.nth(1).inner_text())
        if numbers:
            self.stats.chat_ttft.append(float(numbers.group(1)))
        await messages.nth(0).filter(has_text=f"{token}-{self.loop}").wait_for()
        self.stats.steps["chat"] += 1

    async def chatbi(self) -> None:
        page, token, n = self.page, self.stats.token, self.loop
        await self.go("chatbi")
        await page.get_by_role("heading", name="数据问答").first.wait_for()
        clear = page.get_by_role("button", name="清空对话")
        if await clear.count():
            await clear.click()
            await clear.wait_for(state="detached")
        name = f"load{self.stats.index:02d}x{n}.csv"
        path = self.files_dir / name
        path.write_text(f"region,amount,note\nnorth,{10 + n},{token}\nsouth,{20 + n},plain\nnorth,5,{token}-{n}\n",
                        encoding="utf-8")
        table = table_name(name)
        await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
        await page.get_by_test_id("stExpander").filter(has_text=table).first.wait_for()
        box = page.get_by_test_id("stChatInputTextArea")
        # The token is in the SQL too (an alias): the result table is drawn on a canvas, not in the page's HTML.
        await box.fill(f'SELECT note AS "note_{token}", SUM(amount) AS total FROM {table} GROUP BY note ORDER BY note')
        started = time.monotonic()
        await box.press("Enter")
        answer = page.get_by_test_id("stChatMessage").filter(has_text="结论")
        await appears(answer, self.answer_timeout_ms)
        self.stats.bi_waits.append(round(time.monotonic() - started, 2))
        self.stats.steps["chatbi"] += 1

    async def kb(self) -> None:
        page, token, n = self.page, self.stats.token, self.loop
        await self.go("kb")
        await page.get_by_role("heading", name="知识库").first.wait_for()
        if self.kb_base is None:
            base = f"load-s{self.stats.index:02d}-{secrets.token_hex(2)}"
            create = page.get_by_test_id("stExpander").filter(has_text="新建知识库").first
            name_box = create.get_by_label("名称")
            # Collapsed once another session has a base; the page may still be drawing it, so look again after
            # each click instead of trusting one look.
            for _ in range(10):
                if await name_box.is_visible():
                    break
                await create.locator("summary").click()
                await asyncio.sleep(2)
            await name_box.fill(base)
            await create.get_by_role("button", name="创建").click()
            await expect(page.get_by_role("combobox", name="选择知识库")).to_have_value(base, timeout=UI_TIMEOUT_MS)
            self.kb_base = base
        chooser = page.get_by_role("combobox", name="选择知识库")
        shown = await chooser.input_value()
        if shown != self.kb_base:
            # The page shows a base this session did not choose (another session's): record it, then choose ours.
            self.stats.errors.append({"step": "kb", "kind": "wrong_base",
                                      "detail": f"{shown} instead of {self.kb_base}", "at_s": self.at()})
            await chooser.click()
            await page.get_by_role("option", name=self.kb_base).click()
        await view(page, "文件")
        note = self.files_dir / f"note-s{self.stats.index:02d}-{n}.txt"
        note.write_text(f"第 {n} 号备忘。本会话的暗号是 {token}。The session code word is {token} (note {n}).\n",
                        encoding="utf-8")
        await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(note))
        await page.get_by_role("button", name="加入知识库").click()
        await page.get_by_text(f"{note.name}").first.wait_for()
        await page.get_by_test_id("stAlertContentSuccess").filter(has_text=note.name).first.wait_for()
        await view(page, "提问")
        question = f"暗号 {token} 出现在哪份备忘里？（第 {n} 次）"
        await page.get_by_label("输入问题").fill(question)
        started = time.monotonic()
        await page.get_by_role("button", name="提问").click()
        await appears(page.locator("strong", has_text=f"（第 {n} 次）"), self.answer_timeout_ms)
        await page.get_by_role("button", name="下载答案（Markdown）").wait_for()
        self.stats.kb_waits.append(round(time.monotonic() - started, 2))
        self.stats.steps["kb"] += 1

    async def run(self, deadline: float, *, stagger: bool = True, min_loops: int = 0) -> None:
        """Loop over the steps until the deadline (a started step finishes); at least min_loops full loops."""
        steps = [("chat", self.chat), ("chatbi", self.chatbi), ("kb", self.kb)]
        first = self.stats.index % len(steps) if stagger else 0   # sessions start on different pages
        order = steps[first:] + steps[:first]
        while self.loop < min_loops or time.monotonic() < deadline:
            for name, step in order:
                if self.loop >= min_loops and time.monotonic() >= deadline:
                    break
                self.current = (name, time.monotonic())
                try:
                    await step()
                    await self.check(name)
                except Exception as exc:  # noqa: BLE001 - a failed step is counted, and the session goes on
                    await self.failed(name, exc)
                self.current = None
            self.loop += 1


async def run_sessions(url: str, sessions: int, seconds: float, work: Path, answer_timeout_s: float, *,
                       stagger: bool = True, min_loops: int = 0, drain_s: float = 300) -> dict:
    from playwright.async_api import async_playwright

    tokens = [f"LT{i:02d}{secrets.token_hex(4).upper()}" for i in range(sessions)]
    stats = [SessionStats(i, t) for i, t in enumerate(tokens)]
    shots = work / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    files = work / "files"
    files.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            run_start = time.monotonic()
            drivers = [Session(browser, url, s, tokens, files, run_start, answer_timeout_s, shots) for s in stats]
            # The first session warms the server (imports, first script run) alone; the rest open four at a time,
            # as people arriving, not as one burst of 20 page loads. The timed run starts when all are open.
            gate = asyncio.Semaphore(4)

            async def arrive(driver):
                async with gate:
                    await driver.open()

            opened = await asyncio.gather(drivers[0].open(), return_exceptions=True)
            opened += await asyncio.gather(*(arrive(d) for d in drivers[1:]), return_exceptions=True)
            for driver, result in zip(drivers, opened):
                if isinstance(result, BaseException):
                    driver.stats.errors.append({"step": "open", "kind": type(result).__name__,
                                                "detail": str(result).splitlines()[0][:300], "at_s": driver.at()})
            deadline = time.monotonic() + seconds
            # A step started before the deadline may finish within drain_s; one still waiting then is reported
            # as unfinished (the model queue was that deep), not as an error.
            tasks = [asyncio.create_task(d.run(deadline, stagger=stagger, min_loops=min_loops))
                     for d in drivers if d.page is not None]
            pending = set()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=None if min_loops else seconds + drain_s)
            unfinished = [{"session": d.stats.index, "step": d.current[0],
                           "waited_s": round(time.monotonic() - d.current[1], 1)} for d in drivers if d.current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            wall = time.monotonic() - run_start
        finally:
            await browser.close()
    return {"stats": stats, "wall_s": round(wall, 1), "unfinished": unfinished if pending else []}


def summarize(stats: list[SessionStats], *, sessions: int, seconds: float, wall_s: float, memory: MemorySampler,
              server_log: str, max_tokens: int) -> dict:
    chat_counts = [len(s.chat_waits) for s in stats]
    model_counts = [s.model_answers for s in stats]
    all_chat = [w for s in stats for w in s.chat_waits]
    tracebacks = server_log.count("Traceback (most recent call last)")
    errors = [dict(e, session=s.index) for s in stats for e in s.errors]
    mem = [mb for _, mb in memory.series]
    last_minute = [mb for at, mb in memory.series if at >= (memory.series[-1][0] - 60)] if memory.series else []

    def ratio(counts):
        return round(max(counts) / min(counts), 2) if counts and min(counts) > 0 else None

    return {
        "sessions": sessions, "duration_s": seconds, "wall_s": wall_s, "local_max_tokens": max_tokens,
        "steps": {kind: sum(s.steps[kind] for s in stats) for kind in ("chat", "chatbi", "kb")},
        "errors": len(errors), "server_tracebacks": tracebacks,
        "leak_checks": sum(s.leak_checks for s in stats), "leaks": sum(len(s.leaks) for s in stats),
        "own_token_seen": {kind: sum(s.own_token_seen[kind] for s in stats) for kind in ("chat", "chatbi", "kb")},
        "memory": {"start_mb": mem[0] if mem else None, "peak_mb": round(memory.peak_mb, 1),
                   "end_mb": mem[-1] if mem else None,
                   "last_minute_min_max_mb": [min(last_minute), max(last_minute)] if last_minute else None,
                   "samples": len(mem)},
        "chat_answer_waits": wait_summary(all_chat),
        "chat_time_to_first_token": wait_summary([w for s in stats for w in s.chat_ttft]),
        "kb_answer_waits": wait_summary([w for s in stats for w in s.kb_waits]),
        "chatbi_answer_waits": wait_summary([w for s in stats for w in s.bi_waits]),
        "per_session_chat_wait_median_s": [percentile(s.chat_waits, 0.5) for s in stats],
        "model_answer_waits": wait_summary([w for s in stats for w in s.chat_waits + s.kb_waits + s.bi_waits]),
        "chat_answers_per_session": chat_counts, "model_answers_per_session": model_counts,
        "fairness_chat_max_min": ratio(chat_counts), "fairness_model_max_min": ratio(model_counts),
        "sessions_without_chat_answer": sum(1 for c in chat_counts if c == 0),
        "error_list": errors[:200],
        "leak_list": [dict(leak, session=s.index) for s in stats for leak in s.leaks][:200],
        "memory_series": memory.series[::4],
    }


def summary_text(r: dict, command: str) -> str:
    c, k, b = r["chat_answer_waits"], r["kb_answer_waits"], r["chatbi_answer_waits"]
    m = r["model_answer_waits"]
    lines = [
        f"command: {command}",
        f"sessions: {r['sessions']}   load duration: {r['duration_s']:.0f} s   wall time incl. start and drain: "
        f"{r['wall_s']:.0f} s   local model max_tokens: {r['local_max_tokens']}",
        f"steps done: chat {r['steps']['chat']}, chatbi {r['steps']['chatbi']}, kb {r['steps']['kb']}",
        f"errors: {r['errors']} (server tracebacks: {r['server_tracebacks']})",
        f"leaks: {r['leaks']} in {r['leak_checks']} checks",
        f"server RSS (process + children): start {r['memory']['start_mb']} MB, peak {r['memory']['peak_mb']} MB, "
        f"end {r['memory']['end_mb']} MB, last minute {r['memory']['last_minute_min_max_mb']} MB",
        f"chat answer waits: n={c['count']} p50 {c['p50_s']} s, p95 {c['p95_s']} s, max {c['max_s']} s",
        f"chat time to first token (server, includes the model queue): p50 {r['chat_time_to_first_token']['p50_s']} s, "
        f"max {r['chat_time_to_first_token']['max_s']} s",
        f"kb answer waits: n={k['count']} p50 {k['p50_s']} s, p95 {k['p95_s']} s, max {k['max_s']} s",
        f"chatbi answer waits: n={b['count']} p50 {b['p50_s']} s, p95 {b['p95_s']} s, max {b['max_s']} s",
        f"all model answer waits: n={m['count']} p50 {m['p50_s']} s, p95 {m['p95_s']} s, max {m['max_s']} s",
        f"chat answers per session: {r['chat_answers_per_session']} (max/min {r['fairness_chat_max_min']})",
        f"model answers per session (chat + kb + chatbi summary): {r['model_answers_per_session']} "
        f"(max/min {r['fairness_model_max_min']})",
    ]
    for e in r["error_list"][:20]:
        lines.append(f"  error: session {e['session']} {e['step']} {e['kind']} at {e['at_s']} s: {e['detail'][:160]}")
    return "\n".join(lines) + "\n"


def run(sessions: int = 20, minutes: float = 5.0, *, max_tokens: int = 32, answer_timeout_s: float = 900,
        out: Path | None = None, stagger: bool = True, min_loops: int = 0, drain_s: float = 300) -> dict:
    """Start the app, run the sessions, return the results (also written to out as JSON and text)."""
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium not installed at {CHROMIUM} (Debian package 'chromium')")
    for var in _REMOTE_ENV:
        os.environ.pop(var, None)
    out = out or OUT / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        tmp_path = Path(tmp)
        with running_app(tmp_path, {"ASSISTANT_LOCAL_MAX_TOKENS": str(max_tokens)}) as url:
            with MemorySampler(server_pid(url)) as memory:
                done = asyncio.run(run_sessions(url, sessions, minutes * 60, out, answer_timeout_s, stagger=stagger,
                                                min_loops=min_loops, drain_s=drain_s))
                memory.sample()
        server_log = (tmp_path / "streamlit.log").read_text(errors="replace")
        for log in sorted((tmp_path / "data" / "logs").glob("local-model-server-*.log")):
            (out / log.name).write_bytes(log.read_bytes())  # why a built-in model server stopped, if it did
    (out / "streamlit.log").write_text(server_log)
    results = summarize(done["stats"], sessions=sessions, seconds=minutes * 60, wall_s=done["wall_s"],
                        memory=memory, server_log=server_log, max_tokens=max_tokens)
    results["unfinished_at_end"] = done["unfinished"]
    results["machine"] = {"cpus": os.cpu_count(), "loadavg_before": load_before,
                          "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    results["per_session"] = [{"index": s.index, "steps": s.steps, "chat_waits": s.chat_waits, "chat_ttft": s.chat_ttft,
                               "kb_waits": s.kb_waits, "bi_waits": s.bi_waits, "errors": len(s.errors),
                               "leaks": len(s.leaks), "own_token_seen": s.own_token_seen}
                              for s in done["stats"]]
    command = (f"PYTHONPATH=. .venv/bin/python -m bench.load_sessions --sessions {sessions} --minutes {minutes:g}"
               f" --max-tokens {max_tokens}")
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    (out / "summary.txt").write_text(summary_text(results, command)
                                     + f"steps still waiting {drain_s:.0f} s after the end (not errors): "
                                       f"{results['unfinished_at_end']}\n"
                                     + f"machine: {results['machine']}\n")
    results["out"] = str(out)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--max-tokens", type=int, default=32,
                        help="ASSISTANT_LOCAL_MAX_TOKENS for the server: the built-in model's answer length cap")
    parser.add_argument("--answer-timeout", type=float, default=900, help="seconds one answer may wait")
    parser.add_argument("--drain", type=float, default=300,
                        help="seconds a step started before the end may still take; then it is reported unfinished")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results = run(args.sessions, args.minutes, max_tokens=args.max_tokens, answer_timeout_s=args.answer_timeout,
                  out=args.out, drain_s=args.drain)
    print((Path(results["out"]) / "summary.txt").read_text(), end="")
    print(f"results: {results['out']}/results.json")
    return 0 if results["errors"] == 0 and results["leaks"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
