"""The project's checks, one typed session each: ``nox`` runs tests, mypy, lint and docs."""

from __future__ import annotations

from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "mypy", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *groups: str, extras: str = "") -> None:
    """Install metalab (editable, with ``extras``) and the named dependency groups."""
    deps = [dep for group in groups for dep in nox.project.dependency_groups(PYPROJECT, group)]
    session.install("-e", f".[{extras}]" if extras else ".", *deps)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (doctests, docs examples and the SLURM test included)."""
    _install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def mypy(session: nox.Session) -> None:
    """Type-check the package, tests, benchmarks, this file and the typing contract."""
    _install(session, "typecheck")
    session.run("mypy", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff's linter, check formatting and the import layers (import-linter)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # import-linter reads the package's source; it need not be installed.
    session.run("lint-imports", env={"PYTHONPATH": str(Path(__file__).resolve().parent)})


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmark suite; it writes docs/performance.md (not part of the default run)."""
    _install(session, "bench")
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with mkdocs --strict."""
    _install(session, "docs")
    session.run("mkdocs", "build", "--strict", "--site-dir", "build/site")
