"""Shared by the knowledge-base tests: real documents made on the fly, a Chroma server, an embeddings stub."""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.servers import free_port, stop, wait_for_http

LEASE = ("第一章 租赁物\n一、房屋位置\n出租方将位于北京市朝阳区的房屋出租给承租方居住。\n"
         "第二章 押金\n一、押金数额\n承租方应在签约时支付两个月租金作为押金。押金在租期届满、承租方结清费用后七日内退还。\n"
         "二、违约\n承租方提前解约的，押金不予退还。")
COLD_CHAIN = ("第三节 经营情况讨论与分析\n一、主营业务\n公司主要从事冷链设备的研发、生产和销售，产品包括速冻设备和冷藏库。\n"
              "二、研发投入\n报告期内研发投入占营业收入的百分之五点二。")
ENGLISH = ("Item 7. Management's Discussion\nNet revenue increased 12 percent to 4.2 billion dollars, driven by "
           "subscription growth. Operating margin declined because marketing expenses rose.")


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A text PDF (CJK font built into PyMuPDF), one string per page."""
    import pymupdf
    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(50, 50, 550, 800), text, fontname="china-s", fontsize=10)
    doc.save(path)
    doc.close()
    return path


def make_encrypted_pdf(path: Path) -> Path:
    import pymupdf
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret", fontsize=12)
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="user")
    doc.close()
    return path


def make_scanned_blank_pdf(path: Path) -> Path:
    """A page that is only an image of nothing: no text layer, and OCR finds nothing."""
    import pymupdf
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 200), False)
    pix.clear_with(255)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(page.rect, pixmap=pix)
    doc.save(path)
    doc.close()
    return path


def make_docx(path: Path, heading: str, paragraphs: list[str]) -> Path:
    import docx
    d = docx.Document()
    d.add_heading(heading, level=1)
    for p in paragraphs:
        d.add_paragraph(p)
    d.save(str(path))
    return path


class ChromaServer:
    """A real `chroma run` server on 127.0.0.1, started for the tests and stopped after them."""

    def __init__(self, path: Path):
        self.path, self.port = path, free_port()
        exe = Path(sys.executable).parent / "chroma"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "chromadb.cli.cli"]
        env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
        self.log = open(path.parent / "chroma-server.log", "wb")
        self.proc = subprocess.Popen(cmd + ["run", "--path", str(path), "--host", "127.0.0.1", "--port",
                                            str(self.port)], stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_for_http(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", self.proc,
                      lambda: (self.path.parent / "chroma-server.log").read_text(errors="replace"), timeout)

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


def bag_of_words(text: str, dim: int = 64) -> list[float]:
    """A deterministic bag-of-words vector: texts sharing words are near, so dense search has meaning."""
    from services.kb.tokens import tokenize
    vec = [0.0] * dim
    for word in tokenize(text):
        vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class EmbeddingsStub:
    """An OpenAI-protocol /v1/embeddings server on 127.0.0.1 returning bag-of-words vectors; records inputs."""

    def __init__(self):
        self.inputs: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                texts = body.get("input", [])
                texts = [texts] if isinstance(texts, str) else texts
                stub.inputs.extend(texts)
                data = json.dumps({"object": "list", "model": body.get("model"), "data": [
                    {"object": "embedding", "index": i, "embedding": bag_of_words(str(t))}
                    for i, t in enumerate(texts)], "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def clean(text: str) -> str:
    return re.sub(r"\s+", "", text)


__all__ = ["COLD_CHAIN", "ENGLISH", "LEASE", "ChromaServer", "EmbeddingsStub", "bag_of_words", "clean",
           "make_docx", "make_encrypted_pdf", "make_pdf", "make_scanned_blank_pdf", "shutil"]
