"""The rule layer: numeric checks, one-sided wording and a missing-clause checklist, no model needed."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from services.contracts.roles import ROLES, PartyNames
from services.contracts.segment import Clause, zh_number

RISK_ORDER = {"high": 3, "medium": 2, "low": 1, "": 0}

_ZH_N = r"[一二两三四五六七八九十百\d]+"
_EN_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60,
             "ninety": 90}


@dataclass
class Finding:
    """One thing the rules noticed; risk is for the party that does NOT benefit (`favours` names who does)."""

    kind: str
    clause_ids: list[str]
    risk: str
    key: str  # i18n key of the message
    params: dict = field(default_factory=dict)
    favours: str = ""  # "a", "b" or "" (unknown)


def _num(token: str) -> float | None:
    token = token.replace(",", "").replace("，", "").strip()
    if not token:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", token):
        return float(token)
    if token.lower() in _EN_WORDS:
        return float(_EN_WORDS[token.lower()])
    value = zh_number(token)
    return float(value) if value is not None else None


def _percent(sentence: str) -> float | None:
    """The first rate in a sentence, in percent (5% / 百分之五 / 千分之五 / 万分之五 / 0.5‰)."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*[%％]", sentence)
    if m:
        return float(m.group(1))
    m = re.search(r"(\d+(?:\.\d+)?)\s*‰", sentence)
    if m:
        return float(m.group(1)) / 10
    m = re.search(r"(百|千|万)分之([零一二两三四五六七八九十\d.]+)", sentence)
    if m:
        base = {"百": 1, "千": 0.1, "万": 0.01}[m.group(1)]
        value = _num(m.group(2))
        return value * base if value is not None else None
    m = re.search(r"(\d+(?:\.\d+)?) percent", sentence, re.I)
    return float(m.group(1)) if m else None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。；;!?！？])|(?<=\.)\s+", text) if s.strip()]


def monthly_rent(text: str) -> float | None:
    """The monthly rent stated in the contract (yuan or dollars), if any."""
    m = re.search(r"月租金[^0-9。；]{0,12}?([\d,，]+(?:\.\d+)?)\s*(万)?\s*元", text)
    if m:
        value = _num(m.group(1)) or 0
        return value * (10000 if m.group(2) else 1)
    m = re.search(r"(?:monthly rent|rent)[^.$]{0,40}\$\s*([\d,]+(?:\.\d+)?)(?:[^.]{0,20}per month|[^.]{0,20}monthly)?",
                  text, re.I)
    return _num(m.group(1)) if m else None


def _months_of_rent(sentence: str) -> float | None:
    m = re.search(rf"({_ZH_N})\s*个?月(?:的)?租金", sentence)
    if m:
        return _num(m.group(1))
    m = re.search(r"(\w+)\s*(?:\(\d+\)\s*)?months?'?s?\s+(?:of\s+)?rent", sentence, re.I)
    if m:
        return _num(m.group(1))
    return None


def _days(sentence: str) -> list[tuple[float, bool, int]]:
    """Periods of days in a sentence: (days, working days?, position)."""
    out = []
    for m in re.finditer(rf"({_ZH_N})\s*(个工作日|个月|日|天|周)", sentence):
        n = _num(m.group(1))
        if n is None:
            continue
        unit = m.group(2)
        days = n * 30 if unit == "个月" else n * 7 if unit == "周" else n
        out.append((days, unit == "个工作日", m.start()))
    for m in re.finditer(r"(\w+)\s*(?:\((\d+)\)\s*)?(business|calendar)?\s*(days?|months?)", sentence, re.I):
        n = _num(m.group(2) or m.group(1))
        if n is None:
            continue
        days = n * 30 if m.group(4).lower().startswith("month") else n
        out.append((days, (m.group(3) or "").lower() == "business", m.start()))
    return out


def _other(side: str) -> str:
    return "b" if side == "a" else "a"


def numeric_findings(clauses: list[Clause], names: PartyNames, full_text: str) -> list[Finding]:
    """Late fees per day, penalties against rent, deposit size and return time, notice periods."""
    findings: list[Finding] = []
    rent = monthly_rent(full_text)
    for c in clauses:
        for s in _sentences(c.text):
            payer = names.side_of(s) or names.side_of(c.title) or ""
            # Late fee per day: 每逾期一日 … 5% → about 1825 % a year.
            if re.search(r"(每|按)(逾期|迟延|延迟|超过)?[一1]?(日|天)|per (day|diem)|each day|daily", s, re.I) and \
                    re.search(r"滞纳金|违约金|罚息|逾期|迟延|late|overdue|past due", s, re.I):
                pct = _percent(s)
                if pct is not None:
                    annual = pct * 365
                    risk = "high" if pct >= 0.1 else "medium" if pct >= 0.05 else "low"
                    findings.append(Finding("late_fee", [c.id], risk, "contract.rule.late_fee",
                                            {"daily": _fmt(pct), "annual": _fmt(annual)},
                                            _other(payer) if payer else ""))
            # Penalty as months of rent (plus a forfeited deposit in the same clause).
            if re.search(r"违约金|罚金|赔偿|liquidated damages|penalty|termination fee", s, re.I):
                months = _months_of_rent(s)
                if months is None and rent:
                    m = re.search(r"违约金[^。；\d]{0,10}([\d,]+(?:\.\d+)?)\s*(万)?元", s)
                    if m:
                        months = (_num(m.group(1)) or 0) * (10000 if m.group(2) else 1) / rent
                if months:
                    forfeit = bool(re.search(r"(押金|保证金)[^。；]{0,6}(不予退还|不退|没收)|forfeit", c.text, re.I))
                    deposit = deposit_months(full_text, rent) if forfeit else 0
                    total = months + (deposit or 0)
                    risk = "high" if total >= 3 else "medium" if total >= 2 else "low"
                    findings.append(Finding("penalty", [c.id], risk, "contract.rule.penalty",
                                            {"months": _fmt(months), "total": _fmt(total),
                                             "deposit": _fmt(deposit or 0)}, _other(payer) if payer else ""))
        deposit_clause = re.search(r"押金|保证金|deposit", c.title, re.I) or re.search(
            r"支付[^。；，]{0,6}(押金|保证金)|security deposit (of|in the amount)", c.text, re.I)
        if deposit_clause:
            months = deposit_months(c.text, rent)
            if months:
                risk = "high" if months > 3 else "medium" if months > 2 else "low"
                findings.append(Finding("deposit", [c.id], risk, "contract.rule.deposit", {"months": _fmt(months)},
                                        ""))
            for s in _sentences(c.text):
                if re.search(r"退还|返还|refund|return", s, re.I):
                    for days, working, _pos in _days(s):
                        real = days * 1.4 if working else days
                        if real > 30:
                            risk = "high" if real > 60 else "medium"
                            findings.append(Finding("deposit_return", [c.id], risk, "contract.rule.deposit_return",
                                                    {"days": _fmt(days), "unit": "working" if working else "calendar"},
                                                    ""))
                            break
            for side in ("a", "b"):
                if re.search(rf"{names.pattern(side)}{names.gap(12)}有权[^。；]{{0,20}}扣除[^。；]{{0,6}}(押金|保证金)",
                             c.text):
                    findings.append(Finding("deposit_deduction", [c.id], "high", "contract.rule.deposit_deduction",
                                            {}, side))
    findings.extend(notice_findings(clauses, names))
    return findings


def deposit_months(text: str, rent: float | None) -> float | None:
    """The deposit in months of rent ('相当于两个月租金', or amount / monthly rent)."""
    m = re.search(rf"(押金|保证金)[^。；，,]{{0,40}}?相当于\s*({_ZH_N})\s*个?月", text)
    if m:
        return _num(m.group(2))
    m = re.search(rf"押\s*({_ZH_N})\s*付", text)
    if m:
        return _num(m.group(1))
    m = re.search(r"security deposit[^.]{0,60}?(\w+)\s*(?:\(\d+\)\s*)?months?'?s?\s+(?:of\s+)?rent", text, re.I)
    if m:
        return _num(m.group(1))
    if rent:
        m = re.search(r"(押金|保证金)[^。；\d]{0,15}([\d,]+(?:\.\d+)?)\s*(万)?元", text)
        if m:
            return round((_num(m.group(2)) or 0) * (10000 if m.group(3) else 1) / rent, 2)
    return None


def notice_findings(clauses: list[Clause], names: PartyNames) -> list[Finding]:
    """Notice periods each side must give; a short one that lets the other side end or change the deal is risky."""
    findings = []
    for c in clauses:
        for s in _sentences(c.text):
            m = re.search(rf"提前\s*({_ZH_N})\s*(个月|日|天|周)|(\w+)\s*(?:\((\d+)\)\s*)?days?'?\s*(?:prior\s+)?"
                          r"(?:written\s+)?notice", s, re.I)
            if not m:
                continue
            if m.group(1):
                n = _num(m.group(1)) or 0
                days = n * 30 if m.group(2) == "个月" else n * 7 if m.group(2) == "周" else n
            else:
                days = _num(m.group(4) or m.group(3) or "") or 0
            if not days:
                continue
            giver = names.side_of(s[: m.start()]) or names.side_of(c.title) or names.side_of(s)
            if not giver:
                continue
            ends_or_changes = re.search(r"解除|解约|收回|终止|调整|涨|提高|变更|terminat|increase|change|modif", s + c.title,
                                        re.I)
            if ends_or_changes and days < 30:
                findings.append(Finding("short_notice", [c.id], "high" if days < 15 else "medium",
                                        "contract.rule.short_notice", {"days": _fmt(days)}, giver))
            findings.append(Finding("notice", [c.id], "", "contract.rule.notice", {"days": _fmt(days)}, giver))
    return findings


# Wording that gives one side a right the other does not have. {A} / {B}: the side that benefits.
_ONE_SIDED = [
    ("unilateral_change", r"{X}[^。；]{0,12}有权[^。；]{0,20}(调整|变更|提高|上调)[^。；]{0,6}(租金|价格|价款|费用|工资|报酬)",
     "high"),
    ("entry_without_notice", r"{X}[^。；]{0,20}(随时|任何时候)[^。；]{0,10}进入[^。；]{0,40}(无需|不需|无须)[^。；]{0,6}通知",
     "high"),
    ("all_repairs", r"(一切|所有|全部)[^。；]{0,6}维修[^。；]{0,20}由{Y}承担|维修[^。；]{0,30}由{Y}承担[^。；]{0,10}无论",
     "high"),
    ("deemed_breach", r"{Y}[^。；]{0,10}不同意[^。；]{0,20}视为{Y}[^。；]{0,10}(违约|解约|提前解除)", "high"),
    ("no_refund", r"(不予退还|概不退还|均不退还|non-?refundable)", "medium"),
    ("dispose_belongings", r"{X}[^。；]{0,6}有权[^。；]{0,10}(自行)?处置", "medium"),
    ("total_exemption", r"{X}[^。；]{0,6}(不承担任何责任|概不负责|免除[^。；]{0,6}责任)", "high"),
    ("preemptive_right", r"{X}[^。；]{0,10}(享有|有)[^。；]{0,6}优先(承租|购买|续租|续约)权|{X}[^.;]{0,30}right of first refusal",
     "low"),
    ("home_court", r"(提交|由){X}[^。；]{0,6}所在地[^。；]{0,6}(人民)?法院", "low"),
    ("sole_discretion", r"{X}[^.;]{0,40}\b(in its sole discretion|at any time without (prior )?notice)", "medium"),
]


# Who usually receives the money in each type (so "non-refundable" favours that side).
_PAYEE = {"lease": "a", "purchase": "a", "service": "a"}


def one_sided_findings(clauses: list[Clause], names: PartyNames, contract_type: str = "other") -> list[Finding]:
    """Clauses whose wording hands one side a right or the other side a burden."""
    findings = []
    for c in clauses:
        for kind, template, risk in _ONE_SIDED:
            for side in ("a", "b"):
                pattern = _fill(template, names, side)
                if not re.search(pattern, c.text, re.I):
                    continue
                if "{X}" in template or "{Y}" in template:
                    favours = side
                else:
                    favours = _PAYEE.get(contract_type, "")
                findings.append(Finding(kind, [c.id], risk, f"contract.rule.{kind}", {}, favours))
                break
    return _dedupe(findings)


@lru_cache(maxsize=512)
def _fill(template: str, names: PartyNames, side: str) -> str:
    """Put the side's names into a rule; '{X}[^。；]{0,n}' becomes the side's name then n characters naming no party."""
    pattern = re.sub(r"\{X\}\[\^。；\]\{0,(\d+)\}", lambda m: names.pattern(side) + names.gap(int(m.group(1))), template)
    return pattern.replace("{X}", names.pattern(side)).replace("{Y}", names.pattern(_other(side)))


def termination_balance(clauses: list[Clause], names: PartyNames, full_text: str) -> list[Finding]:
    """Compare what each side pays for ending the contract early (e.g. tenant 5 months vs landlord 0)."""
    rent = monthly_rent(full_text)
    burden: dict[str, tuple[float, str]] = {}
    for c in clauses:
        head = c.title + " " + c.text[:120]
        for side in ("a", "b"):
            if re.search(rf"{names.pattern(side)}[^。；]{{0,12}}(提前|单方)[^。；]{{0,6}}(解除|解约|收回|终止|退租)|"
                         rf"{names.pattern(side)}[^.;]{{0,40}}terminat\w* (this|the) (agreement|lease) (early|for convenience)",
                         head, re.I):
                months = 0.0
                for s in _sentences(c.text):
                    m = _months_of_rent(s)
                    if m and re.search(r"违约金|赔偿|penalty|damages|fee", s, re.I):
                        months += m
                if re.search(r"(押金|保证金)[^。；]{0,6}(不予退还|不退|没收)|forfeit", c.text, re.I):
                    months += deposit_months(full_text, rent) or 0
                if side not in burden or months > burden[side][0]:
                    burden[side] = (months, c.id)
    if "a" in burden and "b" in burden:
        (ma, ca), (mb, cb) = burden["a"], burden["b"]
        heavy, light = ("a", "b") if ma > mb else ("b", "a")
        hm, lm = max(ma, mb), min(ma, mb)
        if hm >= 2 * lm + 1:
            return [Finding("termination_imbalance", [burden[heavy][1], burden[light][1]],
                            "high" if hm - lm >= 2 else "medium", "contract.rule.termination_imbalance",
                            {"heavy_months": _fmt(hm), "light_months": _fmt(lm), "heavy": heavy, "light": light},
                            light)]
    return []


# -- General rules: wording that shifts a burden whatever the contract type -----------------------------------------
_NO_NOTICE = (r"(?:无需|不需|无须|毋须|毋需|不必|不用|不需要|未经)[^。；，,]{0,6}(?:事先|提前|预先|另行)?[^。；，,]{0,4}"
              r"(?:通知|告知|同意|许可)|without (?:any |prior |advance |further )*(?:written )?(?:notice|consent)")
_ENTRY = r"进入|进屋|入内|入户|进房|enter|entry|access (?:to )?the (?:premises|property|unit|apartment)"
_ENDING = r"解除|解约|终止|收回|退租|terminat|cancel"
_DEPOSIT = r"押金|保证金|定金|订金|(?:security )?deposit"
_FORFEIT = (r"不予退还|概不退还|均不退还|不退还|不退|不返还|不予返还|没收|归[^。；，]{0,6}所有|non-?refundable|"
            r"forfeit|shall not be (?:refunded|returned)")
_MULTIPLE = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十]+)\s*倍"
_ALONE = r"(?:单方|单独|自行|独自|全权)?"
_DECIDE = r"(?:决定|确定|认定|判断|判定|核定|酌定|裁定|确认)"
_WHAT = (r"金额|数额|费用|价款|租金|赔偿|损失|罚款|违约金|扣除|扣款|期限|时间|日期|期间|是否|违约|过错|责任|标准|"
         r"amount|fee|sum|damages|deadline|date|period|whether|breach|default")


def penalty_multiples(clauses: list[Clause], names: PartyNames, rent: float | None) -> list[Finding]:
    """Penalties stated as a multiple of the rent ("月租金的5倍") or of the loss ("损失的两倍", "three times")."""
    findings = []
    for c in clauses:
        for s in _sentences(c.text):
            if not re.search(r"违约金|罚金|罚款|赔偿|赔付|liquidated damages|penalty|damages", s, re.I):
                continue
            payer = names.side_of(s) or names.side_of(c.title) or ""
            favours = _other(payer) if payer else ""
            m = (re.search(rf"(月|年|季度?)?租金的?\s*{_MULTIPLE}", s)
                 or re.search(rf"{_MULTIPLE}\s*(?:的)?(月|年|季度?)?租金", s))
            en = re.search(r"(\w+)\s*(?:\((\d+)\)\s*)?times (?:the )?(monthly |annual |yearly )?rent", s, re.I)
            if m or en:
                if m:
                    unit_first = m.re.pattern.startswith("(月")
                    unit = (m.group(1) if unit_first else m.group(2)) or "月"
                    times = _num(m.group(2) if unit_first else m.group(1))
                else:
                    unit = "年" if (en.group(3) or "").strip() in ("annual", "yearly") else "月"
                    times = _num(en.group(2) or en.group(1))
                if times:
                    months = times * {"月": 1, "年": 12, "季": 3, "季度": 3}.get(unit, 1)
                    risk = "high" if months >= 3 else "medium" if months >= 2 else "low"
                    findings.append(Finding("penalty_multiple", [c.id], risk, "contract.rule.penalty_multiple",
                                            {"times": _fmt(times), "months": _fmt(months)}, favours))
                continue
            m = (re.search(rf"损失(?:金额|数额)?的?\s*{_MULTIPLE}", s)
                 or re.search(rf"{_MULTIPLE}\s*(?:的)?(?:赔偿|赔付|损失)", s))
            en = re.search(r"(\w+)\s*(?:\((\d+)\)\s*)?times (?:the |its |any )?(?:actual )?(?:loss|damages)", s, re.I)
            times = _num(m.group(1)) if m else _num(en.group(2) or en.group(1)) if en else None
            # The law lets a court cut a penalty that exceeds the loss by more than 30 % (民法典 585).
            if times and times > 1:
                findings.append(Finding("penalty_loss_multiple", [c.id], "high" if times >= 1.3 else "medium",
                                        "contract.rule.penalty_loss_multiple", {"times": _fmt(times)}, favours))
    return findings


def general_findings(clauses: list[Clause], names: PartyNames, contract_type: str = "other") -> list[Finding]:
    """Forfeited deposits, entry or termination without notice, and one side alone deciding what is owed."""
    findings = []
    payee = _PAYEE.get(contract_type, "")
    for c in clauses:
        for s in _sentences(c.text):
            actor = names.side_of(s) or ""
            if re.search(_DEPOSIT, s, re.I) and re.search(_FORFEIT, s, re.I) and not re.search(r"不得|不应|不能", s):
                findings.append(Finding("deposit_forfeit", [c.id], "high", "contract.rule.deposit_forfeit", {},
                                        payee))
            no_notice = re.search(_NO_NOTICE, s, re.I) or re.search(r"随时|任何时候|at any time", s, re.I)
            if no_notice and re.search(_ENTRY, s, re.I):
                findings.append(Finding("entry_without_notice", [c.id], "high", "contract.rule.entry_without_notice",
                                        {}, actor))
            elif re.search(_NO_NOTICE, s, re.I) and re.search(_ENDING, s, re.I) and re.search(
                    r"有权|可以|可|得|may|is entitled|shall have the right", s, re.I):
                # A right of one side to end it; "shall terminate without notice upon insolvency" is automatic.
                findings.append(Finding("termination_without_notice", [c.id], "high",
                                        "contract.rule.termination_without_notice", {}, actor))
            for side in ("a", "b"):
                x = names.pattern(side)
                gap = names.gap(12)
                if (re.search(rf"{x}{gap}(?:有权|可以?|得){_ALONE}{_DECIDE}[^。；]{{0,20}}(?:{_WHAT})", s, re.I)
                        or re.search(rf"(?:{_WHAT})[^。；]{{0,20}}(?:由|以){x}{gap}{_ALONE}{_DECIDE}", s, re.I)
                        or re.search(rf"以{x}[^。；]{{0,8}}(?:认定|确认|核定|计算|记录|通知|判断)为准", s)
                        or re.search(rf"(?:as|be) (?:determined|decided|fixed|assessed) (?:solely |unilaterally )?"
                                     rf"by (?:the )?{x}", s, re.I)):
                    findings.append(Finding("unilateral_determination", [c.id], "high",
                                            "contract.rule.unilateral_determination", {}, side))
                    break
    return findings


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        k = (f.kind, tuple(f.clause_ids), f.favours)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def run_rules(clauses: list[Clause], names: PartyNames, full_text: str, contract_type: str = "other") -> list[Finding]:
    """Every rule finding for the contract."""
    return _dedupe(numeric_findings(clauses, names, full_text) + one_sided_findings(clauses, names, contract_type)
                   + termination_balance(clauses, names, full_text)
                   + penalty_multiples(clauses, names, monthly_rent(full_text))
                   + general_findings(clauses, names, contract_type))


def risk_for_side(finding: Finding, side: str) -> str:
    """How much a finding matters to the user's side: the full risk unless the finding favours that side."""
    if not finding.risk:
        return ""
    if side in ("a", "b") and finding.favours == side:
        return "low"
    return finding.risk


# ---- Missing-clause checklist -------------------------------------------------------------------------------

CHECKLIST: dict[str, list[tuple[str, str]]] = {
    # (item key, regex that shows the topic is covered — Chinese and English wording)
    "lease": [
        ("rent", r"租金|\brent\b"),
        ("term", r"租赁期|租期|lease term|\bterm\b"),
        ("deposit", r"押金|保证金|security deposit"),
        ("handover_inventory", r"(设施|家具|家电|物品)[^。；]{0,6}(清单|明细)|交接(单|清单|确认)|附件[^。]{0,10}清单|inventory|"
                               r"condition report|move-in checklist"),
        ("landlord_repair", r"(甲方|出租方|出租人)[^。；]{0,10}(应|负责|承担)[^。；]{0,15}(维修|修缮|维护)|"
                            r"(Landlord|Lessor) shall[^.]{0,40}(repair|maintain)"),
        ("title_proof", r"产权证|房产证|不动产权|所有权证|有权出租|出租权|(上级|原)租赁合同|转租[^。；]{0,10}(同意|授权)书|"
                        r"owner of the premises|right to lease|title to the premises"),
        ("deposit_return", r"(押金|保证金)[^。]{0,60}(退还|返还)|return of (the )?(security )?deposit"),
        ("breach", r"违约|breach|default"),
        ("termination", r"解除|解约|终止|terminat"),
        ("disputes", r"争议|仲裁|法院|dispute|arbitration|governing law|choice of law|jurisdiction|venue"),
    ],
    "labour": [
        ("job_and_place", r"工作内容|工作岗位|工作地点|岗位|position|duties|place of work"),
        ("working_hours", r"工作时间|工时|休息|休假|working hours|leave|vacation"),
        ("pay", r"劳动报酬|工资|薪酬|salary|wage|compensation"),
        ("social_insurance", r"社会保险|社保|公积金|social insurance|benefits"),
        ("protection", r"劳动保护|劳动条件|职业危害|safety|working conditions"),
        ("term", r"合同期限|期限|试用期|term of employment|probation"),
        ("termination", r"解除|终止|terminat"),
        ("disputes", r"劳动争议|仲裁|dispute|arbitration"),
    ],
    "purchase": [
        ("goods", r"标的|名称|规格|型号|货物|产品|goods|products|specification"),
        ("quantity_price", r"数量|价款|单价|总价|价格|quantity|price"),
        ("quality", r"质量标准|质量要求|quality|standard"),
        ("delivery", r"交付|交货|运输|delivery|shipment"),
        ("acceptance", r"验收|检验|inspection|acceptance"),
        ("risk_title", r"风险[^。；]{0,6}转移|所有权[^。；]{0,6}转移|risk of loss|title (shall )?pass"),
        ("warranty", r"质保|保修|售后|warrant"),
        ("breach", r"违约|breach|default|liquidated damages"),
        ("disputes", r"争议|仲裁|法院|dispute|arbitration|governing law|choice of law|jurisdiction|venue"),
    ],
    "service": [
        ("scope", r"服务内容|服务范围|工作内容|scope of (work|services)|services"),
        ("standard_acceptance", r"服务标准|验收|质量|acceptance|service level|standard"),
        ("fees", r"费用|报酬|价款|付款|fees|payment|compensation"),
        ("term", r"期限|服务期|term"),
        ("ip", r"知识产权|著作权|成果归属|intellectual property|ownership"),
        ("confidentiality", r"保密|confidential"),
        ("liability_cap", r"责任[^。；]{0,6}(限额|上限|限制)|赔偿[^。；]{0,6}上限|limitation of liability|cap on liability|"
                          r"(shall|will) not exceed|cap on (monetary )?damages|aggregate liability"),
        ("termination", r"解除|终止|terminat"),
        ("disputes", r"争议|仲裁|法院|dispute|arbitration|governing law|choice of law|jurisdiction|venue"),
    ],
    "nda": [
        ("definition", r"保密信息[^。；]{0,6}(是指|指|包括)|confidential information (means|shall mean|includes)"),
        ("exclusions", r"(不包括|除外|不适用)|shall not include|does not include|exclusions"),
        ("purpose", r"用途|目的|仅用于|purpose|solely for"),
        ("duration", r"保密期限|期限|(\d+|[一二三四五])年|term|years"),
        ("return_destroy", r"(返还|归还|销毁)|return or destroy|destruction"),
        ("legal_disclosure", r"(法律|法院|政府)[^。；]{0,15}(要求|规定)[^。；]{0,10}披露|required by law|court order|subpoena"),
        ("remedies", r"违约|赔偿|禁令|injunctive|remedies|breach"),
        ("disputes", r"争议|仲裁|法院|dispute|arbitration|governing law|choice of law|jurisdiction|venue"),
    ],
    "other": [
        ("parties", r"甲方|乙方|当事人|parties|between"),
        ("subject", r"标的|内容|范围|scope|purpose|subject"),
        ("price", r"价款|费用|报酬|价格|price|fee|payment|consideration"),
        ("term", r"期限|有效期|term|effective"),
        ("breach", r"违约|breach|default"),
        ("termination", r"解除|终止|terminat"),
        ("disputes", r"争议|仲裁|法院|dispute|arbitration|governing law|choice of law|jurisdiction|venue"),
        ("notices", r"通知|送达|notice"),
    ],
}


# Other wordings of the same content, in any order within one sentence ({A}/{B}: the parties' names as the text uses
# them), so that "维修由甲方负责" covers the landlord's duty to repair as well as "甲方负责维修" does.
CO_OCCURRING: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "lease": {
        "landlord_repair": [(r"{A}|出租方|出租人|landlord|lessor", r"维修|修缮|维护|修理|repair|maintain|maintenance",
                             r"负责|承担|应当?|shall|will|responsible")],
        "deposit_return": [(r"押金|保证金|deposit", r"退还|返还|退回|refund|return")],
        "handover_inventory": [(r"交付|交接|移交|hand ?over|move-in", r"清单|明细|照片|记录|确认书|list|record|photograph")],
        "title_proof": [(r"{A}|出租方|出租人|landlord|lessor", r"保证|承诺|确认|warrant|represent",
                         r"产权|所有权|合法|出租|title|own")],
    },
}


def _covered(item: str, pattern: str, contract_type: str, sentences: list[str], text: str,
             names: PartyNames | None) -> bool:
    if re.search(pattern, text, re.I):
        return True
    for group in CO_OCCURRING.get(contract_type, {}).get(item, []):
        filled = [g.replace("{A}", names.pattern("a") if names else "甲方").replace(
            "{B}", names.pattern("b") if names else "乙方") for g in group]
        if any(all(re.search(g, s, re.I) for g in filled) for s in sentences):
            return True
    return False


def missing_clauses(clauses: list[Clause], contract_type: str, full_text: str = "",
                    names: PartyNames | None = None) -> list[str]:
    """Checklist item keys for the type whose content no clause states (titles alone do not count; the preamble does)."""
    text = full_text or "\n".join(c.text for c in clauses)
    sentences = [s for c in clauses for s in _sentences(c.text)] + _sentences(full_text)
    return [item for item, pattern in CHECKLIST[contract_type]
            if not _covered(item, pattern, contract_type, sentences, text, names)]


def role_of(side: str, contract_type: str) -> str:
    """Role name for 'a'/'b' (or '' when unknown)."""
    if side not in ("a", "b"):
        return ""
    return ROLES[contract_type][0 if side == "a" else 1]
