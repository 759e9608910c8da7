"""``spyralflow summary`` on synthetic per-run tables whose numbers are known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from summary_inputs import (
    Offsets,
    estimation_table,
    solver_table,
    truth_table,
    write,
)

from spyralflow.cli import main
from spyralflow.framework.provenance import read_provenance

RUNS = (1, 2)
N_EVENTS = 120
KEEP_FRACTION = {1: 0.75, 2: 0.5}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(5)
    offsets = Offsets()
    files: dict[str, list[Path]] = {"truth": [], "estimation": [], "solver": []}
    kept = {}
    for run in RUNS:
        truth = truth_table(run, N_EVENTS, rng)
        keep = np.arange(N_EVENTS) < int(KEEP_FRACTION[run] * N_EVENTS)
        kept[run] = int(keep.sum())
        name = f"run_{run:04d}.parquet"
        files["truth"].append(write(truth, folder / "truth" / name))
        estimation = estimation_table(truth, keep, rng, offsets)
        files["estimation"].append(write(estimation, folder / "Estimation" / name))
        solver = solver_table(truth, keep, offsets)
        files["solver"].append(write(solver, folder / "InterpSolver" / f"run_{run:04d}_2H.parquet"))
    return {"files": files, "kept": kept, "offsets": offsets, "folder": folder}


def outputs(folder: Path) -> dict[str, Path]:
    return {
        "table": folder / "summary.parquet",
        "pid-plot": folder / "pid.png",
        "kinematics-plot": folder / "kinematics.png",
        "residuals-plot": folder / "residuals.png",
    }


def run_summary(inputs: dict, folder: Path, settings: dict | None = None, extra=()) -> int:
    files = inputs["files"]
    arguments = ["summary", "--settings", json.dumps(settings or {})]
    for key in ("truth", "estimation", "solver"):
        arguments += [f"--{key}", *map(str, files[key])]
    for key, path in outputs(folder).items():
        arguments += [f"--{key}", str(path)]
    return main([*arguments, *extra])


@pytest.fixture(scope="module")
def summary(inputs, tmp_path_factory) -> tuple[pl.DataFrame, Path]:
    folder = tmp_path_factory.mktemp("summary")
    assert run_summary(inputs, folder) == 0
    return pl.read_parquet(folder / "summary.parquet"), folder


def _row(table: pl.DataFrame, scope: str, stage: str, quantity: str) -> dict:
    rows = table.filter(
        (pl.col("scope") == scope) & (pl.col("stage") == stage) & (pl.col("quantity") == quantity)
    )
    assert rows.height == 1
    return rows.row(0, named=True)


def test_the_table_has_a_row_per_scope_stage_and_quantity(summary):
    table, _ = summary
    assert table.columns == [
        "scope",
        "run",
        "stage",
        "quantity",
        "unit",
        "n_truth",
        "n_matched",
        "efficiency",
        "bias_mean",
        "bias_median",
        "resolution_robust",
        "std",
    ]
    assert table.height == 3 * 2 * 4
    assert set(table["scope"]) == {"run_0001", "run_0002", "all"}
    assert table.filter(pl.col("scope") == "all")["run"].is_null().all()


def test_efficiency_counts_matched_truth_per_run_and_overall(summary, inputs):
    table, _ = summary
    kept = inputs["kept"]
    for run in RUNS:
        row = _row(table, f"run_{run:04d}", "estimation", "polar")
        assert row["n_truth"] == N_EVENTS
        assert row["n_matched"] == kept[run]
        assert row["efficiency"] == pytest.approx(kept[run] / N_EVENTS)
    overall = _row(table, "all", "solver", "brho")
    assert overall["efficiency"] == pytest.approx(sum(kept.values()) / (N_EVENTS * len(RUNS)))


def test_bias_and_resolution_are_those_put_in(summary, inputs):
    table, _ = summary
    offsets: Offsets = inputs["offsets"]
    polar = _row(table, "all", "estimation", "polar")
    assert polar["unit"] == "deg"
    assert polar["bias_median"] == pytest.approx(np.rad2deg(offsets.polar), abs=1e-9)
    assert polar["resolution_robust"] == pytest.approx(0.0, abs=1e-9)
    vertex = _row(table, "all", "estimation", "vertex_z")
    n = vertex["n_matched"]
    # Tolerances of four standard errors of the median, the robust sigma and the std.
    median_error = 4 * 1.2533 * offsets.vertex_z_sigma / np.sqrt(n)
    assert vertex["bias_median"] == pytest.approx(offsets.vertex_z, abs=median_error)
    assert vertex["resolution_robust"] == pytest.approx(
        offsets.vertex_z_sigma, rel=4 * 1.166 / np.sqrt(n)
    )
    assert vertex["std"] == pytest.approx(offsets.vertex_z_sigma, rel=4 / np.sqrt(2 * n))
    brho = _row(table, "all", "estimation", "brho")
    assert brho["resolution_robust"] == pytest.approx(
        offsets.brho_sigma, rel=4 * 1.166 / np.sqrt(n)
    )
    # The decoy clusters (Brho + 2 T m) are never the match: nothing is that far off.
    assert abs(brho["bias_mean"]) < 0.01
    solver_polar = _row(table, "all", "solver", "polar")
    assert solver_polar["bias_mean"] == pytest.approx(-np.rad2deg(offsets.polar), abs=1e-9)
    # The solver's vertex is in metres; equal to the truth once converted.
    assert _row(table, "all", "solver", "vertex_z")["bias_mean"] == pytest.approx(0.0, abs=1e-9)
    assert _row(table, "all", "solver", "kinetic_energy")["std"] == pytest.approx(0.0, abs=1e-9)


def test_estimation_kinetic_energy_follows_from_brho(summary, inputs):
    table, _ = summary
    energy = _row(table, "all", "estimation", "kinetic_energy")
    assert energy["unit"] == "MeV"
    # Brho smeared by 5 mT m gives a spread of a few hundred keV, and no bias.
    assert abs(energy["bias_median"]) < 0.1
    assert 0.05 < energy["resolution_robust"] < 1.0


def test_plots_are_pngs_and_the_table_has_provenance(summary):
    _, folder = summary
    for name in ("pid.png", "kinematics.png", "residuals.png"):
        content = (folder / name).read_bytes()
        assert content.startswith(PNG_SIGNATURE) and len(content) > 5000
    provenance = read_provenance(folder / "summary.parquet")
    assert provenance["phase"] == "Summary"
    assert provenance["parameters"]["particle"] == [1, 2]


def test_a_pid_gate_drops_rows_outside_it(inputs, tmp_path):
    gate = {"pid_gate": {"dedx": [0.0, 200.0], "brho": [0.0, 5.0]}}
    assert run_summary(inputs, tmp_path, settings=gate) == 0
    table = pl.read_parquet(tmp_path / "summary.parquet")
    gated = _row(table, "all", "estimation", "polar")["n_matched"]
    ungated = sum(inputs["kept"].values())
    # dEdx is uniform in [100, 300]: about half the ejectile rows pass.
    assert 0.3 * ungated < gated < 0.7 * ungated
    assert _row(table, "all", "solver", "polar")["n_matched"] == ungated


def test_no_reconstruction_at_all_still_writes_every_output(inputs, tmp_path):
    empty = tmp_path / "empty.parquet"
    pl.DataFrame().write_parquet(empty)
    files = {**inputs["files"], "estimation": [empty], "solver": []}
    assert run_summary({"files": files}, tmp_path) == 0
    table = pl.read_parquet(tmp_path / "summary.parquet")
    assert (table["n_matched"] == 0).all() and (table["efficiency"] == 0.0).all()
    assert all(path.exists() for path in outputs(tmp_path).values())


def test_a_table_of_the_wrong_kind_is_named_in_the_error(inputs, tmp_path, capsys):
    files = {**inputs["files"], "estimation": inputs["files"]["truth"][:1]}
    assert run_summary({"files": files}, tmp_path) == 1
    error = capsys.readouterr().err
    assert "Estimation table" in error and "run_0001.parquet" in error and "dEdx" in error
    assert not (tmp_path / "summary.parquet").exists()


def test_clusters_need_a_purity_table(inputs, tmp_path, capsys):
    status = run_summary(inputs, tmp_path, extra=["--cluster", str(tmp_path / "c.h5")])
    assert status == 1
    assert "--purity-table" in capsys.readouterr().err
