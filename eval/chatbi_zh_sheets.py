"""Chinese office spreadsheets as people really keep them, written fresh for tests and the Chinese question set:
merged title rows with units, subtotal and total rows, two-row headers, notes below the table, several tables on
one sheet, dashes and empty cells. Each case is one grid written as .xlsx (with merged cells), as UTF-8 CSV and as
GBK CSV.

    python eval/chatbi_zh_sheets.py OUT_DIR      # write every case in every format
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

# Each case: file stem, sheet name, the grid (None = empty cell), merged ranges for the .xlsx copy, and the
# figures a reader computes by hand from the detail rows (the tests and the question set rely on them).
CASES: dict[str, dict] = {
    "地区销售": {
        "sheet": "2024",
        "grid": [
            ["2024年各地区销售情况（单位：万元）", None, None, None],
            ["区域", "省份", "销售额", "订单数"],
            ["华东", "上海", 100, 20],
            ["华东", "江苏", 120, 25],
            ["华东", "浙江", 90, 18],
            ["华东小计", None, 310, 63],
            ["华南", "广东", 150, 30],
            ["华南", "福建", 60, 12],
            ["华南小计", None, 210, 42],
            ["合计", None, 520, 105],
            [None, None, None, None],
            ["注：订单数为笔数，销售额含税。", None, None, None],
            ["数据来源：销售部", None, None, None],
        ],
        "merged": ["A1:D1", "A6:B6", "A9:B9", "A10:B10"],
        "rows": 5, "totals": 3, "sum": {"销售额": 520, "订单数": 105}, "units": {"销售额": "万元"},
    },
    "部门收支": {
        "sheet": "收支",
        "grid": [
            ["各部门收支对比（单位：万元）", None, None, None, None],
            ["部门", "2023年", None, "2024年", None],
            [None, "收入", "成本", "收入", "成本"],
            ["销售部", 800, 500, 950, 560],
            ["研发部", 300, 420, 360, 480],
            ["行政部", None, 150, None, 160],
            ["合计", 1100, 1070, 1310, 1200],
        ],
        "merged": ["A1:E1", "A2:A3", "B2:C2", "D2:E2"],
        "rows": 3, "totals": 1, "sum": {"2023年_收入": 1100, "2023年_成本": 1070, "2024年_收入": 1310,
                                       "2024年_成本": 1200},
        "units": {"2023年_收入": "万元", "2024年_成本": "万元"},
    },
    "人事费用": {
        "sheet": "汇总",
        "grid": [
            ["表1 各部门人数", None, None],
            ["部门", "人数（人）", None],
            ["销售部", 12, None],
            ["研发部", 20, None],
            ["行政部", 5, None],
            [None, None, None],
            [None, None, None],
            ["表2 费用明细（单位：元）", None, None],
            ["项目", "金额", "备注"],
            ["差旅费", "12,500", "含出差补贴"],
            ["办公费", "3,200", None],
            ["培训费", "8,000", "外部讲师"],
            ["总计", "23,700", None],
        ],
        "merged": ["A1:C1", "A8:C8"],
        "tables": {"表1_各部门人数": {"rows": 3, "sum": {"人数": 37}, "units": {"人数": "人"}},
                   "表2_费用明细": {"rows": 3, "sum": {"金额": 23700}, "units": {"金额": "元"}, "totals": 1}},
    },
    "门店月销售": {
        "sheet": "一季度",
        "grid": [
            ["2024年一季度门店销售额", None, None, None],
            ["单位：元", None, None, None],
            ["门店", "月份", "销售额", "客流量（人次）"],
            ["朝阳店", "1月", "52,000", 1300],
            ["朝阳店", "2月", "48,500", 1210],
            ["朝阳店", "3月", "61,200", 1500],
            ["朝阳店 小计", None, "161,700", 4010],
            ["海淀店", "1月", "45,000", 1100],
            ["海淀店", "2月", "39,800", 980],
            ["海淀店", "3月", "50,100", 1250],
            ["海淀店 小计", None, "134,900", 3330],
            ["合计", None, "296,600", 7340],
            [None, None, None, None],
            ["注：2月含春节假期。", None, None, None],
        ],
        "merged": ["A1:D1", "A2:D2"],
        "rows": 6, "totals": 3, "sum": {"销售额": 296600, "客流量": 7340}, "units": {"销售额": "元", "客流量": "人次"},
    },
    "产品库存": {
        "sheet": "库存",
        "grid": [
            ["产品", "类别", "库存数量（件）", "单价（元）"],
            ["A4纸", "办公用品", 120, 25.5],
            ["签字笔", "办公用品", 300, 2],
            ["打印机", "设备", 4, 1899],
            ["显示器", "设备", "-", 1299],
            ["订书机", "办公用品", 45, None],
            [None, None, 469, None],
            ["数据来源：仓储系统", None, None, None],
        ],
        "merged": [],
        "rows": 5, "totals": 1, "sum": {"库存数量": 469}, "units": {"库存数量": "件", "单价": "元"},
    },
}
FORMATS = ("xlsx", "utf-8.csv", "gbk.csv")


def write_xlsx(case: dict, path: Path) -> Path:
    """The case as a workbook with its merged cells (merged cells hold a value only in their first cell)."""
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = case["sheet"]
    for row in case["grid"]:
        sheet.append(row)
    for cells in case["merged"]:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def csv_text(case: dict) -> str:
    """The case as CSV text, the way Excel's "save as CSV" writes it (empty cells as empty fields)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in case["grid"]:
        writer.writerow(["" if v is None else (f"{v:g}" if isinstance(v, float) else v) for v in row])
    return buf.getvalue()


def write_case(stem: str, fmt: str, folder: Path) -> Path:
    """One case in one format (xlsx, utf-8.csv or gbk.csv) in folder; returns the file (named stem + suffix)."""
    case = CASES[stem]
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        return write_xlsx(case, folder / f"{stem}.xlsx")
    encoding = fmt.split(".")[0]
    sub = folder / encoding
    sub.mkdir(exist_ok=True)
    path = sub / f"{stem}.csv"
    path.write_bytes(csv_text(case).encode("gbk" if encoding == "gbk" else "utf-8"))
    return path


def write_all(folder: Path) -> list[Path]:
    """Every case in every format."""
    return [write_case(stem, fmt, folder) for stem in CASES for fmt in FORMATS]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "eval/out/zh_sheets")
    for p in write_all(out):
        print(p)
