"""Job arrays: which cases of a sweep still have to run, and the value of ``sbatch --array=``.

A sweep runs on a cluster as a job array: task ``i`` runs case ``i``
(``metalab case sweep.json`` reads ``$SLURM_ARRAY_TASK_ID``). These pure functions
decide what to submit: `pending_indices` drops the cases already finished (named by
index or by ``case_id``) and `array_spec` writes the remaining indices the way SLURM
reads them, compressed into ranges, with an optional ``%K`` limit on how many tasks run
at once. `pending_ranges` and `ranges_spec` do the same in runs of consecutive indices,
so their cost grows with the number of finished cases, not with the size of the sweep
(which may be 10**40). `chunk_ranges` turns case runs into the runs of tasks that
run ``chunk`` cases each, and `split_ranges` splits task runs into submissions whose
indices stay below the cluster's MaxArraySize (`max_array_size` reads it), each with
its offset.

>>> from metalab import grid
>>> sweep = grid(x=range(20))
>>> array_spec(pending_indices(sweep, done_indices=[0, 1, 2, 6]), max_running=4)
'3-5,7-19%4'
>>> ranges_spec(pending_ranges(grid(x=range(10**30)), done_indices=[0, 6]))
'1-5,7-999999999999999999999999999999'

The implementation is `metalab._io.jobarray`.
"""

from metalab._io.jobarray import (
    MAX_ID_SCAN,
    SLURM_MAX_ARRAY_SIZE,
    array_spec,
    chunk_ranges,
    max_array_size,
    parse_case_ids,
    parse_indices,
    pending_indices,
    pending_ranges,
    ranges_spec,
    split_ranges,
)

__all__ = [
    "MAX_ID_SCAN",
    "SLURM_MAX_ARRAY_SIZE",
    "array_spec",
    "chunk_ranges",
    "max_array_size",
    "parse_case_ids",
    "parse_indices",
    "pending_indices",
    "pending_ranges",
    "ranges_spec",
    "split_ranges",
]
