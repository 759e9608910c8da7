"""The Kinematics phase on real solver parquet files: an empty run and a run with rows that
cannot give an excitation energy."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.provenance import current_provenance, read_provenance
from spyralflow.framework.status import ProgressLog
from spyralflow.io.pointcloud_file import ArtifactFormatError
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver.output import write_solver_output
from spyralflow.phases.kinematics import KinematicsPhase, ReactionParameters
from spyralflow.phases.kinematics.missing_mass import excitation_energy
from spyralflow.phases.kinematics.output import read_kinematics_counts
from spyralflow.phases.schemas import INTERP_SOLVER_COLUMNS, KINEMATICS_COLUMNS

REPOSITORY = Path(__file__).resolve().parents[2]
GAS_FILE = REPOSITORY / "config" / "targets" / "d2_300torr.json"


def _phase() -> KinematicsPhase:
    return KinematicsPhase(ReactionParameters(gas_data_path=GAS_FILE), DetectorParameters())


def _solver_file(path: Path, rows: list[dict]) -> Path:
    columns = {name: [row.get(name, 0.01) for row in rows] for name in INTERP_SOLVER_COLUMNS}
    for name in ("event", "cluster_index", "cluster_label", "orig_run", "orig_event"):
        columns[name] = [int(row.get(name, index)) for index, row in enumerate(rows)]
    write_solver_output(path, columns if rows else None, current_provenance("InterpSolver"))
    return path


def _run(tmp_path: Path, solver: Path) -> Path:
    phase = _phase()
    payload = PhaseResult(artifacts={"interp_solver": solver}, run_number=7)
    result = phase.run(payload, tmp_path / "workspace", ProgressLog(), np.random.default_rng(0))
    return result.artifacts["kinematics"]


def test_empty_run_keeps_the_schema(tmp_path: Path) -> None:
    output = _run(tmp_path, _solver_file(tmp_path / "run_0007_2H.parquet", []))
    assert output == tmp_path / "workspace" / "Kinematics" / "run_0007.parquet"
    table = pl.read_parquet(output)
    assert table.height == 0
    assert table.columns == list(KINEMATICS_COLUMNS)
    assert table["reason"].dtype == pl.String and table["ex"].dtype == pl.Float64
    assert read_kinematics_counts(output)["ok"] == 0
    assert read_provenance(output)["phase"] == "Kinematics"


def test_unfittable_rows_keep_their_place_with_a_reason(tmp_path: Path) -> None:
    good = {
        "vertex_z": 0.4,
        "sigma_vz": 0.002,
        "polar": 1.0,
        "sigma_polar": 0.01,
        "ke": 8.0,
        "sigma_ke": 0.1,
    }
    rows = [
        good,
        {**good, "ke": math.nan},
        {**good, "vertex_z": -0.05},
        {**good, "vertex_z": 1.2},
        {**good, "ke": 1.0e5},
        {**good, "sigma_ke": math.nan},
    ]
    output = _run(tmp_path, _solver_file(tmp_path / "run_0007_2H.parquet", rows))
    table = pl.read_parquet(output)
    assert table["reason"].to_list() == [
        "ok",
        "fit_not_finite",
        "vertex_outside_detector",
        "vertex_outside_detector",
        "missing_mass_unphysical",
        "ok",
    ]
    assert table["event"].to_list() == list(range(6))
    ex = table["ex"].to_numpy()
    assert np.isnan(ex[1:5]).all() and np.isfinite(ex[[0, 5]]).all()
    beam = table["beam_ke"][0]
    assert 170.0 < beam < 184.131
    phase = _phase()
    expected = excitation_energy(np.array([beam]), np.array([8.0]), np.array([1.0]), phase.masses())
    assert ex[0] == pytest.approx(expected[0], abs=1e-9)
    assert table["sigma_ex"][0] > 0.0 and math.isnan(table["sigma_ex"][5])
    assert table["sigma_beam_ke"][0] > 0.0
    assert 0.0 < table["cm_polar"][0] < math.pi
    assert read_kinematics_counts(output) == {
        "ok": 2,
        "fit_not_finite": 1,
        "vertex_outside_detector": 2,
        "beam_stopped": 0,
        "missing_mass_unphysical": 1,
    }


def test_a_table_without_solver_columns_is_named(tmp_path: Path) -> None:
    path = tmp_path / "run_0007_2H.parquet"
    pl.DataFrame({"event": [1], "ke": [2.0]}).write_parquet(path)
    with pytest.raises(ArtifactFormatError, match=r"run_0007_2H\.parquet.*lacks column"):
        _run(tmp_path, path)


def test_kinematics_phase_does_not_import_the_solver() -> None:
    """A Kinematics job needs the solver's target files, not its fit: importing the fit
    (scipy.optimize, numba) took a second of each job."""
    script = (
        "import sys; import spyralflow.phases.kinematics;"
        "print(sorted({'numba', 'scipy.optimize', 'spyralflow.phases.interp_solver.fit'}"
        " & set(sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"
