"""Suite-wide rule: with ``SPYRALFLOW_REQUIRE_SPYRAL=1`` (CI), a Spyral comparison test (marker
``spyral``) that skips fails instead, so that the comparisons with attpc_spyral always run there."""

from __future__ import annotations

import os

import pytest

from spyralflow.framework.kernels import use_package_cache

# Kernels run in the test processes too: in the phase jobs' cache of this package version, so a
# kernel compiled by a test is not compiled again by a job (numba's default cache beside the
# sources would also keep stale machine code after an edit of a callee in another module).
use_package_cache()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    required = os.environ.get("SPYRALFLOW_REQUIRE_SPYRAL") == "1"
    if required and report.skipped and item.get_closest_marker("spyral") is not None:
        report.outcome = "failed"
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"SPYRALFLOW_REQUIRE_SPYRAL=1 but the Spyral test skipped: {reason}"


# The modules that take minutes, longest first. xdist hands out groups in collection order, so
# starting these first keeps one of them from being the last job on an otherwise idle machine.
LONG_GROUPS = (
    "tests/workflow/test_spyral_phases.py",
    "slurm",
    "tests/workflow/test_workflow.py",
    "tests/workflow/test_default_pipeline.py",
    "tests/workflow/test_lineage.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each test module on one xdist worker (``--dist loadgroup``), so that a module's
    fixtures, such as a whole workflow run, are built once; the SLURM tests share one cluster
    and go together. The long groups come first."""
    groups = {}
    for item in items:
        marker = item.get_closest_marker("xdist_group")
        if marker is not None:
            groups[item] = marker.args[0] if marker.args else marker.kwargs.get("name", "")
            continue
        module = item.path.relative_to(config.rootpath).as_posix()
        groups[item] = "slurm" if module.startswith("tests/slurm/") else module
        item.add_marker(pytest.mark.xdist_group(groups[item]))
    rank = {group: index for index, group in enumerate(LONG_GROUPS)}
    items.sort(key=lambda item: rank.get(groups[item], len(LONG_GROUPS)))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core, at most four; each workflow test runs Snakemake with
    two cores of its own, so more workers only queue for the CPU."""
    return max(1, min(os.cpu_count() or 1, 4))
