"""The summary's report extras on synthetic tables with known errors: Ex against truth per state,
pulls, binned efficiency, the HTML tables and the drawn solver gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from summary_inputs import Offsets, estimation_table, solver_table, truth_table, write

from spyralflow.cli import main
from spyralflow.generator.summary import EXTRA_FILES as PLANNED_EXTRA_FILES
from spyralflow.summary.extras import EXTRA_FILES

EX_BIAS, EX_SIGMA, N_EVENTS = 0.03, 0.15, 300
REPOSITORY = Path(__file__).resolve().parents[2]


def _kinematics(truth: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    ejectile = truth.filter(pl.col("particle") == 2)
    residual = truth.filter(pl.col("particle") == 3)
    n = ejectile.height
    true_ex = residual["excitation"].to_numpy()
    ex = true_ex + EX_BIAS + rng.normal(0.0, EX_SIGMA, n)
    ex[:10] = np.nan  # rows without an Ex count against the efficiency
    polar_sigma, ke_sigma, z_sigma = 0.01, 0.2, 0.004  # rad, MeV, m
    return pl.DataFrame(
        {
            "orig_run": ejectile["run"],
            "orig_event": ejectile["event"],
            "vertex_z": ejectile["vertex_z"] / 1000.0 + rng.normal(0.0, z_sigma, n),
            "sigma_vz": np.full(n, z_sigma),
            "polar": ejectile["polar"] + rng.normal(0.0, polar_sigma, n),
            "sigma_polar": np.full(n, polar_sigma),
            "ke": ejectile["kinetic_energy"] + rng.normal(0.0, ke_sigma, n),
            # Half the true spread: the pull of ke must come out near 2.
            "sigma_ke": np.full(n, ke_sigma / 2.0),
            "ex": ex,
            "sigma_ex": np.full(n, EX_SIGMA),
            "redchisq": rng.chisquare(3, n) / 3.0,
            "reason": ["fit_not_finite"] * 10 + ["ok"] * (n - 10),
        }
    )


@pytest.fixture(scope="module")
def extras(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("extras")
    rng = np.random.default_rng(9)
    truth = truth_table(1, N_EVENTS, rng)
    keep = np.ones(N_EVENTS, bool)
    files = {
        "truth": write(truth, folder / "truth" / "run_0001.parquet"),
        "estimation": write(
            estimation_table(truth, keep, rng, Offsets()), folder / "est" / "run_0001.parquet"
        ),
        "solver": write(solver_table(truth, keep, Offsets()), folder / "sol" / "run_0001.parquet"),
        "kinematics": write(_kinematics(truth, rng), folder / "kin" / "run_0001.parquet"),
    }
    out = folder / "summary"
    arguments = ["summary", "--settings", json.dumps({})]
    for key, path in files.items():
        arguments += [f"--{key}", str(path)]
    for key in ("table", "pid-plot", "kinematics-plot", "residuals-plot"):
        arguments += [f"--{key}", str(out / f"{key}.out")]
    gate = REPOSITORY / "config" / "targets" / "deuteron_pid.json"
    arguments += ["--solver-gate", str(gate), "--extras-folder", str(out)]
    assert main(arguments) == 0
    return out


def test_every_extra_file_is_written_and_the_rule_declares_them(extras: Path) -> None:
    assert PLANNED_EXTRA_FILES == EXTRA_FILES
    for name in EXTRA_FILES:
        assert (extras / name).stat().st_size > 200, name


def test_ex_against_truth_per_state(extras: Path) -> None:
    table = pl.read_parquet(extras / "ex_truth.parquet")
    assert table["state"].to_list() == pytest.approx([0.0, 1.766], abs=1e-9)
    assert table["bias_median"].to_list() == pytest.approx([EX_BIAS] * 2, abs=0.04)
    assert table["resolution_robust"].to_list() == pytest.approx([EX_SIGMA] * 2, rel=0.25)
    assert table["centroid"].to_list() == pytest.approx([EX_BIAS, 1.766 + EX_BIAS], abs=0.04)
    assert sum(table["n_truth"]) == N_EVENTS and sum(table["n_reconstructed"]) == N_EVENTS - 10


def test_pulls_reveal_a_wrong_sigma(extras: Path) -> None:
    page = (extras / "pulls.html").read_text()
    rows = {
        cells[0]: [float(value) for value in cells[1:]]
        for cells in (
            [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
            for row in page.split("<tr>")[2:]
        )
    }
    assert set(rows) == {"vertex_z", "polar", "ke", "ex"}
    assert rows["polar"][2] == pytest.approx(1.0, abs=0.15)  # pull_std
    assert rows["vertex_z"][2] == pytest.approx(1.0, abs=0.15)
    assert rows["ke"][2] == pytest.approx(2.0, abs=0.3)


def test_binned_efficiency_and_html_tables(extras: Path) -> None:
    binned = pl.read_parquet(extras / "binned.parquet")
    assert set(binned["variable"]) == {"true_polar", "true_vertex_z"}
    assert (binned["efficiency"] == 1.0).all()  # every truth row has a solver row
    summary = (extras / "summary.html").read_text()
    assert "<table>" in summary and "resolution_robust" in summary and "MeV" in summary
