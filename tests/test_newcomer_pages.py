"""Page defects a newcomer met on the settings, contracts and minutes pages (issue 20), run headless with AppTest."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.stubs import Reply, openai_stub

ROOT = Path(__file__).resolve().parents[1]


def settings_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60)
    at.session_state["settings.provider"] = "openai-compatible"
    return at.run()


def fill(at: AppTest, url: str, model: str = "stub-model", key: str = "") -> None:
    at.text_input[0].set_value(key)
    at.text_input[1].set_value(url)
    at.text_input[2].set_value(model)


def test_save_and_use_warns_about_settings_whose_connection_test_just_failed():
    with openai_stub() as stub:
        stub.default = Reply(status=401)
        at = settings_page()
        fill(at, f"http://127.0.0.1:{stub.port}/v1", key="sk-wrong-0000")
        at.button[1].click().run()   # test connection: refused
        assert not at.exception and at.error
        fill(at, f"http://127.0.0.1:{stub.port}/v1")   # the same settings (the key is kept from the test)
        at.button[0].click().run()   # save and use
        assert not at.exception
        assert any("连接测试失败" in w.value for w in at.warning), [w.value for w in at.warning]
        at.run()
        assert not any("连接测试失败" in w.value for w in at.warning), "said once, after the save"

        # Once the test passes, saving says nothing of the kind.
        stub.default = Reply(text="OK")
        stub.api_key = "sk-right-1111"
        fill(at, f"http://127.0.0.1:{stub.port}/v1", key="sk-right-1111")
        at.button[1].click().run()
        assert any("连接成功" in s.value for s in at.success)
        fill(at, f"http://127.0.0.1:{stub.port}/v1")
        at.button[0].click().run()
        assert at.session_state["app.pending_choice"][0] == "openai-compatible"
        assert not any("连接测试失败" in w.value for w in at.warning)


def test_changed_settings_after_a_failed_test_can_be_saved():
    at = settings_page()
    fill(at, "http://127.0.0.1:9/v1")
    at.button[1].click().run()
    assert at.error
    fill(at, "http://127.0.0.1:9/v1", key="sk-another-2222")   # not the settings that failed: a new key
    at.button[0].click().run()
    assert not any("连接测试失败" in w.value for w in at.warning)
    assert at.session_state["app.pending_choice"][0] == "openai-compatible"


def test_status_table_on_the_page_has_headers_in_the_users_language():
    at = settings_page()
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["服务", "名称", "状态", "密钥变量", "模型"]
    ollama = frame[frame["名称"] == "ollama"].iloc[0]
    assert "无需密钥" in ollama["密钥变量"]


# ---------------------------------------------------------------- contracts

CUAD_LIKE = ("DISTRIBUTION AGREEMENT\n\n1. Definitions. Capitalised terms have the meanings given here.\n\n"
             "2. Appointment. Company appoints Distributor as its distributor in the Territory.\n\n"
             "3. Orders. Distributor places orders in writing.\n\n4. Notices. Notices are given in writing.\n")


def contracts_page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "contracts.py"), default_timeout=60).run()


def test_rules_only_review_says_how_many_clauses_were_not_assessed_and_never_calls_them_safe():
    at = contracts_page()
    at.text_area(key="contract.pasted").set_value(CUAD_LIKE)
    at.selectbox(key="contract.kind").set_value("other")
    at.toggle(key="contract.use_model").set_value(False)
    at.button(key="contract.run").click().run()
    assert not at.exception
    report = at.session_state["contract.report"]
    count = report.not_assessed()
    assert count == len(report.clauses) >= 4
    warnings = [w.value for w in at.warning]
    assert any(f"全部 {count} 个条款均未评估" in w for w in warnings), warnings
    assert not any("未发现中高风险条款" in s.value for s in at.success)


def test_the_model_switch_label_is_short_and_the_rest_is_in_its_help():
    at = contracts_page()
    toggle = at.toggle(key="contract.use_model")
    assert toggle.label == "使用模型逐条分析" and "只用规则" in toggle.help


def test_contract_review_with_the_model_reports_its_batches_and_clears_the_bar(tmp_path):
    from services.providers.replay import forget
    path = tmp_path / "replies.jsonl"
    results = [{"clause_id": f"{n}", "favours": "balanced", "risk": "low", "reason": "常规条款", "suggestion": ""}
               for n in range(1, 5)]
    path.write_text(json.dumps({"content": json.dumps({"results": results}, ensure_ascii=False)},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    forget(path)
    at = AppTest.from_file(str(ROOT / "pages" / "contracts.py"), default_timeout=60)
    at.session_state["app.provider"] = "replay"
    at.session_state["app.replay_path"] = str(path)
    at.run()
    at.text_area(key="contract.pasted").set_value(CUAD_LIKE)
    at.button(key="contract.run").click().run()
    assert not at.exception
    assert at.session_state["contract.report"].model == "replay/replay"
    assert not [b for b in at.button if b.key == "contract.stop"], "the Stop button goes when the work is done"
