"""Every code example in the documentation and the README runs, and says what it shows.

Each page runs in its own namespace and its own working directory (holding a copy of
the repository's ``examples/``), its blocks in order:

- a fenced ``python`` block runs as a script, or, when it holds ``>>>`` prompts, as a
  doctest whose expected output must match;
- a fenced ``console`` block holds ``$ metalab ...`` commands, each followed by the
  output it must print (``...`` stands for any text);
- a block right after ``<!-- skip: needs a cluster -->`` is left out: only examples
  that need a cluster may opt out.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from unittest import mock

import attrs
import pytest

import metalab
from metalab._sources import rng as _rng
from metalab.cli import main
from metalab.manifest import SOURCE_TYPES, converter, loads, to_manifest
from metalab.params.distributions import DISTRIBUTIONS, Distribution
from metalab.params.random import ALGORITHM, LEGACY_ALGORITHM

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT: Final = Path(metalab.__file__).resolve().parent.parent
PAGES: Final = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
FLAGS: Final = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
CONSOLE_COLUMNS: Final = "100"
"""The terminal width the console examples are written for."""

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_SKIP = re.compile(r"^\s*<!--\s*skip(?::\s*(?P<reason>.*?))?\s*-->\s*$")

Kind = Literal["python", "doctest", "console", "other"]


@attrs.frozen
class Block:
    """One fenced code block of a page."""

    kind: Kind
    code: str
    line: int
    """The line number of the opening fence, from 1."""
    skip: str | None = None
    """The reason given by a skip marker before the block, if any."""


def _kind(info: str, code: str) -> Kind:
    language = info.split(maxsplit=1)[0].lower() if info.split() else ""
    if language in {"python", "py", "pycon"}:
        prompts = any(line.lstrip().startswith(">>>") for line in code.splitlines())
        return "doctest" if prompts else "python"
    if language == "console":
        return "console"
    return "other"


def extract(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, dedented to their fence."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        previous = next((line for line in reversed(lines[:i]) if line.strip()), "")
        skip = _SKIP.match(previous)
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence))
            and not lines[j].strip().strip(fence[0])
        ):
            body.append(lines[j].removeprefix(indent))
            j += 1
        code = "\n".join(body) + "\n"
        reason = (skip["reason"] or "") if skip else None
        blocks.append(Block(_kind(info, code), code, i + 1, reason))
        i = j + 1
    return blocks


def run_python(block: Block, namespace: dict[str, Any], name: str) -> None:
    """Run a script block in the page's namespace."""
    exec(compile(block.code, f"{name}:{block.line}", "exec"), namespace)  # noqa: S102


def run_doctest(block: Block, namespace: dict[str, Any], name: str) -> None:
    """Run a doctest block in the page's namespace; its outputs must match."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, namespace, name, name, block.line)
    test.globs = namespace  # the page's own namespace, not the copy doctest makes
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=report.write, clear_globs=False)
    assert result.failed == 0, f"{name}:{block.line}:\n{report.getvalue()}"


def console_steps(code: str) -> Iterator[tuple[str, str]]:
    """The ``$ command`` lines of a console block, each with the output that follows it."""
    command: str | None = None
    output: list[str] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(output)
            command, output = line[2:], []
        elif command is not None:
            output.append(line)
    if command is not None:
        yield command, "\n".join(output)


def run_console(block: Block, name: str) -> None:
    """Run each ``metalab`` command of a console block and compare what it prints."""
    checker = doctest.OutputChecker()
    environ = {k: v for k, v in os.environ.items() if k != "SLURM_ARRAY_TASK_ID"}
    environ["COLUMNS"] = CONSOLE_COLUMNS
    for command, expected in console_steps(block.code):
        argv = shlex.split(command)
        assert argv[0] == "metalab", f"{name}:{block.line}: only metalab commands run: {command}"
        out, err = io.StringIO(), io.StringIO()
        with (
            mock.patch.dict(os.environ, environ, clear=True),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            main(argv[1:])
        got = out.getvalue() + err.getvalue()
        want = expected.strip() + "\n" if expected.strip() else ""
        assert checker.check_output(want, got, FLAGS), (
            f"{name}:{block.line}: `{command}` printed:\n{got}\nbut the page says:\n{want}"
        )


def run_page(page: Path) -> None:
    """Run every block of a page, in order, in one namespace: a script's ``__main__``."""
    name = str(page.relative_to(ROOT))
    # The page runs as a script does, as the module __main__ (registered: get_type_hints
    # and dataclasses look classes' annotations up through sys.modules[cls.__module__]).
    # So its `if __name__ == "__main__":` guards run, and the functions it defines reach
    # forked worker processes by name, as a script's do.
    module = types.ModuleType("__main__")
    namespace: dict[str, Any] = module.__dict__
    # Only this one entry is swapped and restored: mock.patch.dict would also drop every
    # module the page imported (pandas, ...), and a second import of those next to the
    # objects still held from the first made later tests fail far from here.
    main_module = sys.modules["__main__"]
    sys.modules["__main__"] = module
    try:
        _run_blocks(page, name, namespace)
    finally:
        sys.modules["__main__"] = main_module


def _run_blocks(page: Path, name: str, namespace: dict[str, Any]) -> None:
    for block in extract(page.read_text(encoding="utf-8")):
        if block.skip is not None:
            assert "cluster" in block.skip, (
                f"{name}:{block.line}: only examples that need a cluster may be skipped, "
                f"with <!-- skip: needs a cluster -->"
            )
            continue
        if block.kind == "python":
            run_python(block, namespace, name)
        elif block.kind == "doctest":
            run_doctest(block, namespace, name)
        elif block.kind == "console":
            run_console(block, name)


@pytest.fixture
def page_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with the examples, restoring sys.path and sys.modules after."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    path, modules = list(sys.path), set(sys.modules)
    yield tmp_path
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if str(getattr(sys.modules[name], "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


class TestPages:
    """Every page of the documentation runs as written."""

    @pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
    def test_examples_run(self, page: Path, page_directory: Path) -> None:
        """The page's Python, doctest and console examples run and print what they say."""
        del page_directory
        run_page(page)

    def test_every_page_is_in_the_site(self) -> None:
        """Every page of docs/ appears in the navigation of mkdocs.yml."""
        config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
        for page in (ROOT / "docs").rglob("*.md"):
            assert str(page.relative_to(ROOT / "docs")) in config

    def test_the_built_site_opens_from_disk(self) -> None:
        """mkdocs.yml builds page.html files, inlines search and fetches nothing online."""
        config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
        # Read as text: mkdocs.yml holds !ENV-style tags a plain YAML loader refuses.
        assert re.search(r"^use_directory_urls: false$", config, re.MULTILINE)
        assert re.search(r"^  - offline$", config, re.MULTILINE)
        assert re.search(r"^  font: false$", config, re.MULTILINE)
        shim = re.search(r"^  polyfills:\n    - (?P<path>\S+)$", config, re.MULTILINE)
        assert shim is not None
        assert "iframe-worker" in shim["path"]
        assert (ROOT / "docs" / shim["path"]).is_file()

    def test_no_text_installs_metalab_from_a_package_index(self) -> None:
        """Pages, examples and the package's messages install from a checkout, never by name."""
        by_name = re.compile(r"pip install\s+(?:-\S+\s+)*['\"]?metalab\b")
        texts = [*PAGES, *(ROOT / "metalab").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
        offenders = [
            f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for path in texts
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if by_name.search(line)
        ]
        assert offenders == []

    def test_the_readme_gives_the_checks_command_that_ci_runs(self) -> None:
        """.ci/run runs exactly the README's second set-up command."""
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        bash = next(b for b in extract(readme) if "nox" in b.code)
        commands = [line for line in bash.code.splitlines() if line and not line.startswith("#")]
        assert len(commands) == 2
        assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


PAGE = """\
Text.

```python
x = 1
```

<!-- skip: needs a cluster -->

```python
sbatch()
```

- a list item

  ```python title="example.py"
  >>> x + 1
  2
  ```

````console
$ metalab count s.json
3
$ metalab count t.json
```
````

```bash
echo hi
```
"""


class TestExtraction:
    """The block extractor finds what the page holds."""

    def test_kinds_lines_indentation_and_skips(self) -> None:
        """Blocks get their kind, fence line, dedented code and skip reason."""
        blocks = extract(PAGE)
        assert [(b.kind, b.line, b.skip) for b in blocks] == [
            ("python", 3, None),
            ("python", 9, "needs a cluster"),
            ("doctest", 15, None),
            ("console", 20, None),
            ("other", 27, None),
        ]
        assert blocks[2].code == ">>> x + 1\n2\n"
        assert blocks[3].code == "$ metalab count s.json\n3\n$ metalab count t.json\n```\n"

    def test_console_steps(self) -> None:
        """Each command is paired with the lines up to the next command."""
        steps = list(console_steps("$ metalab a\nout 1\nout 2\n$ metalab b\n"))
        assert steps == [("metalab a", "out 1\nout 2"), ("metalab b", "")]

    def test_a_wrong_doctest_fails(self) -> None:
        """A doctest block whose output differs fails the page."""
        with pytest.raises(AssertionError, match="Expected"):
            run_doctest(Block("doctest", ">>> 1 + 1\n3\n", 1), {}, "page.md")

    def test_a_wrong_console_output_fails(self, page_directory: Path) -> None:
        """A console block whose output differs fails the page."""
        del page_directory
        block = Block("console", "$ metalab count examples/quickstart.py:sweep\n20\n", 1)
        with pytest.raises(AssertionError, match="printed"):
            run_console(block, "page.md")

    def test_a_skip_needs_a_cluster(self, tmp_path: Path) -> None:
        """A skip marker without a cluster reason fails the page."""
        page = tmp_path / "page.md"
        page.write_text("<!-- skip: slow -->\n```python\nx = 1\n```\n", encoding="utf-8")
        with (
            mock.patch(f"{__name__}.ROOT", tmp_path),
            pytest.raises(AssertionError, match="only examples that need a cluster"),
        ):
            run_page(page)


def _griffe_extension() -> types.ModuleType:
    """The Griffe extension of the docs build, loaded from its path as mkdocstrings does."""
    spec = importlib.util.spec_from_file_location(
        "griffe_doctests", ROOT / "docs" / "griffe_doctests.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestDoctestFences:
    """The reference renders docstring examples as code, not as Markdown quotes."""

    def test_a_doctest_block_is_fenced(self) -> None:
        """A `>>>` block up to the next blank line is wrapped in a pycon fence."""
        pytest.importorskip("griffe")
        fence = _griffe_extension().fence_doctests
        text = "Sums.\n\n>>> [1][0]\n1\n>>> 2\n2\n\nAfter [x][y]."
        assert fence(text).splitlines() == [
            "Sums.",
            "",
            "```pycon",
            ">>> [1][0]",
            "1",
            ">>> 2",
            "2",
            "```",
            "",
            "After [x][y].",
        ]

    def test_fenced_and_indented_examples_are_left_alone(self) -> None:
        """Examples already in a fence, or indented in a section, are not wrapped again."""
        pytest.importorskip("griffe")
        fence = _griffe_extension().fence_doctests
        text = "```python\n>>> 1\n1\n```\n\nArgs:\n    x: see\n    >>> x\n"
        assert fence(text) == text.rstrip("\n")


# -- pages whose text must agree with the code, beyond running their examples --------
MANIFEST_PAGE: Final = ROOT / "docs" / "manifest.md"
REPRODUCIBILITY_PAGE: Final = ROOT / "docs" / "reproducibility.md"
DISTRIBUTION: Any = Distribution  # a Protocol, which mypy refuses as a type argument
_DISTRIBUTION_TAGS = {cls.manifest_type for cls in DISTRIBUTIONS}


def _json_blocks() -> list[Any]:
    text = MANIFEST_PAGE.read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]


BLOCKS = _json_blocks()


def _tags(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["type"]} if isinstance(node.get("type"), str) else set()
        return own.union(*(_tags(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_tags(v) for v in node))
    return set()


class TestManifestPage:
    """docs/manifest.md cannot go stale."""

    def test_every_type_has_a_json_example(self) -> None:
        """Each source type, each distribution and the range axis appear in a JSON example."""
        shown = set().union(*(_tags(block) for block in BLOCKS))
        expected = {cls.manifest_type for cls in SOURCE_TYPES} | _DISTRIBUTION_TAGS | {"range"}
        assert expected <= shown

    @pytest.mark.parametrize("block", BLOCKS, ids=[str(i) for i in range(len(BLOCKS))])
    def test_json_examples_are_what_metalab_writes(self, block: dict[str, Any]) -> None:
        """Each example loads; one with a format version is exactly what metalab writes."""
        if block["type"] in _DISTRIBUTION_TAGS:
            dist = converter.structure(block, DISTRIBUTION)
            assert converter.unstructure(dist, Distribution) == block
            return
        source = loads(json.dumps(block))
        if "format_version" in block:
            assert to_manifest(source) == block
        else:
            assert to_manifest(source)["format_version"] == "1.0"


class TestReproducibilityPage:
    """docs/reproducibility.md cannot go stale."""

    def test_page_states_the_kernel_constants(self) -> None:
        """The mixer's constants, the golden gamma and the name-hash key are written out."""
        text = REPRODUCIBILITY_PAGE.read_text(encoding="utf-8")
        for constant in (_rng.M1, _rng.M2, _rng.GOLDEN):
            assert f"0x{constant:016X}" in text
        assert "z ^= z >> 30" in text
        assert "z ^= z >> 27" in text
        assert "z ^= z >> 31" in text
        assert 'b"metalab.name"' in text

    def test_page_names_both_algorithms(self) -> None:
        """Both algorithm names and the golden file appear on the page."""
        text = REPRODUCIBILITY_PAGE.read_text(encoding="utf-8")
        assert f"`{ALGORITHM}`" in text
        assert f"`{LEGACY_ALGORITHM}`" in text
        assert f"tests/golden/{ALGORITHM}.json" in text
