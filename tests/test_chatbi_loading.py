"""ChatBI loading: files become well-named, well-typed DuckDB tables whatever their encoding and layout."""
from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest

from services.chatbi.engine import DuckSession
from services.chatbi.loading import detect_encoding, sniff_layout
from services.chatbi.naming import table_name
from services.chatbi.profile import profile_table, suggested_questions
from services.errors import InputError

SALES_ZH = "日期,城市,产品,销售额\n2023-01-05,北京,笔记本,\"1,200\"\n2023-02-11,上海,显示器,\"12,345.50\"\n" \
           "2023-02-20,北京,键盘,300\n2024-01-03,广州,笔记本,\"2,000\"\n"


@pytest.fixture
def session():
    s = DuckSession()
    yield s
    s.close()


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(session, sql):
    return session.run(sql).rows


@pytest.mark.parametrize("name, sheet, expected", [
    ("Sales Report 2023.csv", None, "sales_report_2023"),
    ("销售 数据(终版).CSV", None, "销售_数据_终版"),
    ("2023-Q1.xlsx", "Sheet 1", "t_2023_q1_sheet_1"),
    ("budget.xlsx", "汇总", "budget_汇总"),
    ("---.csv", None, "table"),
])
def test_table_names_follow_the_file_and_sheet(name, sheet, expected):
    assert table_name(name, sheet) == expected


def test_table_names_are_made_unique():
    assert table_name("a.csv", None, {"a"}) == "a_2"
    assert table_name("a.csv", None, {"a", "a_2"}) == "a_3"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_every_common_encoding_of_a_chinese_file_reads_the_same(tmp_path, session, encoding):
    path = write(tmp_path, f"sales_{encoding}.csv", SALES_ZH, encoding)
    info = session.add_file(path)[0]
    assert [c.name for c in info.columns] == ["日期", "城市", "产品", "销售额"]
    # Chinese names are kept and must be quoted; thousands separators are gone, the column is numeric.
    assert rows(session, f'SELECT "城市", sum("销售额") FROM "{info.name}" GROUP BY 1 ORDER BY 2 DESC') == [
        ("上海", 12345.5), ("广州", 2000.0), ("北京", 1500.0)]
    types = {c.name: c.type for c in info.columns}
    assert types["日期"] == "DATE" and types["销售额"] == "DOUBLE"


def test_gbk_detected_even_when_the_first_bytes_are_ascii(tmp_path, session):
    text = "id,name\n" + "".join(f"{i},item{i}\n" for i in range(20000)) + "20000,最后一行\n"
    path = write(tmp_path, "late_gbk.csv", text, "gbk")
    assert detect_encoding(path.read_bytes()[:4096]) == "utf-8"  # the head alone looks like ASCII
    info = session.add_file(path)[0]
    assert rows(session, f'SELECT name FROM "{info.name}" WHERE id = 20000') == [("最后一行",)]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path, session, delimiter):
    text = "\n".join(delimiter.join(r) for r in [["region", "amount"], ["east", "10"], ["west", "32"], ["east", "5"]])
    path = write(tmp_path, "d.tsv" if delimiter == "\t" else "d.csv", text + "\n")
    info = session.add_file(path)[0]
    assert rows(session, f'SELECT region, sum(amount) FROM "{info.name}" GROUP BY 1 ORDER BY 1') == [
        ("east", 15), ("west", 32)]


def test_title_rows_above_the_header_are_skipped(tmp_path, session):
    text = "2023年销售报表,,,\n单位：元,,,\n,,,\n" + SALES_ZH.replace("\n", ",\n").replace(",\n", "\n", 0)
    text = "2023年销售报表\n单位：元\n\n" + SALES_ZH
    path = write(tmp_path, "report.csv", text)
    assert sniff_layout(text).skip == 3
    info = session.add_file(path)[0]
    assert info.rows == 4 and info.columns[0].name == "日期"


def test_title_row_padded_with_delimiters_is_skipped(tmp_path, session):
    text = "Quarterly report,,,\n,,,\nregion,q1,q2,q3\nnorth,\"1,000\",\"2,000\",\"3,000\"\nsouth,1,2,3\n"
    info = session.add_file(write(tmp_path, "padded.csv", text))[0]
    assert [c.name for c in info.columns] == ["region", "q1", "q2", "q3"]
    assert rows(session, f'SELECT q3 FROM "{info.name}" WHERE region = \'north\'') == [(3000,)]


def test_mixed_type_column_becomes_text_and_nothing_is_lost(tmp_path, session):
    # The bad value sits far below the rows DuckDB samples to guess types.
    text = "id,score\n" + "".join(f"{i},{i % 97}\n" for i in range(30000)) + "30000,n/a\n"
    info = session.add_file(write(tmp_path, "mixed.csv", text))[0]
    assert info.rows == 30001
    assert rows(session, f'SELECT score FROM "{info.name}" WHERE id = 30000') == [("n/a",)]
    assert info.warnings  # the user is told the column was kept as text


def test_empty_and_header_only_files_give_clear_errors(tmp_path, session):
    with pytest.raises(InputError) as empty:
        session.add_file(write(tmp_path, "empty.csv", ""))
    assert empty.value.key == "bi.error.empty"
    with pytest.raises(InputError) as blank:
        session.add_file(write(tmp_path, "blank.csv", "\n\n  \n"))
    assert blank.value.key == "bi.error.empty"
    with pytest.raises(InputError) as header_only:
        session.add_file(write(tmp_path, "header.csv", "a,b,c\n"))
    assert header_only.value.key == "bi.error.header_only"
    assert "header.csv" in header_only.value.message("en")
    assert session.table_names() == []


def test_bad_files_leave_loaded_tables_alone(tmp_path, session):
    session.add_file(write(tmp_path, "good.csv", "a,b\n1,2\n"))
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(InputError) as corrupt:
        session.add_file(bad)
    assert corrupt.value.key == "bi.error.corrupt"
    assert "broken.xlsx" in corrupt.value.message("zh")
    with pytest.raises(InputError) as unsupported:
        session.add_file(write(tmp_path, "notes.pdf", "%PDF-1.4"))
    assert unsupported.value.key == "bi.error.unsupported"
    assert session.table_names() == ["good"]
    assert rows(session, "SELECT a + b FROM good") == [(3,)]


def test_files_over_the_size_limit_are_refused_with_a_hint(tmp_path, session):
    path = write(tmp_path, "big.csv", "a,b\n" + "1,2\n" * 300_000)  # about 1.2 MB
    with pytest.raises(InputError) as too_big:
        session.add_file(path, max_csv_mb=1)
    assert too_big.value.key == "bi.error.too_large"
    book = tmp_path / "big.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.save(book)
    with pytest.raises(InputError) as xlsx:
        session.add_file(book, max_excel_mb=0)
    assert "CSV" in xlsx.value.message("en")


def make_workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2023"
    ws.append(["华东区销售明细"])
    ws.append([])
    ws.append(["月份", "产品", "金额", "备注"])
    ws.append([dt.datetime(2023, 1, 1), "笔记本", 1200, "=SUM(A1:A2)"])
    ws.append([dt.datetime(2023, 2, 1), "显示器", 800.5, None])
    ws.append([dt.datetime(2023, 3, 1), "键盘", "1,500", "ok"])
    other = wb.create_sheet("Targets")
    other.append(["region", "target"])
    other.append(["east", 5000])
    other.append(["west", "n/a"])
    wb.create_sheet("Empty")
    header_only = wb.create_sheet("OnlyHeader")
    header_only.append(["x", "y"])
    wb.save(path)


def test_every_sheet_of_a_workbook_becomes_a_table(tmp_path, session):
    path = tmp_path / "Regional Sales.xlsx"
    make_workbook(path)
    infos = session.add_file(path)
    assert [i.name for i in infos] == ["regional_sales_2023", "regional_sales_targets"]
    first = {c.name: c.type for c in infos[0].columns}
    assert first["月份"].startswith("TIMESTAMP") and first["金额"] == "DOUBLE"
    assert rows(session, 'SELECT sum("金额") FROM regional_sales_2023') == [(3500.5,)]
    # Mixed numbers and text stay as text; nothing is dropped.
    assert rows(session, "SELECT target FROM regional_sales_targets ORDER BY region") == [("5000",), ("n/a",)]
    assert any("OnlyHeader" in w for w in infos[0].warnings)


def test_profile_and_suggested_questions(tmp_path, session):
    info = session.add_file(write(tmp_path, "sales.csv", SALES_ZH))[0]
    profile = profile_table(session, info.name)
    cols = {c.name: c for c in profile.columns}
    assert profile.rows == 4
    assert cols["销售额"].minimum == 300 and cols["销售额"].maximum == 12345.5
    assert cols["城市"].top[0] == ("北京", 2)
    assert cols["日期"].role == "time" and cols["销售额"].role == "measure" and cols["城市"].role == "category"
    zh = suggested_questions([profile], "zh")
    en = suggested_questions([profile], "en")
    assert len(zh) == 3 and len(set(zh)) == 3
    assert "销售额" in zh[0] and "日期" in zh[0]
    assert en[1] == "What is the total 销售额 by 城市?"


def test_missing_values_are_counted(tmp_path, session):
    info = session.add_file(write(tmp_path, "gaps.csv", "k,v\na,1\nb,\nc,3\n,4\n"))[0]
    cols = {c.name: c for c in profile_table(session, info.name).columns}
    assert cols["v"].missing == 1 and cols["k"].missing == 1


def test_a_zip_that_is_not_a_workbook_is_corrupt(tmp_path, session):
    path = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not excel")
    with pytest.raises(InputError) as exc:
        session.add_file(path)
    assert exc.value.key == "bi.error.corrupt"


def test_staged_copies_are_removed_and_the_original_file_is_untouched(tmp_path, session):
    path = write(tmp_path, "gbk.csv", SALES_ZH, "gbk")
    original = path.read_bytes()
    session.add_file(path)
    session.add_file(write(tmp_path, "utf8.csv", SALES_ZH))
    assert list(session._staging.iterdir()) == []
    assert path.read_bytes() == original
    staging = session._staging
    session.close()
    assert not staging.exists()
