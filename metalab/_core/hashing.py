"""`blake2b`, the hash behind case ids and parameter-name streams, imported cheaply.

``hashlib`` loads OpenSSL's ``_hashlib`` on import (several milliseconds), yet its
``blake2b`` is CPython's built-in ``_blake2.blake2b`` either way. Importing that module
directly keeps ``import metalab`` lean; the digests are the same function's.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without the built-in module
    from hashlib import blake2b

__all__ = ["blake2b"]
