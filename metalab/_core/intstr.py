"""Exact decimal text of ints of any size, whatever ``sys.get_int_max_str_digits`` says.

Python refuses ``str(n)`` for ints of more than 4,300 digits (CVE-2020-10735), a guard
against quadratic-time parsing of untrusted text. Sweep sizes and indices are computed
by metalab, not parsed, and a size may exceed that; writing them must still work, and
without lifting the limit for the whole process (``sys.set_int_max_str_digits`` is
global state that a user's code may rely on).
"""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["counted", "digit_count", "format_count", "int_to_str", "parse_int"]

_LOG10_2: Final = 0.30102999566398120
"""log10(2): ``bit_length * _LOG10_2`` estimates the number of decimal digits."""
_DEFAULT_LIMIT: Final = 4300
"""The digits ``str`` allows by default, used when the limit is switched off (0)."""
_SAFE_DIGITS: Final = 600
"""Texts of up to this many digits parse under any ``sys.set_int_max_str_digits`` (>= 640)."""
_SAFE_BITS: Final = 1990
"""Ints below ``2**_SAFE_BITS`` have at most `_SAFE_DIGITS` digits."""
_EXACT_DIGITS: Final = 24
"""`format_count` writes counts of up to this many digits exactly."""


def digit_count(n: int) -> int:
    """The number of decimal digits of ``abs(n)`` (1 for 0), computed without ``str``.

    >>> digit_count(0), digit_count(999), digit_count(-1000), digit_count(10**5000)
    (1, 3, 4, 5001)
    """
    n = abs(n)
    if n < 10:
        return 1
    # The estimate is off by at most one either way; one comparison fixes it.
    digits = int(n.bit_length() * _LOG10_2)
    if n >= 10**digits:
        digits += 1
    return digits


def int_to_str(n: int) -> str:
    """``str(n)``, for ints of any number of digits (an int subclass's hooks never run).

    >>> int_to_str(-12), len(int_to_str(10**5000))
    ('-12', 5001)
    """
    if n.bit_length() < _SAFE_BITS:
        return int.__repr__(n)
    if n < 0:
        return "-" + int_to_str(-n)
    limit = sys.get_int_max_str_digits() or _DEFAULT_LIMIT
    return _digits(n, digit_count(n), limit)


def _digits(n: int, digits: int, limit: int) -> str:
    if digits <= limit:
        return int.__repr__(n)  # an int subclass's own __repr__ or __str__ never runs
    # Balanced halves: the cost is that of a few big divisions, not one per chunk.
    low_digits = digits // 2
    high, low = divmod(n, 10**low_digits)
    return _digits(high, digits - low_digits, limit) + _digits(low, low_digits, limit).zfill(
        low_digits
    )


def parse_int(text: str) -> int:
    """``int(text)`` for a decimal integer of any length, whatever the str limit says.

    `decimal` parses through its own arithmetic, which the limit (meant for ``int``
    and ``str``) does not cover, and its constructor is exact at any precision.

    >>> parse_int("-12"), parse_int("1" + "0" * 5000) == 10**5000
    (-12, True)
    """
    if len(text) <= _SAFE_DIGITS:
        return int(text)
    import decimal  # only huge ints need it

    return int(decimal.Decimal(text))


def format_count(count: int) -> str:
    """A count for a person: exact with thousands separators, or 4 significant digits.

    Integer arithmetic only: a float conversion fails above 1.8e308, and ``str`` above
    4,300 digits.

    >>> format_count(1234567), format_count(7 * 10**24), format_count(2**1100)
    ('1,234,567', '7.000e+24', '1.358e+331')
    """
    digits = digit_count(count)
    if digits <= _EXACT_DIGITS:
        return f"{count:,}"
    exponent = digits - 1
    scale = 10 ** (exponent - 3)
    lead, rest = divmod(abs(count), scale)
    if 2 * rest >= scale:
        lead += 1
    if lead == 10_000:  # 9.9995e+k rounds up to 1.000e+(k+1)
        lead, exponent = 1000, exponent + 1
    sign = "-" if count < 0 else ""
    return f"{sign}{lead // 1000}.{lead % 1000:03d}e+{exponent}"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` things for a message, the noun in the number it takes (``1 case``).

    >>> counted(1, "case"), counted(2, "case"), counted(10**40, "index", "indices")
    ('1 case', '2 cases', '1.000e+40 indices')
    """
    return f"{format_count(count)} {noun if count == 1 else plural or noun + 's'}"
