"""A fix for Snakemake 9's planning of jobs behind an ``ancient()`` input of a rerun job.

Every per-run rule takes its phase's asset manifest as ``ancient()`` input: the manifest's name
carries its content, so a rebuilt manifest must not rerun the runs made with it. Snakemake 9
(checked on 9.27.1) plans such a workflow wrongly once an asset job must run for a reason of its
own: forced by ``--forcerun``, or found *incomplete* because Snakemake was killed between the
job's last write and its bookkeeping (``--rerun-incomplete``, on in our profile).

``DAG.update_needrun`` then masks every descendant of the asset job, expecting to reach them in
its breadth-first pass, but that pass stops at edges whose files are all ancient. The masked
jobs are never looked at: runs whose outputs are missing are not built, nor are the summary and
``all``, and Snakemake reports success ("1 of 1 steps (100%) done").

The fix masks only what that pass can reach: while ``update_needrun`` runs, the traversal of
``depending`` does not cross edges whose files are all ancient. The jobs beyond get their own
look, as when no asset job runs. Masking is a shortcut there, so masking less changes no
decision but these.
"""

from __future__ import annotations

import functools
from collections import deque

_APPLIED_FLAG = "_spyralflow_ancient_mask_fix"
_PASS_FLAG = "_spyralflow_in_update_needrun"


def fix_ancient_masking() -> bool:
    """Install the fix on Snakemake's ``DAG`` (once per process).

    Returns
    -------
    bool
        Whether the fix is in place: False when this Snakemake's ``DAG`` lacks the methods it
        wraps (a release that plans differently; the rebuilt-asset test of
        tests/workflow/test_lineage.py then fails).
    """
    from snakemake.dag import DAG

    if getattr(DAG, _APPLIED_FLAG, False):
        return True
    if not (hasattr(DAG, "update_needrun") and hasattr(DAG, "bfs")):
        return False
    original_update_needrun = DAG.update_needrun
    original_bfs = DAG.bfs

    @functools.wraps(original_update_needrun)
    async def update_needrun(self, *args, **kwargs):
        setattr(self, _PASS_FLAG, True)
        try:
            return await original_update_needrun(self, *args, **kwargs)
        finally:
            setattr(self, _PASS_FLAG, False)

    @functools.wraps(original_bfs)
    def bfs(self, direction, *jobs, stop=None):
        if getattr(self, _PASS_FLAG, False) and direction is self.depending and stop is None:
            return _bfs_over_fresh_edges(direction, jobs)
        if stop is None:
            return original_bfs(self, direction, *jobs)
        return original_bfs(self, direction, *jobs, stop=stop)

    DAG.update_needrun = update_needrun
    DAG.bfs = bfs
    setattr(DAG, _APPLIED_FLAG, True)
    return True


def _bfs_over_fresh_edges(depending, jobs):
    """The jobs depending on ``jobs``, not crossing edges whose files are all ancient."""
    queue = deque(jobs)
    visited = set(queue)
    while queue:
        job = queue.popleft()
        yield job
        for dependent, files in depending[job].items():
            if dependent in visited or (files and all(f.is_ancient for f in files)):
                continue
            visited.add(dependent)
            queue.append(dependent)
