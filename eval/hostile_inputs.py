"""Hostile and broken files through every page's service entry point: how many are handled, how many fail.

    PYTHONPATH=. python eval/hostile_inputs.py            # table + totals; exit 1 when anything FAILED

Each (page, input) ends as one of:
  handled    the service refused the file with a message for the user (an AppError naming the file)
  processed  the file was read; prompt-injection text in it was flagged (column "note")
  FAILED     anything else: an unexpected exception, a message without the file's name, a generic
             "unexpected error", injection text not flagged, a file saved outside the upload folder, or a
             CSV/Excel export with a cell a spreadsheet would run as a formula.
The contract review and chat pages export Markdown, Word and JSON only (no spreadsheet), so they have no row there.
The corpus comes from tests/hostile_corpus.py and is written to a temporary folder.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="hostile-eval-"))
os.environ.setdefault("ASSISTANT_DATA_DIR", str(_TMP / "data"))
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from services.errors import AppError  # noqa: E402
from tests.hostile_corpus import HOSTILE_NAMES, build  # noqa: E402

GENERIC = {"error.unexpected", "kb.error.index_failed"}  # messages that only wrap a raw exception
INJECTION_KEYS = {"inject_txt", "inject_md", "inject_pdf", "inject_docx", "inject_csv", "inject_xlsx",
                  "transcript_txt", "transcript_docx"}

# Which corpus files each page takes (its uploader's file types).
PAGE_INPUTS = {
    "knowledge_base": ["good_pdf", "encrypted_pdf", "truncated_pdf", "empty_pdf", "image_only_pdf", "long_pdf",
                       "zip_as_pdf", "xlsx_bomb", "gbk_csv", "bom_csv", "header_only_csv", "wide_csv",
                       "formula_csv", "formula_xlsx", "inject_txt", "inject_md", "inject_pdf", "inject_docx",
                       "inject_csv", "inject_xlsx"],
    "financials": ["good_pdf", "encrypted_pdf", "truncated_pdf", "empty_pdf", "image_only_pdf", "long_pdf",
                   "zip_as_pdf", "inject_pdf"],
    "contracts": ["good_pdf", "encrypted_pdf", "truncated_pdf", "empty_pdf", "image_only_pdf", "long_pdf",
                  "zip_as_pdf", "inject_txt", "inject_md", "inject_pdf", "inject_docx"],
    "chatbi": ["xlsx_bomb", "good_csv", "gbk_csv", "bom_csv", "header_only_csv", "wide_csv", "formula_csv",
               "bare_cr_csv", "formula_xlsx", "inject_csv", "inject_xlsx", "empty_pdf"],
    "minutes": ["transcript_txt", "transcript_docx", "inject_txt", "inject_md", "inject_docx", "empty_pdf",
                "zip_as_pdf"],
    "chat": ["good_pdf", "encrypted_pdf", "truncated_pdf", "empty_pdf", "image_only_pdf", "long_pdf", "zip_as_pdf",
             "inject_txt", "inject_md", "inject_pdf", "inject_docx"],
}
# A hostile upload name carries good bytes of the page's kind.
NAME_CARRIER = {"knowledge_base": "good_pdf", "financials": "good_pdf", "contracts": "good_pdf",
                "chatbi": "good_csv", "minutes": "transcript_txt", "chat": "good_pdf"}


def _kb():
    from services.kb import embeddings
    from services.kb.indexing import add_files
    from services.kb.store import KBStore, chroma_client
    store = KBStore(chroma_client())
    store.create_base("hostile-eval", embedder=embeddings.KeywordOnly().id, chunk_size=400, overlap=40)
    emb = embeddings.KeywordOnly()

    def run(path: Path, name: str) -> list[str]:
        outcome = add_files("hostile-eval", [(path, name)], store=store, embedder=emb)[0]
        if outcome.status == "error":
            raise outcome.error
        return store_flags(store, name)
    return run


def store_flags(store, name: str) -> list[str]:
    from services.documents import looks_like_injection
    record = next(r for r in store.files("hostile-eval") if r.file == name)
    text = "\n".join(c.text for c in store.chunks("hostile-eval", sha256=record.sha256))
    store_flags.last_flagged = bool(looks_like_injection(text)) or any(
        "injection" in str(w) for w in record.warnings)
    return [str(w) for w in record.warnings]


def _financials(path: Path, name: str):
    from services.financials.service import analyze
    result = analyze(path, name=name, lang="zh")
    if result.error is not None:
        raise result.error
    return result.injection


def _contracts(path: Path, name: str):
    from services.contracts import analyse_text, read_contract
    text, _notes = read_contract(path, name=name)
    report = analyse_text(text, contract_type="lease", side="b", conn=None, lang="zh", file=name)
    return [f for c in report.clauses for f in c.flags if f == "injection"]


def _chatbi():
    from services.chatbi import Workspace
    ws = Workspace()

    def run(path: Path, name: str):
        report = ws.add_upload(path, name, path.stat().st_size)
        if report.error is not None:
            raise report.error
        from services.documents import looks_like_injection
        text = " ".join(str(v) for info in report.tables for row in ws.files.sample_rows(info.name, 50)[1]
                        for v in row)
        return looks_like_injection(text)
    return run


def _minutes(path: Path, name: str):
    from services.minutes import load_meeting
    from services.minutes.transcript import injection_lines
    return injection_lines(load_meeting(None, path, name=name))


def _chat(path: Path, name: str):
    from services.chat import turns
    return turns.read_attachment(path, name, "zh")["injection"]


def outcome(page: str, key: str, run, path: Path, name: str) -> tuple[str, str]:
    """(outcome, note) for one file through one page's service."""
    try:
        flags = run(path, name)
    except AppError as exc:
        message = exc.message("zh")
        if exc.key in GENERIC:
            return "FAILED", f"generic message: {message[:80]}"
        if name not in message and Path(name).name not in message:
            return "FAILED", f"message does not name the file: {message[:80]}"
        return "handled", message[:70]
    except Exception as exc:  # noqa: BLE001 - this is what the count is for
        return "FAILED", f"{type(exc).__name__}: {exc}"[:100]
    if page == "knowledge_base":
        flagged = getattr(store_flags, "last_flagged", False)
    else:
        flagged = bool(flags)
    if key in INJECTION_KEYS and not flagged:
        return "FAILED", "injection text not flagged"
    return "processed", "injection flagged" if flagged else ""


def run_all(folder: Path) -> list[tuple[str, str, str, str]]:
    """Every (page, input) through its service; rows of (page, input, outcome, note)."""
    from services import storage
    files = build(folder / "corpus")
    runners = {"knowledge_base": _kb(), "financials": _financials, "contracts": _contracts, "chatbi": _chatbi(),
               "minutes": _minutes, "chat": _chat}
    rows = []
    for page, keys in PAGE_INPUTS.items():
        run = runners[page]
        for key in keys:
            path = files[key]
            rows.append((page, f"{key} ({path.name})", *outcome(page, key, run, path, path.name)))
        carrier = files[NAME_CARRIER[page]]
        uploads = folder / "uploads" / page
        uploads.mkdir(parents=True, exist_ok=True)
        for label, hostile in HOSTILE_NAMES.items():
            name = hostile[: -len(".pdf")] + carrier.suffix  # every hostile name ends in .pdf
            try:
                data = carrier.read_bytes()
                if carrier.suffix == ".pdf":  # a comment after %%EOF: same document, new bytes (no duplicate)
                    data += f"\n% {label}\n".encode()
                saved = storage.save_upload(uploads, name, data)
            except (ValueError, OSError) as exc:
                rows.append((page, f"name:{label}", "FAILED", f"not saved: {type(exc).__name__}: {exc}"[:100]))
                continue
            if uploads.resolve() not in saved.resolve().parents:
                rows.append((page, f"name:{label}", "FAILED", f"saved outside the folder: {saved}"))
                continue
            result, note = outcome(page, NAME_CARRIER[page], run, saved, name)
            rows.append((page, f"name:{label}", result, note or f"saved as {saved.name[:40]}"))
    return rows


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cells_safe(csv_payload: bytes | None = None, xlsx_payload: bytes | None = None) -> tuple[int, list[str]]:
    """(cells checked, cells a spreadsheet would run) of a CSV or XLSX export, read as a spreadsheet would."""
    import csv
    import io
    cells: list = []
    if csv_payload is not None:
        text = csv_payload.decode("utf-8-sig")
        cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    if xlsx_payload is not None:
        import openpyxl
        book = openpyxl.load_workbook(io.BytesIO(xlsx_payload))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                cells += [("=" + str(c.value)) if c.data_type == "f" else c.value for c in row]
    live = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_START)]
    return len(cells), live


def export_rows(folder: Path) -> list[tuple[str, str, str, str]]:
    """Every CSV/Excel export fed formula cells: (page, export, outcome, note)."""
    from tests.hostile_corpus import FORMULAS
    files = build(folder / "corpus-exports", bomb_mb=1)
    rows = []

    def check(page: str, label: str, make) -> None:
        try:
            checked, live = _cells_safe(**make())
        except Exception as exc:  # noqa: BLE001
            rows.append((page, label, "FAILED", f"{type(exc).__name__}: {exc}"[:100]))
            return
        rows.append((page, label, "FAILED" if live else "processed",
                     f"live formulas: {live[:3]}" if live else f"{checked} cells, formulas neutralised"))

    from services.chatbi import Workspace, to_csv_bytes, to_excel_bytes
    ws = Workspace()
    path = files["formula_csv"]
    ws.add_upload(path, path.name, path.stat().st_size)
    frame = ws.files.run('SELECT * FROM "formulas"').to_frame()
    check("chatbi", "export csv (formula cells)", lambda: {"csv_payload": to_csv_bytes(frame)})
    check("chatbi", "export xlsx (formula cells)", lambda: {"xlsx_payload": to_excel_bytes(frame)})

    from services.financials import export
    from services.financials.service import analyze
    reports = [analyze(files["good_pdf"], name=f + ".pdf", lang="zh").to_dict("zh") for f in FORMULAS]
    check("financials", "export csv (formula file names)", lambda: {"csv_payload": export.to_csv(reports, "zh")})
    check("financials", "export xlsx (formula file names)", lambda: {"xlsx_payload": export.to_xlsx(reports, "zh")})

    from services.minutes import action_items_csv
    from services.minutes.schema import ActionItem
    items = [ActionItem(task=f, owner=f, due=f, source_line=1) for f in FORMULAS]
    check("minutes", "action items csv (formula cells)", lambda: {"csv_payload": action_items_csv(items, "zh")})
    return rows


def main() -> int:
    rows = run_all(_TMP) + export_rows(_TMP)
    width = max(len(r[1]) for r in rows)
    print(f"{'page':15} {'input':{width}} {'outcome':10} note")
    for page, name, result, note in rows:
        print(f"{page:15} {name:{width}} {result:10} {note}".replace("\n", " "))
    tried = len(rows)
    handled = sum(1 for r in rows if r[2] != "FAILED")
    refused = sum(1 for r in rows if r[2] == "handled")
    print(f"\ntried {tried}  handled {handled} (refused with a message {refused}, processed {handled - refused})  "
          f"FAILED {tried - handled}")
    return 0 if handled == tried else 1


if __name__ == "__main__":
    sys.exit(main())
