"""`MetalabSweeper`: ``python app.py -m hydra/sweeper=metalab hydra.sweeper.sweep=SWEEP``.

``SWEEP`` is what the ``metalab`` command takes: a manifest file, or ``path.py:NAME``
for a sweep defined in Python. Each case becomes one Hydra job whose overrides set the
case's parameters (dotted keys are config paths); keys the job's config lacks are
added (``+key=value``). Plain overrides on the command line apply to every job; sweeps
on the command line are refused, since the metalab sweep is the whole sweep.
"""

# No ``from __future__ import annotations``: Hydra loads plugin modules outside
# sys.modules, where a dataclass cannot resolve string annotations; OmegaConf reads the
# config's field types at run time.
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.plugins.sweeper import Sweeper
from omegaconf import MISSING, DictConfig, OmegaConf

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from hydra.core.utils import JobReturn
    from hydra.plugins.launcher import Launcher
    from hydra.types import HydraContext, TaskFunction

    from metalab import ParamSource

log = logging.getLogger(__name__)

_ABSENT = object()


@dataclass
class MetalabSweeperConf:
    """The options of ``hydra/sweeper=metalab`` (``hydra.sweeper.<name>=...``)."""

    _target_: str = "hydra_plugins.metalab_sweeper.metalab_sweeper.MetalabSweeper"
    sweep: str = MISSING
    """The metalab sweep: a manifest file, or ``path.py:NAME``."""
    max_batch_size: Optional[int] = None  # noqa: UP045 - OmegaConf reads the annotation
    """Jobs handed to the launcher at once (all of them when unset)."""


ConfigStore.instance().store(
    group="hydra/sweeper", name="metalab", node=MetalabSweeperConf, provider="metalab"
)


def _load(spec: str) -> "ParamSource":
    from metalab._cli.load import CliError, load_sweep
    from metalab.errors import MetalabError

    try:
        return load_sweep(spec)
    except (CliError, MetalabError) as error:
        msg = f"hydra.sweeper.sweep={spec}: {error}"
        raise HydraException(msg) from error


class MetalabSweeper(Sweeper):
    """Launches the cases of a metalab sweep as the jobs of a Hydra multirun."""

    def __init__(self, sweep: str, max_batch_size: Optional[int] = None) -> None:  # noqa: UP045
        """Take the sweeper's options (see `MetalabSweeperConf`)."""
        super().__init__()
        if max_batch_size is not None and max_batch_size < 1:
            msg = f"hydra.sweeper.max_batch_size must be at least 1, got {max_batch_size}"
            raise HydraException(msg)
        self.sweep_spec = sweep
        self.max_batch_size = max_batch_size
        self.config: Optional[DictConfig] = None  # noqa: UP045
        self.launcher: Optional[Launcher] = None  # noqa: UP045
        self.hydra_context: Optional[HydraContext] = None  # noqa: UP045

    def setup(
        self, *, hydra_context: "HydraContext", task_function: "TaskFunction", config: DictConfig
    ) -> None:
        """Keep the context and make the launcher, as every Hydra sweeper does."""
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _prefix(self, key: str) -> str:
        """``""`` for a key the job's config has (or a config group it chooses), else ``+``."""
        assert self.config is not None
        choices = OmegaConf.select(self.config, "hydra.runtime.choices", default={})
        if key in choices or OmegaConf.select(self.config, key, default=_ABSENT) is not _ABSENT:
            return ""
        return "+"

    def _jobs(self, source: "ParamSource", extra: "Sequence[str]") -> "Iterator[list[str]]":
        from metalab.interop import hydra_override

        prefixes: dict[str, str] = {}
        for params in source.dicts():
            job = []
            for key, value in params.items():
                if key not in prefixes:
                    prefixes[key] = self._prefix(key)
                job.append(hydra_override(key, value, prefix=prefixes[key]))
            job.extend(extra)
            yield job

    def sweep(self, arguments: list[str]) -> Any:
        """Launch one job per case, in the sweep's order, in batches of ``max_batch_size``."""
        assert self.config is not None
        assert self.launcher is not None
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        for override in parser.parse_overrides(arguments):
            if override.is_sweep_override():
                msg = (
                    f"the metalab sweeper runs the cases of {self.sweep_spec}; put the sweep "
                    f"{override.input_line!r} into the metalab sweep instead"
                )
                raise HydraException(msg)
        source = _load(self.sweep_spec)
        log.info("metalab sweep %s: %s jobs", self.sweep_spec, source.size)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        jobs = self._jobs(source, list(arguments))
        returns: list[Sequence[JobReturn]] = []
        index = 0
        while batch := list(itertools.islice(jobs, self.max_batch_size or None)):
            self.validate_batch_is_legal(batch)
            results = self.launcher.launch(batch, initial_job_idx=index)
            for result in results:
                _ = result.return_value  # raises if the job failed, as Hydra's sweepers do
            index += len(batch)
            returns.append(results)
        return returns
