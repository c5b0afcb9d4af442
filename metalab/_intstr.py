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

__all__ = ["digit_count", "int_to_str"]

_LOG10_2: Final = 0.30102999566398120
"""log10(2): ``bit_length * _LOG10_2`` estimates the number of decimal digits."""
_DEFAULT_LIMIT: Final = 4300
"""The digits ``str`` allows by default, used when the limit is switched off (0)."""


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
    """``str(n)``, for ints of any number of digits.

    >>> int_to_str(-12), len(int_to_str(10**5000))
    ('-12', 5001)
    """
    if n < 0:
        return "-" + int_to_str(-n)
    limit = sys.get_int_max_str_digits() or _DEFAULT_LIMIT
    return _digits(n, digit_count(n), limit)


def _digits(n: int, digits: int, limit: int) -> str:
    if digits <= limit:
        return str(n)
    # Balanced halves: the cost is that of a few big divisions, not one per chunk.
    low_digits = digits // 2
    high, low = divmod(n, 10**low_digits)
    return _digits(high, digits - low_digits, limit) + _digits(low, low_digits, limit).zfill(
        low_digits
    )
