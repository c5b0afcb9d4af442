"""Fuzzing manifests: whatever a file holds, reading it raises ManifestError or gives a source.

Thousands of manifests are mutated (keys deleted and added, values swapped for other
types, NaN, negative and huge numbers, absurd nesting, unknown and wrong tags) and
read; nothing but `ManifestError` may escape, its message must start with a JSON path,
and whatever does load must round-trip.
"""

from __future__ import annotations

import copy
import json
import re
from random import Random
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metalab
from metalab import (
    ParamSource,
    choice,
    grid,
    loguniform,
    loguniform_int,
    manual,
    randint,
    random,
    uniform,
)
from metalab.errors import ManifestError
from metalab.manifest import SOURCE_TYPES, dumps, from_manifest, loads, to_manifest
from metalab.params.distributions import DISTRIBUTIONS
from metalab.params.random import LEGACY_ALGORITHM
from metalab.testing import sources

FUZZ_EXAMPLES: Final = 3000
"""Damaged manifests read per fuzz test: fixed, so every run (local or CI) reads thousands."""
BATCH: Final = 10
"""Damaged manifests per Hypothesis example (its per-example overhead dominates otherwise)."""


def _bases() -> list[dict[str, Any]]:
    g = grid(lr=[0.1, 0.01], opt=["adam", None, [1, {"a": 2}]])
    m = manual([{"x": 1}, {"x": 2.5, "y": "z"}], tags=["t"])
    r = random(
        {
            "a": uniform(0, 1),
            "b": loguniform(1e-3, 1),
            "c": randint(0, 9),
            "d": loguniform_int(1, 64),
            "e": choice(["p", 2, None]),
        },
        n_trials=6,
        seed=11,
    )
    z = metalab.zip(w=[1, 2], d=[0.1, 0.2])
    rep = metalab.replicates(3, seed=5)
    built: list[ParamSource] = [
        g,
        grid(x=range(0, 20, 3)),
        m,
        r,
        random({"a": uniform(0, 1)}, 4, seed=2**40, algorithm=LEGACY_ALGORITHM),
        z,
        rep,
        g + m,
        g * z * rep,
        (g + m)[1:4],
        (g * rep)[::-2],
        (g * z).shuffled(9),
    ]
    seed_format: list[dict[str, Any]] = [
        {"type": "GridSource", "spec": {"x": [1, 2]}, "total_cases": 2},
        {"type": "ManualSource", "cases": [{"x": 1}]},
        {
            "type": "RandomSource",
            "space": {"lr": {"type": "Uniform", "low": 0, "high": 1}},
            "n_trials": 3,
            "seed": 4,
        },
    ]
    return [to_manifest(s) for s in built] + seed_format


BASES: Final = _bases()

_FIELDS: Final = sorted(
    {
        "type",
        "format_version",
        "spec",
        "total_cases",
        "cases",
        "tags",
        "space",
        "n_trials",
        "seed",
        "algorithm",
        "parts",
        "source",
        "start",
        "stop",
        "step",
        "n",
        "key",
        "low",
        "high",
        "options",
        "weights",
        "mu",
        "sigma",
    }
)
_TAGS: Final = sorted(
    {cls.manifest_type for cls in SOURCE_TYPES}
    | {cls.manifest_type for cls in DISTRIBUTIONS}
    | {"range", "Normal-ish", "os.system", "__import__", "", "gridsource"}
)
_SPECIAL: Final[list[Any]] = [
    float("nan"),
    float("inf"),
    float("-inf"),
    -1,
    -(2**70),
    2**64,
    2**64 - 1,
    10**400,
    0,
    2.0,
    -0.0,
    1e308,
    True,
    False,
    None,
    "",
    "1.0",
    "2.0",
    "a\ud800",
    [],
    {},
    "splitmix64-v1",
    LEGACY_ALGORITHM,
]

_TEXT_CHARS: Final = 'ab_.x"\\ é\ud800\x00{['


def _special(rng: Random) -> Any:
    """One of ``_SPECIAL``, its ``[]`` and ``{}`` fresh each time.

    Handing out the module's own ``[]`` or ``{}`` would let later mutations fill them,
    leaking state from one example into the next until one holds itself: a cycle that
    ``_locations`` walks forever (an endless hang growing to gigabytes).
    """
    return copy.deepcopy(rng.choice(_SPECIAL))


def _text(rng: Random, size: int = 5) -> str:
    return "".join(rng.choice(_TEXT_CHARS) for _ in range(rng.randint(0, size)))


def _scalar(rng: Random) -> Any:
    kind = rng.randrange(6)
    if kind == 0:
        return _special(rng)
    if kind == 1:
        return rng.randint(-(2**70), 2**70) >> rng.randrange(71)
    if kind == 2:
        return rng.uniform(-1e6, 1e6)
    if kind == 3:
        return _text(rng)
    if kind == 4:
        return rng.choice([None, True, False])
    return rng.choice(_TAGS + _FIELDS)


def _junk(rng: Random, depth: int = 2) -> Any:
    """A random JSON-like value: mostly scalars, sometimes small arrays and objects."""
    kind = rng.randrange(5) if depth > 0 else 0
    if kind == 3:
        return [_junk(rng, depth - 1) for _ in range(rng.randrange(4))]
    if kind == 4:
        return {_text(rng, 4): _junk(rng, depth - 1) for _ in range(rng.randrange(4))}
    return _scalar(rng)


def _locations(root: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in the tree, found without recursion."""
    out: list[tuple[Any, Any]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            pairs: list[tuple[Any, Any]] = [(node, k) for k in node]
        elif isinstance(node, list):
            pairs = [(node, i) for i in range(len(node))]
        else:
            continue
        out.extend(pairs)
        stack.extend(container[key] for container, key in pairs)
    return out


def _nest(value: Any, depth: int, as_dict: bool) -> Any:
    for _ in range(depth):
        value = {"k": value} if as_dict else [value]
    return value


def _delete(rng: Random, container: Any, key: Any) -> None:
    del rng
    del container[key]


def _add(rng: Random, container: Any, key: Any) -> None:
    target = container[key] if isinstance(container[key], dict) else container
    if isinstance(target, dict):
        target[rng.choice([*_FIELDS, _text(rng)])] = _junk(rng)
    else:
        target.append(_junk(rng))


def _replace(rng: Random, container: Any, key: Any) -> None:
    container[key] = _junk(rng)


def _retag(rng: Random, container: Any, key: Any) -> None:
    target = container[key] if isinstance(container[key], dict) else container
    if isinstance(target, dict):
        target["type"] = rng.choice([*_TAGS, _scalar(rng)])


def _number(rng: Random, container: Any, key: Any) -> None:
    container[key] = _special(rng)


def _deepen(rng: Random, container: Any, key: Any) -> None:
    depth = rng.choice([1, 2, 50, 99, 101, 120])
    container[key] = _nest(container[key], depth, rng.random() < 0.5)


def _duplicate(rng: Random, container: Any, key: Any) -> None:
    # Shared, not copied: reading never mutates.
    del rng
    if isinstance(container, list):
        container.insert(key, container[key])
    else:
        container[key] = [container[key], container[key]]


_MUTATIONS: Final = (_delete, _add, _replace, _retag, _number, _deepen, _duplicate)


def _mutate(rng: Random, root: Any) -> Any:
    """Apply one random mutation somewhere in ``root``; return the (possibly new) root."""
    places = _locations(root)
    if not places or rng.random() < 0.05:
        return rng.choice([_junk(rng), [copy.deepcopy(rng.choice(BASES))]])
    container, key = rng.choice(places)
    rng.choice(_MUTATIONS)(rng, container, key)
    return root


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_INDEX = r"\[(?:\d+|\"(?:[^\"\\]|\\.)*\")\]"
_PATH_RE: Final = re.compile(rf"(?:the manifest|(?:{_IDENT}|{_INDEX})(?:\.{_IDENT}|{_INDEX})*): \S")


def _check(read: Any, data: Any) -> None:
    """Reading ``data`` gives a source that round-trips, or a ManifestError with a path."""
    try:
        source = read(data)
    except ManifestError as error:
        message = str(error)
    else:
        assert isinstance(source, ParamSource)
        assert from_manifest(to_manifest(source)) == source
        return
    assert _PATH_RE.match(message), message


def _damage(rng: Random, text: str) -> str:
    """Delete, insert or replace a few characters of JSON text."""
    for _ in range(rng.randint(1, 3)):
        i = rng.randint(0, len(text))
        j = rng.randint(i, min(len(text), i + 8))
        insert = rng.choice(["", "[", "{", '"', ",", "-", "1", "NaN", "e9", "\\ud800", _text(rng)])
        text = text[:i] + insert + text[j:]
    return text


def _mutated(rng: Random, base: Any, count: int) -> Any:
    root: Any = copy.deepcopy(base)
    for _ in range(rng.randint(1, count)):
        root = _mutate(rng, root)
    return root


def test_mutations_leave_module_values_alone() -> None:
    """Mutating never changes ``_SPECIAL`` or ``BASES``, so no example leaks into the next.

    A shared ``[]`` from ``_SPECIAL`` once collected junk across examples until it held
    itself, and walking that cycle hung the fuzz test for minutes, growing to gigabytes.
    """
    before = repr((_SPECIAL, BASES))
    rng = Random(0)
    for _ in range(FUZZ_EXAMPLES):
        _mutated(rng, rng.choice(BASES), 4)
    assert repr((_SPECIAL, BASES)) == before


# Hypothesis draws a seed per example; a random.Random of that seed drives a batch of
# mutations, so thousands of manifests cost a few seconds and a failure replays exactly.
_SEEDS: Final = st.integers(0, 2**64 - 1)


@pytest.mark.slow
class TestFuzz:
    """Only ManifestError escapes from reading a manifest, however it is damaged."""

    @settings(max_examples=FUZZ_EXAMPLES // BATCH, deadline=None)
    @given(_SEEDS)
    def test_mutated_manifests(self, seed: int) -> None:
        """Mutated manifest data and its JSON text raise ManifestError or load a valid source."""
        rng = Random(seed)
        for base in rng.choices(BASES, k=BATCH):
            root = _mutated(rng, base, 4)
            _check(from_manifest, root)
            try:
                text = json.dumps(root)
            except (ValueError, RecursionError):
                continue
            _check(loads, text)

    @settings(max_examples=FUZZ_EXAMPLES // BATCH, deadline=None)
    @given(_SEEDS)
    def test_damaged_text(self, seed: int) -> None:
        """Manifest text with characters cut, added or replaced raises ManifestError or loads."""
        rng = Random(seed)
        for base in rng.choices(BASES, k=BATCH):
            _check(loads, _damage(rng, dumps(from_manifest(base))))

    @settings(deadline=None)
    @given(sources(max_depth=2), _SEEDS)
    def test_mutated_generated_sources(self, source: ParamSource, seed: int) -> None:
        """Mutated manifests of generated source trees raise ManifestError or load."""
        rng = Random(seed)
        base = to_manifest(source)
        for _ in range(5):
            _check(from_manifest, _mutated(rng, base, 3))
