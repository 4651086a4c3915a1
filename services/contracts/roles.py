"""Contract types, the two roles in each, the user's side, and how the parties are named in the text."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

CONTRACT_TYPES = ("lease", "labour", "purchase", "service", "nda", "other")
SIDES = ("a", "b", "agency", "neutral")

# Role A / role B of each type: the names used in `favours` and on the --party option.
ROLES: dict[str, tuple[str, str]] = {
    "lease": ("lessor", "lessee"),
    "labour": ("employer", "employee"),
    "purchase": ("seller", "buyer"),
    "service": ("provider", "client"),
    "nda": ("discloser", "recipient"),
    "other": ("party_a", "party_b"),
}

# Words that name each role in Chinese and English contracts (used by the rule layer and to map 甲方/乙方).
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "lessor": ("出租方", "出租人", "房东", "Landlord", "Lessor"),
    "lessee": ("承租方", "承租人", "租客", "Tenant", "Lessee"),
    "employer": ("用人单位", "雇主", "公司", "Employer", "Company"),
    "employee": ("劳动者", "员工", "雇员", "Employee"),
    "seller": ("卖方", "出卖人", "供方", "供货方", "Seller", "Supplier", "Vendor"),
    "buyer": ("买方", "买受人", "需方", "采购方", "Buyer", "Purchaser", "Customer"),
    "provider": ("服务方", "受托方", "乙方服务", "Provider", "Contractor", "Consultant"),
    "client": ("委托方", "客户", "Client", "Customer"),
    "discloser": ("披露方", "Disclosing Party", "Discloser"),
    "recipient": ("接收方", "Receiving Party", "Recipient"),
    "party_a": ("甲方", "Party A"),
    "party_b": ("乙方", "Party B"),
}

_ALIASES = {
    "landlord": "lessor", "tenant": "lessee", "出租方": "lessor", "承租方": "lessee",
    "甲方": "a", "乙方": "b", "party_a": "a", "party_b": "b",
}

_TYPE_HINTS = [
    ("lease", r"租赁合同|租房|房屋租赁|\bLEASE\b|Lease Agreement|Tenancy"),
    ("labour", r"劳动合同|聘用合同|雇佣合同|Employment Agreement|EMPLOYMENT AGREEMENT|Labou?r Contract"),
    ("nda", r"保密协议|保密合同|Non-?Disclosure|Confidentiality Agreement|\bNDA\b"),
    ("purchase", r"买卖合同|采购合同|购销合同|购买合同|Purchase Agreement|Sales? Agreement|Supply Agreement|Distributor Agreement"),
    ("service", r"服务合同|服务协议|委托合同|技术服务|Services? Agreement|Consulting Agreement|Development Agreement"),
]


def guess_type(text: str) -> str:
    """The contract type suggested by its title and first lines ('other' when unclear)."""
    head = text[:600]
    for kind, pattern in _TYPE_HINTS:
        if re.search(pattern, head, re.I if kind != "lease" else 0):
            return kind
    return "other"


def side_for(party: str, contract_type: str) -> str:
    """The user's side ('a', 'b', 'agency', 'neutral') from a role name such as lessee, employer or 乙方."""
    p = party.strip()
    low = p.lower()
    if low in SIDES:
        return low
    low = _ALIASES.get(low, _ALIASES.get(p, low))
    if low in ("a", "b"):
        return low
    for roles in ROLES.values():
        if low in roles:
            return "a" if roles.index(low) == 0 else "b"
    raise ValueError(party)


def role_name(side: str, contract_type: str) -> str:
    """The role name of side 'a'/'b' in this contract type."""
    a, b = ROLES[contract_type]
    return a if side == "a" else b if side == "b" else side


@dataclass(frozen=True)
class PartyNames:
    """How the text refers to role A and role B (甲方/乙方 plus role words)."""

    a_words: tuple[str, ...]
    b_words: tuple[str, ...]

    def side_of(self, text: str) -> str | None:
        """Which side is named first in text, or None."""
        m = self._any_name().search(text)
        if not m:
            return None
        return "a" if m.group(0) in self.a_words else "b"

    @lru_cache(maxsize=16)
    def _any_name(self) -> re.Pattern[str]:
        return re.compile("|".join(re.escape(w) for w in sorted(self.a_words + self.b_words, key=len, reverse=True)))

    @lru_cache(maxsize=256)
    def gap(self, n: int, stop: str = "。；") -> str:
        """A regex for up to n characters that do not name either party (so a right is tied to the nearest name)."""
        names = "|".join(re.escape(w) for w in self.a_words + self.b_words)
        return f"(?:(?!{names})[^{stop}]){{0,{n}}}"

    @lru_cache(maxsize=64)
    def pattern(self, side: str) -> str:
        """A regex alternative matching the side's names."""
        words = self.a_words if side == "a" else self.b_words
        return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


def party_names(text: str, contract_type: str) -> PartyNames:
    """Work out whether 甲方 is role A or B from the preamble ('出租方（甲方）'); default 甲方 = role A."""
    role_a, role_b = ROLES[contract_type]
    a_words = list(ROLE_WORDS[role_a])
    b_words = list(ROLE_WORDS[role_b])
    head = text[:1500]
    jia_is_b = False
    for w in ROLE_WORDS[role_b]:
        if re.search(rf"{re.escape(w)}\s*[（(]\s*甲方\s*[）)]|甲方\s*[（(]\s*{re.escape(w)}\s*[）)]", head):
            jia_is_b = True
    if jia_is_b:
        a_words.append("乙方")
        b_words.append("甲方")
    else:
        a_words.append("甲方")
        b_words.append("乙方")
    if contract_type == "other":
        # English defined terms name the two parties in order: ("Licensor") … ("Licensee").
        defined = [d for d in _DEFINED.findall(head) if d not in _NOT_PARTIES]
        defined = list(dict.fromkeys(defined))
        if len(defined) >= 2:
            a_words.append(defined[0])
            b_words.append(defined[1])
    return PartyNames(tuple(dict.fromkeys(a_words)), tuple(dict.fromkeys(b_words)))


_DEFINED = re.compile(r"\((?:the\s+|each\s+a\s+|hereinafter\s+)?[\"“]([A-Z][A-Za-z\-]+(?: [A-Z][A-Za-z\-]+){0,2})[\"”]")
_NOT_PARTIES = {"Agreement", "Effective Date", "Parties", "Party", "Territory", "Term", "Products", "Product",
                "Services", "Content", "Confidential Information", "Affiliate", "Affiliates", "Exhibit", "Schedule",
                "Addendum", "Amendment", "Work", "Marks", "Trademarks", "Programs", "Customers"}
