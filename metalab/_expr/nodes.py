"""Expression trees: `col`, `lit` and the nodes operators, methods and functions build.

An expression is a frozen attrs value that describes a computation over the params of
one case; it computes nothing itself (`metalab._expr.evaluate` does). Because ``==``
builds an expression, equality of two expressions is asked with `same` (or compared
through `Expr.key`, the type-tagged encoding ``1``, ``1.0`` and ``True`` differ in);
``bool(expr)`` is refused, so ``a and b`` cannot silently drop ``b``.

The nodes, each with a stable ``manifest_type`` (its tag in manifests):

- `Col` (``col``): a parameter of the case; `Lit` (``lit``): a constant;
- `Unary` (``unary``): ``-x``, ``~x`` and the one-argument methods;
- `Binary` (``binary``): arithmetic, comparisons, ``&`` and ``|``;
- `Call` (``call``): ``if_else``, ``minimum``, ``maximum`` and ``clip``;
- `IsIn` (``isin``), `Round` (``round``), `Cast` (``cast``), `Fmt` (``fmt``).
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, final, overload

import attrs

from metalab._core.case import encode_value
from metalab._core.values import ParamValue, describe, normalize_key, normalize_value, show
from metalab.errors import ExpressionError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "BINARY_OPS",
    "CALL_OPS",
    "CASTS",
    "UNARY_OPS",
    "Binary",
    "Call",
    "Cast",
    "Col",
    "Expr",
    "Fmt",
    "IsIn",
    "Lit",
    "Round",
    "Unary",
    "as_expr",
    "col",
    "fmt",
    "if_else",
    "lit",
    "maximum",
    "minimum",
    "same",
]

T_co = TypeVar("T_co", covariant=True)
Number = TypeVar("Number", int, float)

BINARY_OPS: Final[dict[str, tuple[str, int]]] = {
    # op: (Python operator, precedence as in Python's grammar; higher binds tighter)
    "or": ("|", 6),
    "and": ("&", 8),
    "eq": ("==", 5),
    "ne": ("!=", 5),
    "lt": ("<", 5),
    "le": ("<=", 5),
    "gt": (">", 5),
    "ge": (">=", 5),
    "add": ("+", 10),
    "sub": ("-", 10),
    "mul": ("*", 11),
    "truediv": ("/", 11),
    "floordiv": ("//", 11),
    "mod": ("%", 11),
    "pow": ("**", 13),
}
"""Every binary operator an expression can hold, with its Python spelling and precedence."""

UNARY_OPS: Final = ("neg", "not", "abs", "floor", "ceil", "sqrt", "exp", "log", "log2", "log10")
"""Every one-argument operation: ``-x``, ``~x`` and the methods of the same names."""

CALL_OPS: Final[dict[str, tuple[int, int | None]]] = {
    "if_else": (3, 3),
    "min": (1, None),
    "max": (1, None),
    "clip": (3, 3),
}
"""Every function node, with its least and most number of arguments (None: any)."""

CASTS: Final[dict[str, type]] = {"int": int, "float": float, "str": str, "bool": bool}
"""The types `Expr.cast` converts to, by the name a manifest holds."""

_PRIMARY: Final = 14
_UNARY: Final = 12

_FORMATTER: Final = string.Formatter()


class Expr(Generic[T_co]):
    """An expression over the params of one case, whose value has type ``T_co``.

    Build one with `col`, `lit`, operators (``+ - * / // % **``, unary ``-``,
    comparisons, ``& | ~``), methods and the functions of this module; use it in
    ``source.derive(...)`` and ``source.where(...)``.

    >>> e = (col("width") // col("heads")).cast(float)
    >>> e
    (col('width') // col('heads')).cast(float)
    """

    __slots__ = ()

    manifest_type: ClassVar[str]
    """The stable ``"type"`` tag of this node in manifests."""

    # -- what each node implements -------------------------------------------------------
    def children(self) -> tuple[Expr[Any], ...]:
        """The expressions this one is built from."""
        return ()

    def key(self) -> bytes:
        """The type-tagged encoding of the tree: equal keys, equal expressions."""
        raise NotImplementedError

    def _text(self) -> tuple[str, int]:
        """Python-like text of the expression, and the precedence of its outermost operator."""
        raise NotImplementedError

    # -- generic -------------------------------------------------------------------------
    def names(self) -> tuple[str, ...]:
        """The parameter names the expression reads, in order of first appearance.

        >>> (col("b") + col("a") * col("b")).names()
        ('b', 'a')
        """
        return tuple(dict.fromkeys(_names(self)))

    def same(self, other: Expr[Any]) -> bool:
        """Whether ``other`` is the same tree (``==`` builds an expression instead).

        >>> (col("x") + 1).same(col("x") + 1), (col("x") + 1).same(col("x") + 1.0)
        (True, False)
        """
        given: object = other
        return isinstance(given, Expr) and self.key() == given.key()

    def conjuncts(self) -> tuple[Expr[Any], ...]:
        """The operands of a chain of ``&`` (the expression itself if it is no ``&``)."""
        if isinstance(self, Binary) and self.op == "and":
            return self.left.conjuncts() + self.right.conjuncts()
        return (self,)

    def __repr__(self) -> str:
        """Python-like text that builds the expression again."""
        text, _ = self._text()
        return text

    def __str__(self) -> str:
        """The same text as `repr`."""
        return repr(self)

    def __hash__(self) -> int:
        """A hash of the type-tagged encoding (`key`)."""
        return hash(self.key())

    def __bool__(self) -> bool:
        """Refused: an expression has no truth value until it is evaluated on a case."""
        msg = (
            f"the expression {self!r} has no truth value: combine conditions with "
            "&, | and ~ instead of and, or and not (and use if_else(cond, a, b) instead "
            "of a if cond else b), with each comparison in parentheses, since & and | bind "
            "tighter than > and ==: (col('a') > 1) & (col('b') < 2); compare two "
            "expressions with a.same(b)"
        )
        raise ExpressionError(msg)

    # -- arithmetic ------------------------------------------------------------------------
    @overload
    def __add__(self: Expr[int], other: Expr[int] | int) -> Expr[int]: ...
    @overload
    def __add__(self: Expr[float], other: Expr[float] | float) -> Expr[float]: ...
    @overload
    def __add__(self, other: object) -> Expr[Any]: ...
    def __add__(self, other: object) -> Expr[Any]:
        """``self + other``."""
        return Binary("add", self, as_expr(other))

    @overload
    def __radd__(self: Expr[int], other: int) -> Expr[int]: ...
    @overload
    def __radd__(self: Expr[float], other: float) -> Expr[float]: ...
    @overload
    def __radd__(self, other: object) -> Expr[Any]: ...
    def __radd__(self, other: object) -> Expr[Any]:
        """``other + self``."""
        return Binary("add", as_expr(other), self)

    @overload
    def __sub__(self: Expr[int], other: Expr[int] | int) -> Expr[int]: ...
    @overload
    def __sub__(self: Expr[float], other: Expr[float] | float) -> Expr[float]: ...
    @overload
    def __sub__(self, other: object) -> Expr[Any]: ...
    def __sub__(self, other: object) -> Expr[Any]:
        """``self - other``."""
        return Binary("sub", self, as_expr(other))

    @overload
    def __rsub__(self: Expr[int], other: int) -> Expr[int]: ...
    @overload
    def __rsub__(self: Expr[float], other: float) -> Expr[float]: ...
    @overload
    def __rsub__(self, other: object) -> Expr[Any]: ...
    def __rsub__(self, other: object) -> Expr[Any]:
        """``other - self``."""
        return Binary("sub", as_expr(other), self)

    @overload
    def __mul__(self: Expr[int], other: Expr[int] | int) -> Expr[int]: ...
    @overload
    def __mul__(self: Expr[float], other: Expr[float] | float) -> Expr[float]: ...
    @overload
    def __mul__(self, other: object) -> Expr[Any]: ...
    def __mul__(self, other: object) -> Expr[Any]:
        """``self * other``."""
        return Binary("mul", self, as_expr(other))

    @overload
    def __rmul__(self: Expr[int], other: int) -> Expr[int]: ...
    @overload
    def __rmul__(self: Expr[float], other: float) -> Expr[float]: ...
    @overload
    def __rmul__(self, other: object) -> Expr[Any]: ...
    def __rmul__(self, other: object) -> Expr[Any]:
        """``other * self``."""
        return Binary("mul", as_expr(other), self)

    def __truediv__(self, other: object) -> Expr[float]:
        """``self / other``: a float, as in Python."""
        return Binary("truediv", self, as_expr(other))

    def __rtruediv__(self, other: object) -> Expr[float]:
        """``other / self``."""
        return Binary("truediv", as_expr(other), self)

    @overload
    def __floordiv__(self: Expr[int], other: Expr[int] | int) -> Expr[int]: ...
    @overload
    def __floordiv__(self: Expr[float], other: Expr[float] | float) -> Expr[float]: ...
    @overload
    def __floordiv__(self, other: object) -> Expr[Any]: ...
    def __floordiv__(self, other: object) -> Expr[Any]:
        """``self // other``: floor division, as in Python."""
        return Binary("floordiv", self, as_expr(other))

    @overload
    def __rfloordiv__(self: Expr[int], other: int) -> Expr[int]: ...
    @overload
    def __rfloordiv__(self: Expr[float], other: float) -> Expr[float]: ...
    @overload
    def __rfloordiv__(self, other: object) -> Expr[Any]: ...
    def __rfloordiv__(self, other: object) -> Expr[Any]:
        """``other // self``."""
        return Binary("floordiv", as_expr(other), self)

    @overload
    def __mod__(self: Expr[int], other: Expr[int] | int) -> Expr[int]: ...
    @overload
    def __mod__(self: Expr[float], other: Expr[float] | float) -> Expr[float]: ...
    @overload
    def __mod__(self, other: object) -> Expr[Any]: ...
    def __mod__(self, other: object) -> Expr[Any]:
        """``self % other``: the remainder takes the divisor's sign, as in Python."""
        return Binary("mod", self, as_expr(other))

    @overload
    def __rmod__(self: Expr[int], other: int) -> Expr[int]: ...
    @overload
    def __rmod__(self: Expr[float], other: float) -> Expr[float]: ...
    @overload
    def __rmod__(self, other: object) -> Expr[Any]: ...
    def __rmod__(self, other: object) -> Expr[Any]:
        """``other % self``."""
        return Binary("mod", as_expr(other), self)

    def __pow__(self, other: object) -> Expr[Any]:
        """``self ** other`` (an int or a float, as Python decides from the values)."""
        return Binary("pow", self, as_expr(other))

    def __rpow__(self, other: object) -> Expr[Any]:
        """``other ** self``."""
        return Binary("pow", as_expr(other), self)

    def __neg__(self: Expr[Number]) -> Expr[Number]:
        """``-self``."""
        return Unary("neg", self)

    # -- comparisons -----------------------------------------------------------------------
    def __eq__(self, other: object) -> Expr[bool]:  # type: ignore[override]
        """``self == other``, an expression (see `same` for equality of expressions)."""
        return Binary("eq", self, as_expr(other))

    def __ne__(self, other: object) -> Expr[bool]:  # type: ignore[override]
        """``self != other``, an expression."""
        return Binary("ne", self, as_expr(other))

    def __lt__(self, other: object) -> Expr[bool]:
        """``self < other``."""
        return Binary("lt", self, as_expr(other))

    def __le__(self, other: object) -> Expr[bool]:
        """``self <= other``."""
        return Binary("le", self, as_expr(other))

    def __gt__(self, other: object) -> Expr[bool]:
        """``self > other``."""
        return Binary("gt", self, as_expr(other))

    def __ge__(self, other: object) -> Expr[bool]:
        """``self >= other``."""
        return Binary("ge", self, as_expr(other))

    # -- boolean logic ---------------------------------------------------------------------
    def __and__(self: Expr[bool], other: Expr[bool] | bool) -> Expr[bool]:
        """``self & other``: both true (the operands must be bools)."""
        return Binary("and", self, as_expr(other))

    def __rand__(self: Expr[bool], other: bool) -> Expr[bool]:
        """``other & self``."""
        return Binary("and", as_expr(other), self)

    def __or__(self: Expr[bool], other: Expr[bool] | bool) -> Expr[bool]:
        """``self | other``: either true (the operands must be bools)."""
        return Binary("or", self, as_expr(other))

    def __ror__(self: Expr[bool], other: bool) -> Expr[bool]:
        """``other | self``."""
        return Binary("or", as_expr(other), self)

    def __invert__(self: Expr[bool]) -> Expr[bool]:
        """``~self``: not (the operand must be a bool)."""
        return Unary("not", self)

    # -- methods ---------------------------------------------------------------------------
    def isin(self, values: Iterable[ParamValue]) -> Expr[bool]:
        """Whether the value is one of ``values`` (``x in values`` in Python).

        >>> col("opt").isin(["adam", "sgd"])
        col('opt').isin(['adam', 'sgd'])
        """
        return IsIn(self, _values(values))

    def abs(self: Expr[Number]) -> Expr[Number]:
        """``abs(self)``."""
        return Unary("abs", self)

    @overload
    def round(self: Expr[int], ndigits: int = 0) -> Expr[int]: ...
    @overload
    def round(self: Expr[float], ndigits: int = 0) -> Expr[float]: ...
    def round(self: Expr[float], ndigits: int = 0) -> Expr[float]:
        """``round(self, ndigits)``: halves to even, an int stays an int."""
        return Round(self, ndigits)

    def floor(self: Expr[float]) -> Expr[int]:
        """``math.floor(self)``: an int."""
        return Unary("floor", self)

    def ceil(self: Expr[float]) -> Expr[int]:
        """``math.ceil(self)``: an int."""
        return Unary("ceil", self)

    def sqrt(self: Expr[float]) -> Expr[float]:
        """``math.sqrt(self)``."""
        return Unary("sqrt", self)

    def exp(self: Expr[float]) -> Expr[float]:
        """``math.exp(self)``."""
        return Unary("exp", self)

    def log(self: Expr[float]) -> Expr[float]:
        """``math.log(self)``."""
        return Unary("log", self)

    def log2(self: Expr[float]) -> Expr[float]:
        """``math.log2(self)``."""
        return Unary("log2", self)

    def log10(self: Expr[float]) -> Expr[float]:
        """``math.log10(self)``."""
        return Unary("log10", self)

    def clip(
        self: Expr[Number], low: Expr[Number] | Number, high: Expr[Number] | Number
    ) -> Expr[Number]:
        """``min(max(self, low), high)``."""
        return Call("clip", (self, as_expr(low), as_expr(high)))

    @overload
    def cast(self, to: type[bool]) -> Expr[bool]: ...
    @overload
    def cast(self, to: type[int]) -> Expr[int]: ...
    @overload
    def cast(self, to: type[float]) -> Expr[float]: ...
    @overload
    def cast(self, to: type[str]) -> Expr[str]: ...
    def cast(self, to: type[Any]) -> Expr[Any]:
        """``to(self)`` for ``to`` one of ``int``, ``float``, ``str``, ``bool``."""
        for name, cls in CASTS.items():
            if to is cls:
                return Cast(self, name)
        msg = f"cast takes int, float, str or bool, got {describe(to)}"
        raise ExpressionError(msg)


def _names(expr: Expr[Any]) -> Iterator[str]:
    if isinstance(expr, Col):
        yield expr.name
    elif isinstance(expr, Fmt):
        yield from expr.fields()
    for child in expr.children():
        yield from _names(child)


def _values(values: object) -> tuple[ParamValue, ...]:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        msg = f"isin takes a sequence of values, got {describe(values)}"
        raise ExpressionError(msg)
    out = tuple(_literal(v, "isin values") for v in values)
    if not out:
        msg = "isin takes at least one value, got an empty sequence"
        raise ExpressionError(msg)
    return out


def _literal(value: object, where: str) -> ParamValue:
    normalized = normalize_value(value, where)
    if isinstance(normalized, tuple | dict):
        msg = (
            f"{where}: an expression's constants are None, bool, int, float or str, "
            f"got {describe(value)}"
        )
        raise ExpressionError(msg)
    return normalized


def as_expr(value: object) -> Expr[Any]:
    """``value`` itself if it is an expression, else the constant `lit(value)`."""
    if isinstance(value, Expr):
        return value
    return lit(value)


def same(a: Expr[Any], b: Expr[Any]) -> bool:
    """Whether two expressions are the same tree (``==`` builds an expression instead).

    >>> same(col("x") + 1, col("x") + 1), same(col("x") + 1, col("x") + 1.0)
    (True, False)
    """
    return a.key() == b.key()


def _name_key(name: str) -> bytes:
    return encode_value(name)


def _column_name(name: object) -> str:
    return normalize_key(name, "col")


@final
@attrs.frozen(eq=False, repr=False)
class Col(Expr[Any]):
    """A parameter of the case, by name."""

    manifest_type: ClassVar[str] = "col"

    name: str = attrs.field(converter=_column_name)

    def key(self) -> bytes:
        """``c`` and the name."""
        return b"c" + _name_key(self.name)

    def _text(self) -> tuple[str, int]:
        return f"col({self.name!r})", _PRIMARY


def _to_literal(value: object) -> ParamValue:
    return _literal(value, "lit")


@final
@attrs.frozen(eq=False, repr=False)
class Lit(Expr[Any]):
    """A constant: None, a bool, an int of any size, a finite float or a str."""

    manifest_type: ClassVar[str] = "lit"

    value: ParamValue = attrs.field(converter=_to_literal)

    def key(self) -> bytes:
        """``l`` and the type-tagged value."""
        return b"l" + encode_value(self.value)

    def _text(self) -> tuple[str, int]:
        return f"lit({show(self.value)})", _PRIMARY

    def bare(self) -> tuple[str, int]:
        """The value's own text, as an operand beside an expression."""
        text = show(self.value)
        negative = isinstance(self.value, int | float) and text.startswith("-")
        return text, _UNARY if negative else _PRIMARY


def _operand(expr: Expr[Any], other: Expr[Any]) -> tuple[str, int]:
    """An operand's text: a constant beside a non-constant is written bare, as typed."""
    if isinstance(expr, Lit) and not isinstance(other, Lit):
        return expr.bare()
    return expr._text()  # noqa: SLF001


def _wrapped(text: str, precedence: int, needed: int) -> str:
    return f"({text})" if precedence < needed else text


def _check_op(table: object, op: str, kind: str) -> None:
    if op not in table:  # type: ignore[operator]
        msg = f"unknown {kind} operation {op!r}; known: {', '.join(sorted(table))}"  # type: ignore[call-overload]
        raise ExpressionError(msg)


@final
@attrs.frozen(eq=False, repr=False)
class Unary(Expr[Any]):
    """``-x``, ``~x``, or a one-argument method (``abs``, ``floor``, ``sqrt``, ...)."""

    manifest_type: ClassVar[str] = "unary"

    op: str
    arg: Expr[Any]

    def __attrs_post_init__(self) -> None:
        """Check the operation."""
        _check_op(UNARY_OPS, self.op, "unary")
        _check_expr(self.arg, self.op)

    def children(self) -> tuple[Expr[Any], ...]:
        """The operand."""
        return (self.arg,)

    def key(self) -> bytes:
        """``u``, the operation and the operand's key."""
        return b"u" + _name_key(self.op) + self.arg.key()

    def _text(self) -> tuple[str, int]:
        text, prec = self.arg._text()  # noqa: SLF001
        if self.op in ("neg", "not"):
            sign = "-" if self.op == "neg" else "~"
            return sign + _wrapped(text, prec, _UNARY), _UNARY
        return f"{_wrapped(text, prec, _PRIMARY)}.{self.op}()", _PRIMARY


@final
@attrs.frozen(eq=False, repr=False)
class Binary(Expr[Any]):
    """An arithmetic operator, a comparison, ``&`` or ``|`` (see `BINARY_OPS`)."""

    manifest_type: ClassVar[str] = "binary"

    op: str
    left: Expr[Any]
    right: Expr[Any]

    def __attrs_post_init__(self) -> None:
        """Check the operation."""
        _check_op(BINARY_OPS, self.op, "binary")
        _check_expr(self.left, self.op)
        _check_expr(self.right, self.op)

    def children(self) -> tuple[Expr[Any], ...]:
        """The two operands."""
        return (self.left, self.right)

    def key(self) -> bytes:
        """``b``, the operation and both operands' keys."""
        return b"b" + _name_key(self.op) + self.left.key() + self.right.key()

    def _text(self) -> tuple[str, int]:
        symbol, prec = BINARY_OPS[self.op]
        left, left_prec = _operand(self.left, self.right)
        right, right_prec = _operand(self.right, self.left)
        if self.op == "pow":  # right-associative, and binds tighter than a unary minus left
            left_text = _wrapped(left, left_prec, prec + 1)
            right_text = _wrapped(right, right_prec, _UNARY)
        else:
            left_text = _wrapped(left, left_prec, prec + (prec == 5))
            right_text = _wrapped(right, right_prec, prec + 1)
        return f"{left_text} {symbol} {right_text}", prec


def _args(value: Iterable[Expr[Any]]) -> tuple[Expr[Any], ...]:
    return tuple(value)


@final
@attrs.frozen(eq=False, repr=False)
class Call(Expr[Any]):
    """``if_else(c, a, b)``, ``minimum(...)``, ``maximum(...)`` or ``x.clip(low, high)``."""

    manifest_type: ClassVar[str] = "call"

    op: str
    args: tuple[Expr[Any], ...] = attrs.field(converter=_args)

    def __attrs_post_init__(self) -> None:
        """Check the operation and its number of arguments."""
        _check_op(CALL_OPS, self.op, "function")
        least, most = CALL_OPS[self.op]
        if len(self.args) < least or (most is not None and len(self.args) > most):
            count = f"{least}" if least == most else f"at least {least}"
            msg = f"{self.op} takes {count} expressions, got {len(self.args)}"
            raise ExpressionError(msg)
        for arg in self.args:
            _check_expr(arg, self.op)

    def children(self) -> tuple[Expr[Any], ...]:
        """The arguments."""
        return self.args

    def key(self) -> bytes:
        """``f``, the operation, the count and each argument's key."""
        return (
            b"f"
            + _name_key(self.op)
            + b"%d:" % len(self.args)
            + b"".join(a.key() for a in self.args)
        )

    def _text(self) -> tuple[str, int]:
        computed = any(not isinstance(a, Lit) for a in self.args)
        texts = [a.bare()[0] if isinstance(a, Lit) and computed else repr(a) for a in self.args]
        if self.op == "clip":
            receiver, prec = self.args[0]._text()  # noqa: SLF001
            return f"{_wrapped(receiver, prec, _PRIMARY)}.clip({texts[1]}, {texts[2]})", _PRIMARY
        name = {"min": "minimum", "max": "maximum"}.get(self.op, self.op)
        return f"{name}({', '.join(texts)})", _PRIMARY


@final
@attrs.frozen(eq=False, repr=False)
class IsIn(Expr[Any]):
    """Whether the value is one of a list of constants."""

    manifest_type: ClassVar[str] = "isin"

    arg: Expr[Any]
    values: tuple[ParamValue, ...] = attrs.field(converter=_values)

    def __attrs_post_init__(self) -> None:
        """Check the operand."""
        _check_expr(self.arg, "isin")

    def children(self) -> tuple[Expr[Any], ...]:
        """The operand."""
        return (self.arg,)

    def key(self) -> bytes:
        """``i``, the operand's key and the type-tagged values."""
        return b"i" + self.arg.key() + encode_value(self.values)

    def _text(self) -> tuple[str, int]:
        text, prec = self.arg._text()  # noqa: SLF001
        values = "[" + ", ".join(map(show, self.values)) + "]"
        return f"{_wrapped(text, prec, _PRIMARY)}.isin({values})", _PRIMARY


def _ndigits(value: object) -> int:
    if type(value) is not int:
        msg = f"round takes an int number of digits, got {describe(value)}"
        raise ExpressionError(msg)
    return value


@final
@attrs.frozen(eq=False, repr=False)
class Round(Expr[Any]):
    """``round(x, ndigits)``."""

    manifest_type: ClassVar[str] = "round"

    arg: Expr[Any]
    ndigits: int = attrs.field(default=0, converter=_ndigits)

    def __attrs_post_init__(self) -> None:
        """Check the operand."""
        _check_expr(self.arg, "round")

    def children(self) -> tuple[Expr[Any], ...]:
        """The operand."""
        return (self.arg,)

    def key(self) -> bytes:
        """``r``, the operand's key and the digits."""
        return b"r" + self.arg.key() + encode_value(self.ndigits)

    def _text(self) -> tuple[str, int]:
        text, prec = self.arg._text()  # noqa: SLF001
        digits = "" if self.ndigits == 0 else str(self.ndigits)
        return f"{_wrapped(text, prec, _PRIMARY)}.round({digits})", _PRIMARY


@final
@attrs.frozen(eq=False, repr=False)
class Cast(Expr[Any]):
    """``to(x)`` for ``to`` one of int, float, str, bool (named in `CASTS`)."""

    manifest_type: ClassVar[str] = "cast"

    arg: Expr[Any]
    to: str

    def __attrs_post_init__(self) -> None:
        """Check the operand and the type."""
        _check_op(CASTS, self.to, "cast")
        _check_expr(self.arg, "cast")

    def children(self) -> tuple[Expr[Any], ...]:
        """The operand."""
        return (self.arg,)

    def key(self) -> bytes:
        """``t``, the operand's key and the type's name."""
        return b"t" + self.arg.key() + _name_key(self.to)

    def _text(self) -> tuple[str, int]:
        text, prec = self.arg._text()  # noqa: SLF001
        return f"{_wrapped(text, prec, _PRIMARY)}.cast({self.to})", _PRIMARY


def _template(value: object) -> str:
    if type(value) is not str:
        msg = f"fmt takes a str template, got {describe(value)}"
        raise ExpressionError(msg)
    _fields(value)
    return value


def _fields(template: str) -> tuple[str, ...]:
    """The parameter names a template reads; only plain names, no attribute or item access.

    A template from a manifest is data: ``{x.__class__}`` would reach into objects.
    """
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as error:
        msg = f"fmt template {template!r} is malformed: {error}"
        raise ExpressionError(msg) from None
    names: list[str] = []
    name: str | None
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if not name or any(c in name for c in ".[]") or name.isdigit():
            msg = (
                f"fmt template {template!r}: each field names a parameter, as {{width}}; "
                f"got {{{name}}}"
            )
            raise ExpressionError(msg)
        if spec and "{" in spec:
            msg = f"fmt template {template!r}: nested fields in a format spec are not supported"
            raise ExpressionError(msg)
        names.append(name)
    return tuple(names)


@final
@attrs.frozen(eq=False, repr=False)
class Fmt(Expr[Any]):
    """``template.format(**params)``: a str built from the case's params."""

    manifest_type: ClassVar[str] = "fmt"

    template: str = attrs.field(converter=_template)

    def fields(self) -> tuple[str, ...]:
        """The parameter names the template reads."""
        return _fields(self.template)

    def key(self) -> bytes:
        """``s`` and the template."""
        return b"s" + encode_value(self.template)

    def _text(self) -> tuple[str, int]:
        return f"fmt({self.template!r})", _PRIMARY


def _check_expr(value: object, where: str) -> None:
    if not isinstance(value, Expr):
        msg = f"{where}: expected an expression, got {describe(value)}"
        raise ExpressionError(msg)


# -- the public constructors -------------------------------------------------------------
@overload
def col(name: str) -> Expr[Any]: ...
@overload
def col(name: str, type: type[T_co]) -> Expr[T_co]: ...
def col(name: str, type: type[Any] | None = None) -> Expr[Any]:  # noqa: A002
    """The parameter ``name`` of the case; ``type`` only tells type checkers its type.

    >>> col("width", int) // col("heads", int)
    col('width') // col('heads')
    """
    del type
    return Col(name)


def lit(value: T_co) -> Expr[T_co]:  # type: ignore[misc]
    """A constant: None, a bool, an int, a finite float or a str.

    >>> lit(2) ** col("depth")
    2 ** col('depth')
    """
    return Lit(value)


def if_else(cond: Expr[bool] | bool, then: object, otherwise: object) -> Expr[Any]:
    """``then if cond else otherwise``, per case (only the branch taken is computed).

    >>> if_else(col("opt") == "sgd", col("lr") * 10, col("lr"))
    if_else(col('opt') == 'sgd', col('lr') * 10, col('lr'))
    """
    return Call("if_else", (as_expr(cond), as_expr(then), as_expr(otherwise)))


def minimum(*exprs: object) -> Expr[Any]:
    """``min(*exprs)``, per case (the first of equal smallest values, as ``min``)."""
    return Call("min", tuple(map(as_expr, exprs)))


def maximum(*exprs: object) -> Expr[Any]:
    """``max(*exprs)``, per case (the first of equal largest values, as ``max``)."""
    return Call("max", tuple(map(as_expr, exprs)))


def fmt(template: str) -> Expr[str]:
    """``template.format(**params)``: a str from the case's params, e.g. a run name.

    >>> fmt("{model}-w{width}")
    fmt('{model}-w{width}')
    """
    return Fmt(template)
