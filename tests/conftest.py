"""Suite-wide rule: with ``SPYRALFLOW_REQUIRE_SPYRAL=1`` (CI), a Spyral comparison test (marker
``spyral``) that skips fails instead, so that the comparisons with attpc_spyral always run there."""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    required = os.environ.get("SPYRALFLOW_REQUIRE_SPYRAL") == "1"
    if required and report.skipped and item.get_closest_marker("spyral") is not None:
        report.outcome = "failed"
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"SPYRALFLOW_REQUIRE_SPYRAL=1 but the Spyral test skipped: {reason}"
