"""The financial-report page run headless with AppTest: files in, per-file messages, table, charts, downloads."""
from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.test_financials_pdfs import cn_report, en_10k

ROOT = Path(__file__).resolve().parents[1]


def page(tmp_path, files, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "financials.py"), default_timeout=120)
    at.session_state["fin.queue"] = [(p.name, p.read_bytes()) for p in files]
    for k, v in state.items():
        at.session_state[k] = v
    return at


def test_reports_are_extracted_compared_charted_and_downloadable(tmp_path):
    good = cn_report(tmp_path / "cn.pdf")
    other = en_10k(tmp_path / "us.pdf")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nonsense")
    at = page(tmp_path, [good, broken, other]).run()
    assert not at.exception
    assert any("上传" in i.value for i in at.info)  # nothing processed before the button is pressed
    at.button(key="fin.run").click().run()
    assert not at.exception
    results = at.session_state["fin.results"]
    assert set(results) == {"cn.pdf", "us.pdf"}
    assert results["cn.pdf"]["fields"]["total_liabilities"]["value"] == 2_000_000.0
    errors = [e.value for e in at.error]
    assert any("broken.pdf" in e for e in errors)
    assert any("cn.pdf" in s.value for s in at.success) and any("us.pdf" in s.value for s in at.success)
    assert any("币种不同" in w.value for w in at.warning)  # CNY beside USD
    assert len(at.dataframe) >= 3  # comparison + one detail table per report
    assert len(at.get("plotly_chart")) == 2
    assert len(at.get("download_button")) == 3
    # Another run keeps the earlier results (nothing queued, nothing lost).
    at.run()
    assert set(at.session_state["fin.results"]) == {"cn.pdf", "us.pdf"}


def test_english_ui_and_no_files_message(tmp_path):
    at = page(tmp_path, [], **{"app.lang": "en"}).run()
    at.button(key="fin.run").click().run()
    assert not at.exception
    assert at.header[0].value == "Financial-report extractor"
    assert any("Upload at least one PDF" in e.value for e in at.error)


def test_model_cross_check_on_the_page(tmp_path):
    reply = {
        "company_name": "测试科技股份有限公司", "stock_code": "600123", "fiscal_year": 2021, "currency": "CNY", "unit": "元",
        "revenue": {"value": 1000000.0, "page": 7, "source_text": "营业收入"},
        "operating_cost": {"value": 600000.0, "page": 7, "source_text": "营业成本"},
        "net_profit": {"value": 120000.0, "page": 7, "source_text": "净利润"},
        "net_profit_attributable": {"value": 100000.0, "page": 7, "source_text": "归母净利润"},
        "total_assets": {"value": 9999999.0, "page": 6, "source_text": "资产总计 (parent)"},
        "total_liabilities": {"value": 2000000.0, "page": 6, "source_text": "负债合计"},
    }
    replay = tmp_path / "r.jsonl"
    replay.write_text(json.dumps({"content": json.dumps(reply, ensure_ascii=False)}, ensure_ascii=False) + "\n", "utf-8")
    from services.providers.replay import forget
    forget(replay)
    at = page(tmp_path, [cn_report(tmp_path / "cn.pdf")],
              **{"app.provider": "replay", "app.replay_path": str(replay), "fin.use_model": True}).run()
    at.button(key="fin.run").click().run()
    assert not at.exception
    assets = at.session_state["fin.results"]["cn.pdf"]["fields"]["total_assets"]
    assert assets["conflict"] is True and assets["value"] == 5_000_000.0 and assets["model_value"] == 9_999_999.0
    assert any("不一致" in w.value for w in at.warning)


def test_page_tables_fit_show_statuses_and_no_none(tmp_path):
    from tests.test_financials_pdfs import cn_institution_report
    bank = cn_institution_report(tmp_path / "bank.pdf")
    odd = cn_institution_report(tmp_path / "odd.pdf", statement_unit=False, unit_line="单位：人民币百万元")
    at = page(tmp_path, [cn_report(tmp_path / "cn.pdf"), bank, odd]).run()
    at.button(key="fin.run").click().run()
    assert not at.exception
    frames = [df.value for df in at.dataframe]
    comparison = frames[0]
    assert len(comparison.columns) == 4  # 项目 + one column per report: nothing cut off at the right
    assert any("冲突" in str(v) for v in comparison.iloc[:, 3])
    assert any("不适用" == str(v) for v in comparison.iloc[:, 2])
    for detail in frames[1:]:
        assert not detail.isna().any().any() and "None" not in detail.astype(str).values
    assert any("不一致" in w.value for w in at.warning)  # the conflicting report says so
    assert any("odd.pdf" in w.value and re.search(r"冲突 [1-9] 项", w.value) for w in at.warning)  # not green
    assert not any("odd.pdf" in s.value for s in at.success)
    layout = at.get("plotly_chart")[0].proto.spec
    assert "亿元" in layout
