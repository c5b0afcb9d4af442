"""A real single-node SLURM cluster for the tests, one run at a time on this machine.

`held_cluster` starts the cluster with ``ci/slurm/start.sh`` and always stops it with
``ci/slurm/stop.sh``; ``tests/conftest.py`` makes fixtures of it, one per configuration.
Without root or the Debian packages the tests that use it skip, except when
``METALAB_REQUIRE_SLURM=1`` (CI sets it), where they fail instead. Deselect them with
``pytest -m "not slurm"``.

The cluster uses what a machine has once: SLURM's ports, munged and the state
directory. So `held_cluster` holds an exclusive lock on ``/tmp/metalab-slurm.lock`` from
before start.sh until after stop.sh, and a second checkout running its checks at the
same time waits for it instead of stopping or deleting the first one's cluster.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

SCRIPTS: Final = Path(__file__).resolve().parents[1] / "ci" / "slurm"
"""The scripts that start and stop the cluster."""
UNAVAILABLE: Final = 3
"""The exit status of start.sh when this machine cannot host a cluster."""
REQUIRE: Final = "METALAB_REQUIRE_SLURM"
START_TIMEOUT: Final = 900.0
"""Seconds for start.sh, apt-get on a fresh machine included (it takes ~30 s)."""
STOP_TIMEOUT: Final = 120.0
LOCK: Final = Path("/tmp/metalab-slurm.lock")  # noqa: S108 - see below
"""One lock per machine, wherever the checkout and its state directory are: a fixed
path is the point, so that every checkout finds the same lock (opened O_NOFOLLOW)."""
LOCK_TIMEOUT: Final = 3600.0
"""Seconds to wait for another run's cluster to stop: a loaded machine takes minutes."""


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when ``METALAB_REQUIRE_SLURM=1``: SLURM cannot run here."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but SLURM cannot run here: {reason}", pytrace=False)
    pytest.skip(f"SLURM cannot run here: {reason}")


def run_command(
    args: Sequence[str], env: Mapping[str, str], timeout: float, what: str
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; the test fails if it outlasts ``timeout``."""
    try:
        return subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} did not finish within {timeout:.0f} s: {shlex.join(args)}")


def command_failed(what: str, result: subprocess.CompletedProcess[str]) -> NoReturn:
    """Fail the test with the command's status and output."""
    pytest.fail(
        f"{what} failed (exit {result.returncode}): {shlex.join(result.args)}\n"
        f"{result.stdout}{result.stderr}",
        pytrace=False,
    )


@contextlib.contextmanager
def host_lock(path: Path, timeout: float, poll: float = 1.0) -> Iterator[None]:
    """Hold an exclusive flock on ``path``, waiting up to ``timeout`` seconds for it.

    The kernel releases a flock when its holder exits, however it exits, so a crashed
    run never leaves the lock behind. The holder writes its PID and checkout into the
    file, for the message of a run that gives up waiting.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = path.read_text(encoding="utf-8").strip() or "an unknown process"
                    pytest.fail(
                        f"another run has held the SLURM cluster lock {path} for over "
                        f"{timeout:.0f} s: {holder}",
                        pytrace=False,
                    )
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"PID {os.getpid()}, checkout {SCRIPTS.parents[1]}\n".encode())
        yield
    finally:
        os.close(fd)


def held_cluster(max_array_size: int | None) -> Iterator[dict[str, str]]:
    """A running single-node cluster, held for this run alone; the environment reaching it."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        unavailable("starting SLURM daemons needs root on Linux")
    if shutil.which("bash") is None:
        unavailable("bash is not installed")
    with host_lock(LOCK, LOCK_TIMEOUT):
        yield from _started_cluster(max_array_size)


def _started_cluster(max_array_size: int | None) -> Iterator[dict[str, str]]:
    env = {**os.environ, "METALAB_SLURM_APT_TIMEOUT": "300"}
    env.pop("METALAB_SLURM_MAX_ARRAY_SIZE", None)
    if max_array_size is not None:
        env["METALAB_SLURM_MAX_ARRAY_SIZE"] = str(max_array_size)
    try:
        started = run_command([str(SCRIPTS / "start.sh")], env, START_TIMEOUT, "ci/slurm/start.sh")
        if started.returncode == UNAVAILABLE:
            unavailable(started.stderr.strip().splitlines()[-1])
        if started.returncode != 0:
            command_failed("starting the cluster", started)
        prefix = "export SLURM_CONF="
        confs = [line for line in started.stdout.splitlines() if line.startswith(prefix)]
        assert confs, f"start.sh printed no {prefix}...: {started.stdout!r}"
        env["SLURM_CONF"] = confs[-1].removeprefix(prefix)
        yield env
    finally:
        stopped = run_command([str(SCRIPTS / "stop.sh")], env, STOP_TIMEOUT, "ci/slurm/stop.sh")
        if stopped.returncode != 0:
            command_failed("stopping the cluster", stopped)
