"""Exact decimal arithmetic on an expression parsed with `ast` into an allow-listed set of nodes (never eval)."""
from __future__ import annotations

import ast
import decimal
from decimal import Decimal

from services.errors import InputError

MAX_CHARS = 500
MAX_EXPONENT = 1000        # |b| in a ** b
MAX_MAGNITUDE = 10_000     # results beyond 1e10000 are refused (they are never a business figure)
PRECISION = 40

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: None,  # checked separately
}
_UNARY = {ast.UAdd: lambda a: +a, ast.USub: lambda a: -a}


def _round(x: Decimal, digits: Decimal = Decimal(0)) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-int(digits)), rounding=decimal.ROUND_HALF_UP)


_FUNCTIONS = {
    "abs": lambda *a: abs(a[0]),
    "round": _round,                       # half-up, as people round money
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "sum": lambda *a: sum(a, Decimal(0)),
    "sqrt": lambda *a: a[0].sqrt(),
}
FUNCTIONS = tuple(_FUNCTIONS)

# Full-width and typographic symbols people type in Chinese text.
_NORMALIZE = str.maketrans({"×": "*", "÷": "/", "（": "(", "）": ")", "，": ",", "－": "-", "＋": "+", "＊": "*",
                            "／": "/", "　": " ", "−": "-", "％": "%"})


def _refuse(what: str) -> InputError:
    return InputError("agent.error.calc_refused", what=what, functions=", ".join(FUNCTIONS))


def _context() -> decimal.Context:
    return decimal.Context(prec=PRECISION, Emax=MAX_MAGNITUDE, Emin=-MAX_MAGNITUDE,
                           traps=[decimal.Overflow, decimal.DivisionByZero, decimal.InvalidOperation])


def evaluate(expression: str) -> Decimal | list[Decimal]:
    """The exact value of an arithmetic expression; a comma-separated list gives a list of values."""
    text = (expression or "").translate(_NORMALIZE).replace("^", "**").strip()
    if len(text) > MAX_CHARS:
        raise InputError("agent.error.calc_too_long", length=len(text), limit=MAX_CHARS)
    if not text:
        raise InputError("agent.error.calc_syntax", expression=expression, detail="empty")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise InputError("agent.error.calc_syntax", expression=expression, detail=exc.msg) from None
    except (RecursionError, MemoryError, ValueError) as exc:  # pathological nesting or literal
        raise InputError("agent.error.calc_syntax", expression=expression[:80], detail=type(exc).__name__) from None
    body = tree.body
    with decimal.localcontext(_context()):
        try:
            if isinstance(body, (ast.Tuple, ast.List)):
                return [+_eval(e, text) for e in body.elts]
            return +_eval(body, text)
        except (decimal.Overflow, decimal.Underflow) as exc:
            raise InputError("agent.error.calc_too_big", detail=type(exc).__name__) from None
        except decimal.DivisionByZero:
            raise InputError("agent.error.calc_math", detail="division by zero") from None
        except (decimal.InvalidOperation, ArithmeticError) as exc:
            raise InputError("agent.error.calc_math", detail=type(exc).__name__) from None
        except RecursionError:
            raise InputError("agent.error.calc_syntax", expression=expression[:80], detail="nested too deeply") from None


def _literal(node: ast.Constant, source: str) -> Decimal:
    text = (ast.get_source_segment(source, node) or "").replace("_", "")
    try:
        return Decimal(text)
    except decimal.InvalidOperation:  # 0x1F, 0o17 and the like
        return Decimal(repr(node.value)) if isinstance(node.value, float) else Decimal(node.value)


def _eval(node: ast.AST, source: str) -> Decimal:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _refuse(f"constant {type(node.value).__name__}")
        # The digits as typed, not the binary float: 1.2 stays 1.2 and 0.12345678901234567891 keeps every digit.
        value = _literal(node, source)
        if not value.is_finite():
            raise InputError("agent.error.calc_too_big", detail=repr(node.value))
        return value
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        if op not in _BINOPS:
            raise _refuse(f"operator {op.__name__}")
        left, right = _eval(node.left, source), _eval(node.right, source)
        if op is ast.Pow:
            return _power(left, right)
        return _BINOPS[op](left, right)
    if isinstance(node, ast.UnaryOp):
        op = type(node.op)
        if op not in _UNARY:
            raise _refuse(f"operator {op.__name__}")
        return _UNARY[op](_eval(node.operand, source))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            if isinstance(node.func, ast.Attribute):
                raise _refuse(f"attribute access .{node.func.attr}")
            name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise _refuse(f"function {name}")
        if node.keywords or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            raise _refuse("function arguments")
        args = [_eval(a, source) for a in node.args]
        if node.func.id in ("abs", "sqrt") and len(args) != 1 or node.func.id == "round" and len(args) > 2:
            raise _refuse(f"number of arguments to {node.func.id}")
        return _FUNCTIONS[node.func.id](*args)
    if isinstance(node, ast.Attribute):
        raise _refuse(f"attribute access .{node.attr}")
    if isinstance(node, ast.Name):
        raise _refuse(f"name {node.id}")
    raise _refuse(type(node).__name__)


def _power(base: Decimal, exponent: Decimal) -> Decimal:
    if abs(exponent) > MAX_EXPONENT:
        raise InputError("agent.error.calc_too_big", detail=f"exponent {exponent}")
    # Estimate the size first so 9**999 with a big base cannot run away.
    if base != 0 and abs(base.adjusted()) * abs(exponent) > MAX_MAGNITUDE * 1.0:
        raise InputError("agent.error.calc_too_big", detail=f"{base} ** {exponent}")
    return base ** exponent


def format_decimal(value: Decimal) -> str:
    """Plain digits, no exponent, no trailing zeros: 3000.0 -> '3000', 0.10 -> '0.1'."""
    if value.is_zero():
        return "0"
    normal = value.normalize(_context())
    if normal.adjusted() > 60 or normal.adjusted() < -60:
        return str(normal)
    text = format(normal, "f")
    return text
