"""Hydra: overrides read and written with Hydra's own parser, and the metalab sweeper plugin."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from metalab import GridSource, ProductSource, grid, random, uniform
from metalab._core.case import encode_value
from metalab.errors import MissingExtraError, ParamError, UnsupportedOperationError
from metalab.interop import from_hydra, hydra_override, to_hydra
from metalab.manifest import dumps

if TYPE_CHECKING:
    from pathlib import Path

    from metalab import ParamSource

APP = """\
import json
import os

import hydra
from omegaconf import OmegaConf


@hydra.main(version_base=None, config_path=".", config_name="config")
def main(cfg):
    with open(os.environ["JOBS_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps(OmegaConf.to_container(cfg, resolve=True)) + "\\n")


main()
"""

CONFIG = """\
lr: 0.0
seed: 0
model:
  depth: 1
  name: base
"""


def _run_app(tmp_path: Path, *overrides: str, check: bool = True) -> tuple[list[Any], str]:
    """Run the Hydra app as a multirun with ``overrides``; the configs its jobs received."""
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "jobs.jsonl"
    out.unlink(missing_ok=True)
    command = [
        sys.executable,
        str(tmp_path / "app.py"),
        "-m",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        *overrides,
    ]
    env = {"JOBS_OUT": str(out), "PATH": "/usr/bin:/bin", "HYDRA_FULL_ERROR": "1"}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    if check:
        assert done.returncode == 0, done.stderr
    jobs = (
        [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        if out.exists()
        else []
    )
    return jobs, done.stderr


def _parse(lines: list[str]) -> list[Any]:
    return OverridesParser.create().parse_overrides(lines)


class TestFromHydra:
    """Basic-sweeper overrides become the grid of the cases Hydra launches."""

    def test_the_issue_examples(self) -> None:
        """Comma lists, choice(), range(), +key and dotted keys, each value as a job parses it."""
        sweep = from_hydra(
            ["lr=0.1,0.01", "model=choice(a,b)", "seed=range(0,5)", "+extra=1,2", "db.port=5432"]
        )
        assert sweep.size == 2 * 2 * 5 * 2
        first = sweep[0].params
        assert first == {"db.port": 5432, "extra": 1, "lr": 0.1, "model": "a", "seed": 0}
        assert [c.params["extra"] for c in sweep][:4] == [1, 2, 1, 2]
        assert [c.params["seed"] for c in sweep][:6:2] == [0, 1, 2]

    def test_order_is_the_basic_sweepers(self) -> None:
        """The product of the overrides in the order given, the last varying fastest."""
        sweep = from_hydra(["b=1,2", "a=x,y"])
        assert isinstance(sweep, ProductSource)
        assert [(c.params["b"], c.params["a"]) for c in sweep] == [
            (1, "x"),
            (1, "y"),
            (2, "x"),
            (2, "y"),
        ]
        assert isinstance(from_hydra(["a=x,y", "b=1,2"]), GridSource)

    def test_a_key_given_twice_keeps_its_place_and_its_last_values(self) -> None:
        """As Hydra's basic sweeper does: the later override replaces the values in place."""
        sweep = from_hydra(["b=1,2", "a=x", "b=3"])
        assert [c.params for c in sweep] == [{"a": "x", "b": 3}]

    @pytest.mark.parametrize(
        ("line", "values"),
        [
            ("x=1,'1',true,null,abc", [1, "1", True, None, "abc"]),
            ("x=1.5,1e-3,-0.0", [1.5, 0.001, -0.0]),
            ("x=[1,2],{a:1}", [(1, 2), {"a": 1}]),
            ("x=range(0,1,0.25)", [0.0, 0.25, 0.5, 0.75]),
            ("x=range(10,0,-3)", [10, 7, 4, 1]),
            ("x=sort(3,1,2)", [1, 2, 3]),
            ("x=tag(log,choice(1,2))", [1, 2]),
            ("x='a,b'", ["a,b"]),
        ],
    )
    def test_values_are_what_the_job_parses(self, line: str, values: list[Any]) -> None:
        """Every value has the type Hydra gives the job: quoted text stays text, 1 is an int."""
        got = [c.params["x"] for c in from_hydra([line])]
        assert [encode_value(v) for v in got] == [encode_value(v) for v in values]

    def test_an_int_range_stays_lazy(self) -> None:
        """range(0, 10**12) is kept as a range, never listed."""
        sweep = from_hydra(["seed=range(0,1000000000000)"])
        assert isinstance(sweep, GridSource)
        assert sweep.spec["seed"] == range(10**12)

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("x=interval(0,1)", "interval"),
            ("x=shuffle(1,2)", "shuffle"),
            ("db=glob(*)", "glob"),
            ("~x", "deletes a key"),
            ("hydra.job.chdir=true", "configures Hydra itself"),
            ("db@backup=mysql", "package"),
            ("x=(", "is not a Hydra override"),
        ],
    )
    def test_what_a_fixed_grid_cannot_hold_is_refused(self, line: str, message: str) -> None:
        """Each refusal is a ParamError naming the override."""
        with pytest.raises(ParamError, match=message):
            from_hydra([line])

    def test_bad_arguments_are_refused(self) -> None:
        """A bare string, a non-str override and no overrides at all are ParamErrors."""
        with pytest.raises(ParamError, match="a list of override strings"):
            from_hydra("lr=0.1,0.2")
        with pytest.raises(ParamError, match="must be a str"):
            from_hydra([3])  # type: ignore[list-item]
        with pytest.raises(ParamError, match="at least one override"):
            from_hydra([])

    def test_a_group_and_a_field_inside_it_clash(self) -> None:
        """model=a,b with model.lr=... is a leaf and a branch of one key: refused, as everywhere."""
        with pytest.raises(ParamError, match=r"is also the branch of the dotted key 'model\.lr'"):
            from_hydra(["model=a,b", "model.lr=0.1"])

    def test_without_hydra_the_extra_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With hydra-core missing, the error names metalab[hydra]."""
        from metalab.interop import _hydra

        _hydra._parser.cache_clear()
        monkeypatch.setitem(sys.modules, "hydra.core.override_parser.overrides_parser", None)
        try:
            with pytest.raises(MissingExtraError, match=r"pip install '\.\[hydra\]'"):
                from_hydra(["x=1"])
        finally:
            _hydra._parser.cache_clear()


class TestToHydra:
    """to_hydra writes overrides Hydra's parser reads back to the same grid."""

    GRIDS: tuple[GridSource, ...] = (
        grid(lr=[0.1, 1e-05, 2.0], opt=["adam", "1", "a,b", "it's", "true"], seed=range(3)),
        grid(
            {
                "model.depth": range(2, 10, 3),
                "b": [True, None, -0.0],
                "t": [(1, "x")],
                "m": [{"k": 1}],
            }
        ),
        grid(n=[10**30, -5]),
    )

    @pytest.mark.parametrize("source", GRIDS, ids=repr)
    def test_round_trip_through_hydras_parser(self, source: GridSource) -> None:
        """from_hydra(to_hydra(g)) == g: same keys, same values of the same types, same order."""
        overrides = to_hydra(source)
        assert [o.key_or_group for o in _parse(overrides)] == list(source.keys)
        assert from_hydra(overrides) == source

    def test_the_output_is_one_override_per_key_in_the_grids_order(self) -> None:
        """Keys sorted (metalab's order is then Hydra's), ranges as range(...), strings quoted."""
        assert to_hydra(grid(seed=range(3), lr=[0.1, 0.01], opt=["adam"])) == [
            "lr=0.1,0.01",
            "opt='adam'",
            "seed=range(0,3,1)",
        ]

    def test_a_product_of_grids_keeps_its_order(self) -> None:
        """A product of grids is written part by part: Hydra crosses it in the same order."""
        product = grid(b=[1, 2], a=["x"]) * grid(c=range(3)) * grid(aa=[True, False])
        overrides = to_hydra(product)
        assert [o.key_or_group for o in _parse(overrides)] == ["a", "b", "c", "aa"]
        assert list(from_hydra(overrides)) == list(product)

    def test_add_prefixes_keys_the_config_lacks(self) -> None:
        """Keys named in add get Hydra's +; an unknown one is refused."""
        assert to_hydra(grid(extra=[1, 2], lr=[0.1]), add=["extra"]) == ["+extra=1,2", "lr=0.1"]
        with pytest.raises(UnsupportedOperationError, match="not a key of the grid"):
            to_hydra(grid(lr=[0.1]), add=["lr2"])

    @pytest.mark.parametrize(
        ("source", "message"),
        [
            (random({"x": uniform(0, 1)}, 3, seed=0), "to_hydra writes grids"),
            (grid({"x y": [1]}), "cannot be written as a Hydra override"),
            (grid(m=[{"not an id": 1}]), "cannot be written in a Hydra override"),
        ],
    )
    def test_what_hydra_cannot_spell_is_refused(self, source: ParamSource, message: str) -> None:
        """Other sources, bad keys and unwritable mapping keys are UnsupportedOperationErrors."""
        with pytest.raises(UnsupportedOperationError, match=message):
            to_hydra(source)  # type: ignore[arg-type]

    def test_hydra_override_writes_one_value(self) -> None:
        """hydra_override quotes strings and keeps floats exact."""
        assert hydra_override("a", "x y") == "a='x y'"
        assert hydra_override("a", 0.1 + 0.2, prefix="+") == "+a=0.30000000000000004"
        assert _parse([hydra_override("a", 0.1 + 0.2)])[0].value() == 0.1 + 0.2


@pytest.mark.subprocess
class TestWithARealHydraApp:
    """A real Hydra app, run as a multirun in a subprocess, receives exactly the sweep's cases."""

    def test_the_basic_sweeper_runs_to_hydras_output_as_the_grid(self, tmp_path: Path) -> None:
        """Hydra -m with to_hydra(g) launches g's cases, in g's order, with g's values."""
        g = grid({"lr": [0.1, 1e-05], "model.name": ["a,b", "true"], "seed": range(2)})
        jobs, _ = _run_app(tmp_path, *to_hydra(g))
        assert [(j["lr"], j["model"]["name"], j["seed"]) for j in jobs] == [
            (c.params["lr"], c.params["model.name"], c.params["seed"]) for c in g
        ]

    def test_the_metalab_sweeper_runs_a_manifest(self, tmp_path: Path) -> None:
        """A manifest: one job per case, nested keys set as config paths, new keys added."""
        sweep = grid({"model.depth": [2, 3], "lr": [0.5]}) + grid(
            {"seed": [7], "extra.flag": [True]}
        )
        manifest = tmp_path / "sweep.json"
        manifest.write_text(dumps(sweep), encoding="utf-8")
        jobs, _ = _run_app(tmp_path, "hydra/sweeper=metalab", f"hydra.sweeper.sweep={manifest}")
        assert len(jobs) == sweep.size == 3
        assert [(j["lr"], j["model"]["depth"]) for j in jobs[:2]] == [(0.5, 2), (0.5, 3)]
        assert jobs[2]["seed"] == 7
        assert jobs[2]["extra"] == {"flag": True}
        assert jobs[0]["model"]["name"] == "base"

    def test_the_metalab_sweeper_runs_a_sweep_defined_in_python(self, tmp_path: Path) -> None:
        """path.py:NAME works as in the metalab command; plain overrides apply to every job."""
        code = textwrap.dedent(
            """\
            from metalab import grid
            sweep = grid({"lr": [0.1, 0.2], "model.name": ["x", "1"]})
            """
        )
        (tmp_path / "sweeps.py").write_text(code, encoding="utf-8")
        jobs, _ = _run_app(
            tmp_path,
            "hydra/sweeper=metalab",
            f"hydra.sweeper.sweep={tmp_path / 'sweeps.py'}:sweep",
            "seed=5",
        )
        assert [(j["lr"], j["model"]["name"], j["seed"]) for j in jobs] == [
            (0.1, "x", 5),
            (0.1, "1", 5),
            (0.2, "x", 5),
            (0.2, "1", 5),
        ]

    def test_batches_keep_the_order(self, tmp_path: Path) -> None:
        """max_batch_size splits the launch; the jobs still run every case once, in order."""
        manifest = tmp_path / "sweep.json"
        manifest.write_text(dumps(grid(seed=range(5))), encoding="utf-8")
        jobs, _ = _run_app(
            tmp_path,
            "hydra/sweeper=metalab",
            f"hydra.sweeper.sweep={manifest}",
            "hydra.sweeper.max_batch_size=2",
        )
        assert [j["seed"] for j in jobs] == [0, 1, 2, 3, 4]

    def test_a_sweep_on_the_command_line_is_refused(self, tmp_path: Path) -> None:
        """The metalab sweep is the whole sweep: seed=1,2 next to it fails before any job runs."""
        manifest = tmp_path / "sweep.json"
        manifest.write_text(dumps(grid(lr=[0.1])), encoding="utf-8")
        jobs, stderr = _run_app(
            tmp_path,
            "hydra/sweeper=metalab",
            f"hydra.sweeper.sweep={manifest}",
            "seed=1,2",
            check=False,
        )
        assert jobs == []
        assert "put the sweep 'seed=1,2' into the metalab sweep instead" in stderr

    def test_a_missing_sweep_is_a_clear_error(self, tmp_path: Path) -> None:
        """A sweep file that does not exist fails with metalab's message, before any job runs."""
        jobs, stderr = _run_app(
            tmp_path,
            "hydra/sweeper=metalab",
            f"hydra.sweeper.sweep={tmp_path / 'nope.json'}",
            check=False,
        )
        assert jobs == []
        assert "no such file" in stderr


class TestLazyImports:
    """metalab.interop loads hydra-core only when a Hydra converter is used."""

    def test_importing_the_converters_loads_no_hydra(self) -> None:
        """Import metalab.interop leaves hydra unimported; from_hydra imports it."""
        code = (
            "import sys\n"
            "import metalab.interop\n"
            "assert 'hydra' not in sys.modules\n"
            "assert {'from_hydra', 'to_hydra', 'hydra_override'} <= set(dir(metalab.interop))\n"
            "metalab.interop.from_hydra(['x=1,2'])\n"
            "assert 'hydra' in sys.modules\n"
            "print('ok')\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "ok"

    def test_an_unknown_name_is_an_attribute_error(self) -> None:
        """A misspelt converter is an AttributeError naming it, not a lazy import of nothing."""
        import metalab.interop

        with pytest.raises(AttributeError, match="has no attribute 'from_hydr'"):
            metalab.interop.from_hydr  # type: ignore[attr-defined]  # noqa: B018
