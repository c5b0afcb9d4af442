"""Random sources: every access path gives the same bits, and values are pure functions."""

from __future__ import annotations

import copy
import gc
import importlib
import itertools
import json
import os
import pickle
import subprocess
import sys
import textwrap
import tracemalloc
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import (
    ParamCase,
    RandomSource,
    choice,
    col,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    random,
    uniform,
)
from metalab._core.case import encode_value
from metalab.errors import CaseIndexError, ParamError, SizeOverflowError

if TYPE_CHECKING:
    from collections.abc import Callable

    from metalab.params.distributions import Distribution

TWO64 = 2**64
random_module = importlib.import_module("metalab._sources.random")

REPRESENTATIVE: list[Distribution] = [
    uniform(0, 1),
    uniform(-1e300, 1e300),
    uniform(-0.5, 0.5, step=0.1),
    loguniform(1e-5, 1e-1),
    loguniform(1, 1000, step=0.5),
    randint(1, 8),
    randint(-(2**63), 2**63 - 1),
    randint(-(2**63), 0),
    randint(0, 100, step=25),
    loguniform_int(1, 1024),
    loguniform_int(16, 4096, step=16),
    choice(["adam", "sgd", "rmsprop"]),
    choice([1, 2.5, "x", None, (1, 2), {"k": True}]),
    choice([True, False], weights=[3, 1]),
    choice([16, 32, 64], weights=[0.2, 0, 0.8]),
    normal(0, 1),
    lognormal(-2, 0.5),
]
"""One of each law and option, with awkward ranges (full int64, rejection-heavy)."""

NAMES = st.text(alphabet="abcxyz_é'\"\\\n{}", min_size=1, max_size=4)
SPACES = st.dictionaries(NAMES, st.sampled_from(REPRESENTATIVE), min_size=1, max_size=4)
SEEDS = st.integers(0, TWO64 - 1) | st.sampled_from([0, 1, TWO64 - 1])


def same_case(a: ParamCase, b: ParamCase) -> bool:
    """Same params (bit for bit), same tags, same id."""
    return (
        a.params.keys() == b.params.keys()
        and all(encode_value(a.params[k]) == encode_value(b.params[k]) for k in a.params)
        and a.tags == b.tags
        and a.case_id == b.case_id
    )


def all_same(xs: list[ParamCase], ys: list[ParamCase]) -> bool:
    """Two lists of the same cases."""
    return len(xs) == len(ys) and all(map(same_case, xs, ys))


class TestAccessPaths:
    """Indexing, take, columns, iteration and dicts agree bit for bit."""

    @given(
        space=SPACES,
        n_trials=st.integers(0, 40),
        seed=SEEDS,
        chunk=st.integers(1, 9),
        data=st.data(),
    )
    def test_every_path_gives_the_same_cases(
        self,
        space: dict[str, Distribution],
        n_trials: int,
        seed: int,
        chunk: int,
        data: st.DataObject,
    ) -> None:
        """source[i], list(source), take, dicts and columns agree, across chunk boundaries."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(random_module, "CHUNK", chunk)
            patch.setattr(random_module, "COLUMN_CHUNK", chunk)
            patch.setattr(random_module, "_FIRST_CHUNK", max(1, chunk // 3))
            source = random(space, n_trials, seed)
            indexed = [source[i] for i in range(n_trials)]
            assert all_same(list(source), indexed)
            assert all_same(source.take(range(n_trials)), indexed)
            assert all_same(source.take(np.arange(n_trials, dtype=np.int32)), indexed)
            assert [case.tags for case in indexed] == [(f"trial_{i}",) for i in range(n_trials)]
            dicts = list(source.dicts())
            assert all(
                same_case(ParamCase(d, case.tags), case)
                for d, case in zip(dicts, indexed, strict=True)
            )
            columns = source.columns()
            assert list(columns) == sorted(space)
            for name, column in columns.items():
                assert len(column) == n_trials
                assert list(map(encode_value, column.tolist())) == list(
                    map(encode_value, [c.params[name] for c in indexed])
                )
            if n_trials:
                picks = data.draw(st.lists(st.integers(-n_trials, n_trials - 1), max_size=12))
                expected = [indexed[i] for i in picks]
                assert all_same(source.take(picks), expected)
                assert all_same(source.take(np.array(picks, dtype=np.int64)), expected)
                chosen = source.columns(picks)
                for name, column in chosen.items():
                    assert list(map(encode_value, column.tolist())) == list(
                        map(encode_value, [c.params[name] for c in expected])
                    )

    def test_columns_have_the_laws_dtypes(self) -> None:
        """Columns are float64 for continuous laws, int64 for integer laws, typed for choice."""
        source = random(
            {
                "a": uniform(0, 1),
                "b": randint(0, 3),
                "c": choice(["x", "yy"]),
                "d": choice([True, False]),
                "e": choice([1, "x"]),
                "f": normal(0, 1),
                "g": loguniform_int(1, 9),
            },
            50,
            seed=3,
        )
        dtypes = {k: v.dtype.kind for k, v in source.columns().items()}
        assert dtypes == {"a": "f", "b": "i", "c": "U", "d": "b", "e": "O", "f": "f", "g": "i"}
        empty = source.columns([])
        assert {k: v.dtype.kind for k, v in empty.items()} == dtypes
        assert all(len(v) == 0 for v in empty.values())

    def test_take_of_nothing_is_empty(self) -> None:
        """An empty selection gives no cases, from a list or an array."""
        source = random({"x": uniform(0, 1)}, 10, seed=0)
        assert source.take([]) == []
        assert source.take(np.array([], dtype=np.int64)) == []

    @pytest.mark.parametrize(
        ("indices", "error"),
        [
            ([10], CaseIndexError),
            ([-11], CaseIndexError),
            (np.array([3, 10]), CaseIndexError),
            (np.array([-11]), CaseIndexError),
            (np.array([10], dtype=np.uint64), CaseIndexError),
            ([True], TypeError),
            ([1.0], TypeError),
            (np.array([1.0]), TypeError),
            (np.array([[1]]), TypeError),
        ],
    )
    def test_take_and_columns_refuse_bad_indices(
        self, indices: Any, error: type[Exception]
    ) -> None:
        """Out-of-range indices raise CaseIndexError, non-integers TypeError, as indexing does."""
        source = random({"x": uniform(0, 1)}, 10, seed=0)
        with pytest.raises(error):
            source.take(indices)
        with pytest.raises(error):
            source.columns(indices)

    def test_numpy_integer_indices_are_accepted(self) -> None:
        """Lists of NumPy integers and unsigned arrays index like Python ints."""
        source = random({"x": uniform(0, 1)}, 10, seed=0)
        expected = [source[3], source[9]]
        assert all_same(source.take([np.int64(3), np.uint8(9)]), expected)  # type: ignore[list-item]
        assert all_same(source.take(np.array([3, 9], dtype=np.uint16)), expected)


class TestIterationAndTheCollector:
    """Iteration builds each chunk of cases with the cyclic collector paused."""

    @staticmethod
    def _collections(run: Callable[[], object]) -> list[int]:
        runs: list[int] = []

        def record(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                runs.append(info["generation"])

        gc.collect()
        gc.callbacks.append(record)
        try:
            run()
        finally:
            gc.callbacks.remove(record)
        return runs

    @pytest.mark.parametrize("conditional", [False, True])
    def test_kept_cases_cost_one_young_collection_per_chunk(self, conditional: bool) -> None:
        """list(source) runs only young collections (one per chunk for a plain space)."""
        x = uniform(0, 1).when(col("n") > 2) if conditional else uniform(0, 1)
        source = random({"x": x, "n": randint(1, 8)}, 50_000, seed=0)
        kept: list[list[ParamCase]] = []
        runs = self._collections(lambda: kept.append(list(source)))
        chunks = len(list(random_module._growing_chunks(source.n_trials)))
        assert chunks < 20
        assert set(runs) == {0}
        # A conditional space also evaluates its conditions per chunk, outside the pause.
        assert len(runs) <= (2 if conditional else 1) * chunks
        assert kept[0][12_345] == source[12_345]

    def test_the_collector_is_on_between_cases(self) -> None:
        """A caller's code between two cases runs with the collector on, as it was."""
        source = random({"x": uniform(0, 1)}, 3 * random_module.CHUNK, seed=1)
        assert all(gc.isenabled() for _ in source)

    def test_a_disabled_collector_stays_disabled(self) -> None:
        """Iterating never turns on a collector its caller turned off, nor collects."""
        source = random({"x": uniform(0, 1)}, 20_000, seed=2)
        gc.disable()
        try:
            runs = self._collections(lambda: list(source))
            assert not gc.isenabled()
        finally:
            gc.enable()
        assert runs == []


class TestHugeSources:
    """2**64 trials: any index is as cheap as the first, and nothing is materialized."""

    SPACE: ClassVar[dict[str, Distribution]] = {
        "lr": loguniform(1e-5, 1e-1),
        "n": randint(1, 8),
        "opt": choice(["a", "b"]),
    }

    def test_indices_beyond_int64_work_on_every_path(self) -> None:
        """Indices up to 2**64 - 1 agree between indexing, take and columns."""
        source = random(self.SPACE, TWO64, seed=TWO64 - 1)
        picks = [2**63 + 5, TWO64 - 1, 0, 2**32 + 7]
        cases = [source[i] for i in picks]
        assert all_same(source.take(picks), cases)
        assert all_same(source.take(np.array(picks, dtype=np.uint64)), cases)
        assert same_case(source[-1], source[TWO64 - 1])
        assert source[2**63 + 5].tags == ("trial_9223372036854775813",)
        columns = source.columns(picks)
        for name, column in columns.items():
            assert list(map(encode_value, column.tolist())) == list(
                map(encode_value, [c.params[name] for c in cases])
            )

    def test_iteration_starts_at_once(self) -> None:
        """Iterating a 2**64-trial source yields its first cases without delay."""
        source = random(self.SPACE, TWO64, seed=0)
        assert all_same(list(itertools.islice(source, 300)), [source[i] for i in range(300)])
        first = next(source.dicts())
        assert first == source[0].params

    def test_whole_columns_of_a_huge_source_are_refused(self) -> None:
        """columns() of more trials than len() can count raises SizeOverflowError."""
        source = random(self.SPACE, TWO64, seed=0)
        with pytest.raises(SizeOverflowError):
            source.columns()

    def test_iteration_memory_does_not_grow_with_the_number_of_trials(self) -> None:
        """Streaming 8x more trials does not raise the peak memory in use."""
        peaks = []
        for n_trials in (20_000, 160_000):
            source = random({"x": uniform(0, 1), "y": randint(0, 9)}, n_trials, seed=0)
            tracemalloc.start()
            for _ in source.dicts():
                pass
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        assert peaks[1] < peaks[0] * 1.5 + 100_000
        assert peaks[1] < 8_000_000


class TestPureFunction:
    """A value depends only on (seed, name, trial, distribution)."""

    @given(space=SPACES, extra=st.sampled_from(REPRESENTATIVE), name=NAMES, seed=SEEDS)
    def test_adding_a_parameter_leaves_the_others_unchanged(
        self, space: dict[str, Distribution], extra: Distribution, name: str, seed: int
    ) -> None:
        """The columns of the original parameters are the same after adding one more."""
        smaller = dict(space)
        smaller.pop(name, None)
        if not smaller:
            return
        before = random(smaller, 30, seed).columns()
        after = random({**smaller, name: extra}, 30, seed).columns()
        for key, column in before.items():
            assert list(map(encode_value, column.tolist())) == list(
                map(encode_value, after[key].tolist())
            )

    @given(space=SPACES, seed=SEEDS, order=st.permutations(list(range(25))))
    def test_values_do_not_depend_on_access_order(
        self, space: dict[str, Distribution], seed: int, order: list[int]
    ) -> None:
        """Reading trials in any order, or after others, gives the same cases."""
        source = random(space, 25, seed)
        shuffled = {i: source[i] for i in order}
        fresh = random(space, 25, seed)
        assert all_same([shuffled[i] for i in range(25)], list(fresh))

    @given(space=SPACES, seed=SEEDS, n_trials=st.integers(1, 30))
    def test_values_do_not_depend_on_the_number_of_trials(
        self, space: dict[str, Distribution], seed: int, n_trials: int
    ) -> None:
        """A longer sweep starts with the same trials."""
        short = random(space, n_trials, seed)
        long = random(space, n_trials + 1000, seed)
        assert all_same(list(short), long.take(range(n_trials)))

    @given(space=SPACES, seed=SEEDS)
    def test_space_order_does_not_matter(self, space: dict[str, Distribution], seed: int) -> None:
        """Parameters given in another order give an equal source with the same cases."""
        reversed_space = dict(reversed(list(space.items())))
        a, b = random(space, 10, seed), random(reversed_space, 10, seed)
        assert a == b
        assert all_same(list(a), list(b))

    def test_copies_and_pickles_draw_the_same_values(self) -> None:
        """Pickled and copied sources are equal and give the same cases."""
        source = random({"x": uniform(0, 1), "c": choice(["a", "b"], weights=[1, 2])}, 20, seed=4)
        for twin in (
            pickle.loads(pickle.dumps(source)),  # noqa: S301 - our own bytes
            copy.copy(source),
            copy.deepcopy(source),
        ):
            assert twin == source
            assert hash(twin) == hash(source)
            assert all_same(list(twin), list(source))

    @pytest.mark.subprocess
    def test_values_do_not_depend_on_the_process_or_hash_seed(self) -> None:
        """Two fresh interpreters with different PYTHONHASHSEED print the same sweep as this one."""
        script = textwrap.dedent(
            """
            import json
            from metalab import choice, lognormal, loguniform, normal, randint, random, uniform
            space = {
                "lr": loguniform(1e-5, 1e-1),
                "opt": choice(["adam", "sgd", "rmsprop"], weights=[1, 2, 3]),
                "n": randint(-5, 5, step=5),
                "u": uniform(0, 1, step=0.1),
                "z": normal(0, 1),
                "w": lognormal(0, 1),
                "名前": uniform(-1, 1),
            }
            source = random(space, 2**64, seed=2**64 - 1)
            picks = [0, 1, 2**63 + 5, 2**64 - 1]
            print(json.dumps([[c.case_id, c.params] for c in source.take(picks)]))
            print(json.dumps(
                {k: [float(x).hex() if isinstance(x, float) else x for x in v.tolist()]
                 for k, v in source.columns(picks).items()}
            ))
            """
        )
        outputs = []
        for hash_seed in ("0", "4242"):
            env = {**os.environ, "PYTHONHASHSEED": hash_seed}
            done = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            outputs.append(done.stdout)
        assert outputs[0] == outputs[1]
        cases_json = json.loads(outputs[0].splitlines()[0])
        here = random(
            {
                "lr": loguniform(1e-5, 1e-1),
                "opt": choice(["adam", "sgd", "rmsprop"], weights=[1, 2, 3]),
                "n": randint(-5, 5, step=5),
                "u": uniform(0, 1, step=0.1),
                "z": normal(0, 1),
                "w": lognormal(0, 1),
                "名前": uniform(-1, 1),
            },
            TWO64,
            seed=TWO64 - 1,
        )
        expected = here.take([0, 1, 2**63 + 5, TWO64 - 1])
        assert [c[0] for c in cases_json] == [c.case_id for c in expected]


class TestValidation:
    """Sources refuse bad seeds, sizes and algorithms at construction."""

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"seed": -1}, r"seed must be an int in \[0, 2\*\*64\)"),
            ({"seed": TWO64}, r"seed must be an int in \[0, 2\*\*64\)"),
            ({"seed": True}, "seed must be an int"),
            ({"seed": 1.0}, "seed must be an int"),
            ({"n_trials": -1}, "n_trials must be >= 0"),
            ({"n_trials": TWO64 + 1}, r"n_trials must be <= 2\*\*64"),
            ({"algorithm": "mt19937"}, "algorithm must be one of"),
        ],
    )
    def test_bad_arguments_raise(self, kwargs: dict[str, Any], message: str) -> None:
        """Each bad argument is refused with a ParamError naming it."""
        arguments: dict[str, Any] = {"n_trials": 5, "seed": 0} | kwargs
        with pytest.raises(ParamError, match=message):
            random({"x": uniform(0, 1)}, **arguments)

    def test_the_current_algorithm_is_the_default_and_named(self) -> None:
        """Sources built in code use the current algorithm, whose name is recorded."""
        source = RandomSource({"x": uniform(0, 1)}, 3, seed=0)
        assert source.algorithm == random_module.ALGORITHM == "splitmix64-v1"
        assert repr(source) == "random({'x': uniform(0, 1)}, n_trials=3, seed=0)"
