"""The ``metalab`` commands, built with click; `metalab.cli.main` runs them."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final, ParamSpec

import click

import metalab
from metalab._cli.load import SWEEP_FORMS, CliError, load_sweep, user_code_error
from metalab._core.intstr import counted
from metalab._io.jobarray import max_array_size

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from rich.console import Console

    from metalab._core.case import ParamCase
    from metalab._sources.base import ParamSource

__all__ = ["FORMATS", "Interrupted", "app"]

PROGRESS_MIN_CASES: Final = 10_000
"""``metalab list`` shows a progress bar (on a terminal) from this many cases on."""
_PROGRESS_STEP: Final = 1024
FORMATS: Final = ("jsonl", "csv", "table")
"""The formats of ``metalab list``; the first is the default."""
TABLE_MAX_ROWS: Final = 10_000
"""The most cases a table shows: it is laid out whole, and is for reading."""
_EPILOG: Final = f"SWEEP is {SWEEP_FORMS}."
MAX_INDEX_DIGITS: Final = 4300
"""The most digits an index may have: Python's default limit on ``int(str)``."""
_NEGATIVE_INT: Final = re.compile(r"-[0-9]+")


class Interrupted(Exception):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """Ctrl-C during a command; click would turn it into an abort after a blank line."""


class _Group(click.Group):
    """The ``metalab`` group: help for no arguments, Ctrl-C through as `Interrupted`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            # The help on standard output, with the exit status of a usage error.
            click.echo(ctx.get_help())
            ctx.exit(click.UsageError.exit_code)
        return super().parse_args(ctx, args)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            # Older clicks (before 8.4) name no likely command for a misspelt one.
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            ctx.fail(
                f"No such command {name!r}." + (f" Did you mean {close[0]!r}?" if close else "")
            )
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted from None


def _abridged(text: str) -> str:
    """``text`` short enough for one line of an error message."""
    if len(text) <= 40:  # a line's worth
        return repr(text)
    return f"{text[:24]!r}... ({len(text)} characters)"


def parse_index(text: str, *, signed: bool = True) -> int:
    """The index that ``text`` writes, ``-1`` for the last case if ``signed``.

    Raises:
        ValueError: ``text`` is not an integer in ASCII digits (of at most
            `MAX_INDEX_DIGITS`), with a message that says so.

    >>> parse_index(" -12 "), parse_index("7", signed=False)
    (-12, 7)
    """
    stripped = text.strip()
    digits = stripped[1:] if signed and stripped[:1] in ("-", "+") else stripped
    if not (digits.isascii() and digits.isdigit()):
        kind = "an integer" if signed else "a non-negative integer"
        msg = f"{_abridged(text)} is not {kind}"
        raise ValueError(msg)
    if len(digits) > MAX_INDEX_DIGITS:
        # int() refuses such strings (CVE-2020-10735); no sweep a machine can list is that
        # large, so this is a typo or garbage rather than an index out of range.
        msg = f"an index has at most {MAX_INDEX_DIGITS:,} digits, got one of {len(digits):,}"
        raise ValueError(msg)
    return int(stripped)


class _Index(click.types.IntParamType):
    """An index on the command line: an int where negative ones count back from the end."""

    name = "integer"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_index(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


INDEX: Final = _Index()
"""The click type of an index argument or option."""


class _IndexCommand(click.Command):
    """A command with an index argument: ``-1`` on its command line is an index, not an option.

    Click reads ``-1`` as an unknown short option (and ``-22`` as ``-2`` and ``2``); an
    argument after ``--`` is never an option, so the arguments are moved after one.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args:
            args = _negatives_as_arguments(self.get_params(ctx), args)
        return super().parse_args(ctx, args)


def _negatives_as_arguments(params: list[click.Parameter], args: list[str]) -> list[str]:
    """``args`` with their arguments after ``--`` if one of them is a negative integer."""
    takes_value = {
        name
        for param in params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in param.opts
    }
    options: list[str] = []
    arguments: list[str] = []
    value_next = False
    for arg in args:
        if value_next:
            options.append(arg)
            value_next = False
        elif arg.startswith("-") and arg != "-" and not _NEGATIVE_INT.fullmatch(arg):
            options.append(arg)
            value_next = arg in takes_value
        else:
            arguments.append(arg)
    if not any(_NEGATIVE_INT.fullmatch(arg) for arg in arguments):
        return args
    return [*options, "--", *arguments]


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    # metalab.__version__, not the installed metadata: a source checkout run without
    # installing has none, and an older installed copy would report its own version.
    click.echo(f"metalab {metalab.__version__}")
    ctx.exit()


@click.group(
    "metalab",
    cls=_Group,
    help=f"Inspect, export and schedule metalab parameter sweeps.\n\n{_EPILOG}",
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show metalab's version and exit.",
)
def app() -> None:
    """Inspect, export and schedule metalab parameter sweeps."""


_P = ParamSpec("_P")


def _reader_may_leave(command: Callable[_P, None]) -> Callable[_P, None]:
    """Let the reader of standard output go away (``metalab list ... | head``): exit 0.

    A closed pipe means the reader has what it wanted, so under ``set -o pipefail`` the
    command must not fail. Standard output is flushed here, while the error can still
    be caught, and then pointed at the null device, so that Python's own flush at exit
    does not fail either.
    """

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            command(*args, **kwargs)
            sys.stdout.flush()
        except BrokenPipeError:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    return run


def _console(file: IO[str] | None = None) -> Console:
    """A rich console whose closed pipe is a `BrokenPipeError` (rich itself exits 1)."""
    from rich.console import Console

    class _PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _PipeConsole(file=file)


def _too_long_for_a_table(count: int, fix: str) -> CliError:
    msg = (
        f"a table of {counted(count, 'case')} is too long to lay out (at most "
        f"{TABLE_MAX_ROWS:,} rows); {fix}"
    )
    return CliError(msg, 2)


sweep_argument = click.argument("sweep", metavar="SWEEP")
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)


@contextlib.contextmanager
def _opened(path: Path | None, *, newline: str | None = None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    try:
        out = path.open("w", encoding="utf-8", newline=newline)
    except OSError as error:
        msg = f"cannot write {path}: {error.strerror or error}"
        raise CliError(msg) from None
    try:
        with out:
            yield out
    except BrokenPipeError:
        raise
    except OSError as error:
        if user_code_error(error) is not None:
            raise
        # A full disk often shows only when the file is closed.
        msg = f"cannot write {path}: {error.strerror or error}"
        raise CliError(msg) from None


def _write_text(path: Path | None, text: str) -> None:
    with _opened(path) as out:
        out.write(text)


@app.command(epilog=_EPILOG)
@sweep_argument
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=0),
    default=10,
    help="How many of the first cases to list.",
)
@_reader_may_leave
def show(sweep: str, limit: int) -> None:
    """Show a sweep: its composition as a tree, then its first cases as a table.

    Each node of the tree gives its kind, its exact size, its parameters and the
    distributions they are drawn from.
    """
    from metalab._cli.output import cases_table, iter_cases
    from metalab._cli.show import sweep_tree

    source = load_sweep(sweep)
    shown = min(limit, source.size)
    if shown > TABLE_MAX_ROWS:
        raise _too_long_for_a_table(shown, "give a smaller --limit, or use metalab list")
    console = _console()
    console.print(sweep_tree(source, sweep))
    if shown:
        total = counted(source.size, "case")
        title = f"first {shown:,} of {total}" if shown < source.size else f"all {total}"
        rows = iter_cases(source, 0, shown)
        console.print()
        console.print(cases_table(source.keys, rows, title=title, width=console.width))


@app.command(epilog=_EPILOG)
@sweep_argument
@_reader_may_leave
def count(sweep: str) -> None:
    """Print the exact number of cases of a sweep."""
    from metalab._core.intstr import int_to_str

    click.echo(int_to_str(load_sweep(sweep).size))


TASK_VARIABLES: Final = (
    ("SLURM_ARRAY_TASK_ID", 0),
    ("PBS_ARRAY_INDEX", 0),
    ("PBS_ARRAYID", 0),
    ("SGE_TASK_ID", 1),
    ("LSB_JOBINDEX", 1),
    ("JOB_COMPLETION_INDEX", 0),
    ("AWS_BATCH_JOB_ARRAY_INDEX", 0),
)
"""The variables a scheduler sets to a job array task's index, in the order they are read,
each with its first index (SGE and LSF count from 1): SLURM, PBS Pro, Torque, SGE, LSF,
Kubernetes Indexed Jobs and AWS Batch."""
_NOT_AN_ARRAY: Final = {"SGE_TASK_ID": "undefined", "LSB_JOBINDEX": "0"}
"""The values SGE and LSF give these variables in a job that is no array: unset."""


def task_index(environ: Mapping[str, str] | None = None) -> int:
    """The 0-based task index from the scheduler variables set (see `TASK_VARIABLES`).

    Every variable set is read, 1-based ones converted; they must agree.

    >>> task_index({"SGE_TASK_ID": "4"}), task_index({"SLURM_ARRAY_TASK_ID": "3"})
    (3, 3)

    Raises:
        CliError: none is set, one is not a valid index, or two disagree (exit 2).
    """
    env = os.environ if environ is None else environ
    found: list[tuple[str, int]] = []
    for name, first in TASK_VARIABLES:
        raw = env.get(name)
        if raw is None or raw.strip() == _NOT_AN_ARRAY.get(name):
            continue
        try:
            value = parse_index(raw, signed=False) - first
        except ValueError as error:
            msg = f"{name}: {error}"
            raise CliError(msg, 2) from None
        if value < 0:
            msg = f"{name}: {raw.strip()!r} is not a task index (it counts from {first})"
            raise CliError(msg, 2)
        found.append((name, value))
    if not found:
        others = ", ".join(name for name, _ in TASK_VARIABLES[1:-1])
        msg = (
            f"no INDEX given and SLURM_ARRAY_TASK_ID is not set, nor {others} or "
            f"{TASK_VARIABLES[-1][0]}; give an index (metalab case SWEEP 3) or run inside "
            "a job array"
        )
        raise CliError(msg, 2)
    if len({value for _, value in found}) > 1:
        shown = ", ".join(f"{name}={env[name].strip()}" for name, _ in found)
        msg = (
            f"the task index variables disagree ({shown}, as 0-based indices "
            f"{', '.join(str(value) for _, value in found)}); unset the stale ones or "
            "give INDEX"
        )
        raise CliError(msg, 2)
    return found[0][1]


chunk_option = click.option(
    "--chunk",
    type=click.IntRange(min=1),
    help="Run this many cases per task: task k runs cases k*K to k*K+K-1.",
)


@app.command(cls=_IndexCommand, epilog=_EPILOG)
@sweep_argument
@click.argument("index", type=INDEX, required=False)
@chunk_option
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    help="Add this to the task index (one of several submissions: see metalab array --split).",
)
@_reader_may_leave
def case(sweep: str, index: int | None, chunk: int | None, offset: int) -> None:
    """Print one case as JSON: its index, case_id, params and tags.

    Exactly one JSON document goes to standard output, so a job script can redirect
    it to a file. INDEX defaults to the task's index in a job array, read from the
    scheduler's variable (SLURM_ARRAY_TASK_ID, PBS_ARRAY_INDEX, PBS_ARRAYID,
    SGE_TASK_ID, LSB_JOBINDEX, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, the
    1-based ones converted); a negative INDEX counts back from the end (-1 is the last
    case). With --chunk K, INDEX is a task that prints cases INDEX*K to INDEX*K+K-1,
    one JSON document per line (the last task fewer). --offset is added to the task
    index first.
    """
    from metalab._cli.output import case_record, dumps_record
    from metalab._sources.base import check_index

    source = load_sweep(sweep)
    given = task_index() if index is None else index
    if chunk is None:
        i = check_index(given + offset if given >= 0 else given, source.size)
        click.echo(dumps_record(case_record(i, source[i]), indent=2))
        return
    tasks = -(-source.size // chunk)
    task = given + offset if given >= 0 else given
    if not -tasks <= task < tasks:
        msg = (
            f"task {task:,} is out of range: this sweep of {counted(source.size, 'case')} "
            f"is {counted(tasks, 'task')} of --chunk {chunk:,} (0 to {tasks - 1:,})"
        )
        raise CliError(msg)
    task %= tasks
    first = task * chunk
    for i in range(first, min(first + chunk, source.size)):
        click.echo(dumps_record(case_record(i, source[i])))


def _progress_wanted(count: int, output: Path | None) -> bool:
    # A bar fights with cases printed on the same terminal, so only when they go elsewhere.
    stdout_is_terminal = output is None and sys.stdout.isatty()
    return count >= PROGRESS_MIN_CASES and sys.stderr.isatty() and not stdout_is_terminal


def _with_progress(
    rows: Iterator[tuple[int, ParamCase]], count: int, output: Path | None
) -> Iterator[tuple[int, ParamCase]]:
    if not _progress_wanted(count, output):
        yield from rows
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("writing cases", total=count)
        for done, row in enumerate(rows, start=1):
            yield row
            if done % _PROGRESS_STEP == 0:
                progress.update(task, completed=done)


@app.command("list", epilog=_EPILOG)
@sweep_argument
@click.option(
    "--start",
    type=INDEX,
    default=0,
    help="The first index to list (negative counts back from the end).",
)
@click.option(
    "--stop",
    type=INDEX,
    help="List up to this index, excluded (default: the end; negative counts back).",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default=FORMATS[0],
    help="The output format.",
)
@output_option
@_reader_may_leave
def list_(sweep: str, start: int, stop: int | None, fmt: str, output: Path | None) -> None:
    """List cases, streamed one at a time (the sweep is never held in memory).

    jsonl gives one JSON record per line (as metalab case prints them); csv has one
    column per parameter and reads back with pandas.read_csv (which reads strings like
    "NA" or "1" as missing or numbers: use jsonl for exact values); table is for reading on
    a terminal (at most 10,000 cases). A progress bar appears on standard error for
    long runs when it is a terminal. An empty range (--start at or past the end) lists
    nothing, says so on standard error, and exits 0.
    """
    from metalab._cli.output import case_record, cases_table, dumps_record, iter_cases, write_csv

    source = load_sweep(sweep)
    first, end, _ = slice(start, stop).indices(source.size)  # as Python slices a list
    end = max(first, end)
    if first == end:
        _say_empty(start, stop, first, source.size)
    if fmt == "table" and end - first > TABLE_MAX_ROWS:
        raise _too_long_for_a_table(
            end - first, "use --format jsonl or csv, or fewer cases with --start/--stop"
        )
    rows = _with_progress(iter_cases(source, first, end), end - first, output)
    if fmt == "table":
        with _opened(output) as out:
            console = _console(file=out)
            console.print(cases_table(source.keys, rows, width=console.width))
        return
    with _opened(output, newline="" if fmt == "csv" else None) as out:
        if fmt == "csv":
            write_csv(out, source.keys, rows)
        else:
            for index, case in rows:
                out.write(dumps_record(case_record(index, case)))
                out.write("\n")


def _say_empty(start: int, stop: int | None, first: int, size: int) -> None:
    """Tell a person why nothing is listed; a script sees empty output and status 0."""
    cases = f"this sweep of {counted(size, 'case')}"
    if first >= size:
        why = f"--start {start:,} is at or past the end of {cases}"
    else:
        why = f"--stop {stop:,} is not after --start {start:,} in {cases}"
    click.echo(f"metalab: no cases to list: {why}", err=True)


@app.command(epilog=_EPILOG)
@sweep_argument
@output_option
@click.option("--pretty", is_flag=True, help="Indent the JSON for reading.")
@_reader_may_leave
def manifest(sweep: str, output: Path | None, *, pretty: bool) -> None:
    """Print the manifest JSON of a sweep, to run it elsewhere.

    A sweep defined in code becomes data that any machine can load. The compact form
    is byte-for-byte what metalab._io.manifest.dumps writes.
    """
    import json

    from metalab._io.manifest import dumps

    text = dumps(load_sweep(sweep))
    if pretty:
        text = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=True)
    _write_text(output, text + "\n")


def _read_lines(path: Path) -> list[str]:
    try:
        # utf-8-sig: a byte order mark, as some Windows editors write, is not data.
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        msg = f"cannot read {path}: {reason or error}"
        raise CliError(msg) from None


def _cluster_limit() -> int:
    # `array` has an option of the name, so its body calls this.
    return max_array_size()


def _done_options(command: Callable[_P, None]) -> Callable[_P, None]:
    """The options that name the finished cases, shared by ``array`` and ``pending``."""
    command = click.option(
        "--done-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="A results directory (as metalab.run writes it): its done cases are finished.",
    )(command)
    command = click.option(
        "--done-ids",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A file of finished case_ids, one per line.",
    )(command)
    return click.option(
        "--done",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A file of finished case indices, one per line.",
    )(command)


def _finished(
    done: Path | None, done_ids: Path | None, done_dir: Path | None
) -> tuple[list[int], list[str]]:
    """The finished cases the options name: indices and case_ids.

    Every source of finished cases goes through here; at most one may be given. In a
    results directory (``--done-dir``) a failed case is not finished.
    """
    from metalab._io.jobarray import parse_case_ids, parse_indices

    given = [
        o for o, v in (("--done", done), ("--done-ids", done_ids), ("--done-dir", done_dir)) if v
    ]
    if len(given) > 1:
        msg = (
            f"give {given[0]} or {given[1]}, not both"
            if len(given) == 2
            else "give one of --done, --done-ids and --done-dir, not all three"
        )
        raise CliError(msg, 2)
    finished = parse_indices(_read_lines(done), where=str(done)) if done is not None else []
    finished_ids = (
        parse_case_ids(_read_lines(done_ids), where=str(done_ids)) if done_ids is not None else []
    )
    if done_dir is not None:
        from metalab._run.store import done_case_ids

        finished_ids = done_case_ids(done_dir)
    return finished, finished_ids


def _pending_runs(
    source: ParamSource, finished: list[int], finished_ids: list[str], done_dir: Path | None
) -> list[range]:
    """The runs of pending indices; a results directory may hold other sweeps' results.

    A list of done cases (``--done``, ``--done-ids``) is written for one sweep, so an
    entry of no case of it is an error. A results directory is keyed by case_id and is
    shared by the shards of a sweep, a sweep and its pending selection, or a sweep grown
    by new values: its documents of other cases are left alone, and counted on
    standard error.
    """
    from metalab._io.jobarray import match_case_ids, pending_ranges

    if done_dir is None:
        return pending_ranges(source, done_indices=finished, done_ids=finished_ids)
    found, others = match_case_ids(source, finished_ids)
    if others:
        click.echo(
            f"metalab: note: {counted(len(others), 'done result')} in {done_dir} "
            f"{'is' if len(others) == 1 else 'are'} of no case of this sweep, and left "
            "alone (the directory holds the results of other cases too)",
            err=True,
        )
    return pending_ranges(source, done_indices=found)


@app.command(epilog=_EPILOG)
@sweep_argument
@_done_options
@chunk_option
@click.option(
    "--max-running",
    type=click.IntRange(min=1),
    help="Let at most this many tasks run at once (SLURM's %K).",
)
@click.option(
    "--split",
    is_flag=True,
    help="Print one line 'SPEC OFFSET' per submission, each within MaxArraySize.",
)
@click.option(
    "--max-array-size",
    type=click.IntRange(min=1),
    help="The cluster's MaxArraySize (default: from scontrol show config, else 1001).",
)
@_reader_may_leave
def array(  # noqa: PLR0913 - one parameter per option
    sweep: str,
    *,
    done: Path | None,
    done_ids: Path | None,
    done_dir: Path | None,
    chunk: int | None,
    max_running: int | None,
    max_array_size: int | None,
    split: bool,
) -> None:
    """Print the value of sbatch --array= that runs the sweep, compressed into ranges.

    With --done, --done-ids or --done-dir, only the cases not finished are listed, to
    resume a sweep that partly failed (in a results directory, a failed case is not
    finished). With --chunk K, the indices are tasks of K cases each
    (run them with metalab case SWEEP --chunk K). When every case is finished, nothing
    is printed on standard output and a note goes to standard error, as it does when
    an index is beyond what SLURM accepts (MaxArraySize). With --split, the tasks are
    split into submissions within MaxArraySize: one line per submission, the value of
    --array= and the offset to give metalab case --offset, and standard error says how
    to submit them.
    """
    from metalab._core.intstr import int_to_str
    from metalab._io.jobarray import chunk_ranges, ranges_spec, split_ranges
    from metalab.errors import ParamError

    finished, finished_ids = _finished(done, done_ids, done_dir)
    source = load_sweep(sweep)
    # Runs, not indices: the work grows with the done files, not with the sweep.
    pending = _pending_runs(source, finished, finished_ids, done_dir)
    if not pending:
        click.echo(
            f"metalab: all {counted(source.size, 'case')} are done; nothing to submit", err=True
        )
        return
    tasks = pending if chunk is None else chunk_ranges(pending, chunk)
    if chunk is not None and (finished or finished_ids):
        _say_rerun(pending, tasks, chunk, source.size)
    limit = _cluster_limit() if max_array_size is None else max_array_size
    if split:
        try:
            submissions = split_ranges(tasks, limit, most=MAX_SUBMISSIONS)
        except ParamError:
            msg = (
                f"these tasks need more than {MAX_SUBMISSIONS:,} submissions of at most "
                f"{limit:,} tasks each; give a larger --chunk"
            )
            raise CliError(msg) from None
        _print_split(submissions, limit, sweep, chunk, max_running)
        return
    click.echo(ranges_spec(tasks, max_running=max_running))
    last = tasks[-1].stop - 1
    if last >= limit:
        click.echo(
            f"metalab: warning: sbatch will refuse this array: its last index, "
            f"{int_to_str(last)}, is beyond this cluster's MaxArraySize of {limit:,} "
            f"(indices 0 to {limit - 1:,}); pass --split for submissions within it, as "
            "'Large sweeps' in metalab's SLURM guide shows",
            err=True,
        )


MAX_SUBMISSIONS: Final = 10_000
"""The most submissions ``metalab array --split`` prints (SLURM's default MaxJobCount)."""


def _print_split(
    submissions: list[tuple[int, list[range]]],
    limit: int,
    sweep: str,
    chunk: int | None,
    max_running: int | None,
) -> None:
    import shlex

    from metalab._io.jobarray import ranges_spec

    for offset, runs in submissions:
        click.echo(f"{ranges_spec(runs, max_running=max_running)} {offset}")
    chunked = "" if chunk is None else f" --chunk {chunk}"
    click.echo(
        f"metalab: {counted(len(submissions), 'submission')} within MaxArraySize {limit:,}; "
        "each line is SPEC OFFSET, to submit as sbatch --array=SPEC with the job running "
        f"metalab case {shlex.quote(sweep)}{chunked} --offset OFFSET",
        err=True,
    )


def _say_rerun(pending: list[range], tasks: list[range], chunk: int, size: int) -> None:
    """Say how many finished cases run again, their tasks holding pending ones."""
    held = sum(min(t.stop * chunk, size) - t.start * chunk for t in tasks)
    rerun = held - sum(r.stop - r.start for r in pending)
    if rerun > 0:
        click.echo(
            f"metalab: note: these tasks also hold {counted(rerun, 'finished case')}, which "
            "they run again; metalab pending writes a sweep of the pending cases alone",
            err=True,
        )


@app.command(epilog=_EPILOG)
@sweep_argument
@_done_options
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The manifest of the pending cases to write.",
)
@_reader_may_leave
def pending(
    sweep: str, done: Path | None, done_ids: Path | None, done_dir: Path | None, output: Path
) -> None:
    """Write the manifest of the cases not yet finished, to run as the array 0-(P-1).

    The manifest selects the pending cases of the sweep (source.select), as runs of
    ranges: a task of it runs exactly one pending case, which keeps its case_id. The
    finished cases are named by --done, --done-ids or --done-dir (a results directory,
    whose failed cases are pending); a count of the pending cases goes to standard
    error. When every case is finished, the manifest selects none.
    """
    from metalab._io.manifest import dumps

    finished, finished_ids = _finished(done, done_ids, done_dir)
    if done is None and done_ids is None and done_dir is None:
        msg = "give the finished cases with --done FILE, --done-ids FILE or --done-dir DIR"
        raise CliError(msg, 2)
    source = load_sweep(sweep)
    runs = _pending_runs(source, finished, finished_ids, done_dir)
    chosen = source.select(runs)
    _write_text(output, dumps(chosen) + "\n")
    if not chosen:
        click.echo(
            f"metalab: all {counted(source.size, 'case')} are done; {output} selects none",
            err=True,
        )
        return
    click.echo(
        f"metalab: {counted(chosen.size, 'case')} of {source.size:,} pending, in "
        f"{counted(len(runs), 'run')}; wrote {output}, to run as the array "
        f"0-{chosen.size - 1}",
        err=True,
    )


@app.command(epilog=_EPILOG)
@sweep_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The image to write, exactly this path; its suffix (.png, .svg, .pdf, ...) is the format.",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option(
    "--params",
    "-p",
    "params",
    multiple=True,
    metavar="KEY[,KEY...]",
    help="Plot these parameters, in this order (default: the first 8 numeric ones).",
)
@click.option(
    "--max-points",
    type=click.IntRange(min=1),
    default=10_000,
    help="Plot at most this many cases, a seeded sample of them.",
)
def plot(
    sweep: str, output: Path, params: tuple[str, ...], max_points: int, *, force: bool
) -> None:
    """Plot the coverage of a sweep: every pair of numeric parameters.

    Histograms sit on the diagonal; axes are logarithmic for parameters drawn from log
    distributions; a categorical parameter colours the points and the others are
    shown as counts. At most 8 numeric parameters are paired (choose them with
    --params). Needs matplotlib (pip install '.[plot]' in a metalab checkout).
    """
    from metalab.errors import ParamError

    try:
        from metalab._cli import plot as _plot

        # The output is checked before the sweep is even loaded: a typo fails at once.
        fmt = _plot.check_output(output, force=force)
    except ImportError as error:
        raise CliError(str(error)) from None
    except ParamError as error:
        raise CliError(str(error), 2) from None
    chosen = [key.strip() for option in params for key in option.split(",") if key.strip()]
    source = load_sweep(sweep)
    console = None
    if sys.stderr.isatty():
        from rich.console import Console

        console = Console(stderr=True)
    with _plot.plot_progress(console) as step:
        shown = min(source.size, max_points)
        step(f"sampling {shown:,} of {counted(source.size, 'case')}")
        try:
            coverage = _plot.sample_coverage(
                source, max_points=max_points, params=chosen if params else None
            )
        except ParamError as error:
            raise CliError(str(error), 2 if params else 1) from None
        step(f"drawing {len(coverage.numeric) ** 2 + len(coverage.counted)} panels")
        figure = _plot.draw_coverage(coverage, title=sweep)
        step(f"writing {output}")
        image = _plot.render(figure, fmt)
    if coverage.left_out:
        left = coverage.left_out
        names = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
        click.echo(
            f"metalab: {counted(len(left), 'parameter')} left out of the plot (at most "
            f"{_plot.MAX_PARAMS} numeric and {_plot.MAX_PARAMS} counted): {names}; "
            "choose with --params",
            err=True,
        )
    try:
        # Exclusive creation unless --force, so a file that appeared meanwhile survives.
        with output.open("wb" if force else "xb") as out:
            out.write(image)
    except FileExistsError:
        msg = f"output {str(output)!r} already exists; pass --force to overwrite it"
        raise CliError(msg, 2) from None
    except OSError as error:
        msg = f"cannot write {output}: {error.strerror or error}"
        raise CliError(msg) from None
    click.echo(f"wrote {output}", err=True)
