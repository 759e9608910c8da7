"""The shipped pipeline end to end: simulate, Pointcloud, Cluster, Estimation, InterpSolver,
Kinematics, the spectrum and the summary through real snakemake runs, on a small version of
config/config.yaml."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from workflow_runner import REPOSITORY, run_snakemake, run_why

from spyralflow.framework.provenance import read_provenance
from spyralflow.phases.interp_solver.targets import load_particle_gate
from spyralflow.phases.schemas import (
    ESTIMATION_COLUMNS,
    INTERP_SOLVER_COLUMNS,
    KINEMATICS_COLUMNS,
)
from spyralflow.summary.purity import TimeCalibration, cluster_purities

pytestmark = pytest.mark.slow

EVENTS_PER_RUN = 40
RUNS = (1, 2)
EJECTILE_ROW, RESIDUAL_ROW = 2, 3  # truth rows of attpc_engine's two-body events


def _small_default_config() -> dict:
    """The shipped config with fewer events and runs, and repository-absolute file paths."""
    config = yaml.safe_load((REPOSITORY / "config" / "config.yaml").read_text())
    config["runs"] = {"first": RUNS[0], "last": RUNS[-1]}
    config["simulation"]["events_per_run"] = EVENTS_PER_RUN
    for phase in config["phases"]:
        for block in phase["parameters"].values():
            for key, value in list(block.items()):
                if isinstance(value, str) and (REPOSITORY / value).is_file():
                    block[key] = str(REPOSITORY / value)
    return config


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("default")
    (root / "config.yaml").write_text(yaml.safe_dump(_small_default_config()))
    # A shared, loaded machine can take far longer than the helper's default 10 minutes.
    result = run_snakemake(root, "--cores", "2", timeout=3600)
    assert result.returncode == 0, result.output[-5000:]
    return root


def test_every_artifact_is_written_in_spyral_layouts(analysed: Path) -> None:
    workspace = analysed / "workspace"
    for run in RUNS:
        name = f"run_{run:04d}"
        estimation = pl.read_parquet(workspace / "Estimation" / f"{name}.parquet")
        assert estimation.columns == list(ESTIMATION_COLUMNS)
        assert estimation["direction"].dtype == pl.Int64
        solver = pl.read_parquet(workspace / "InterpSolver" / f"{name}_2H.parquet")
        assert solver.columns == list(INTERP_SOLVER_COLUMNS)
        assert len(solver) > 0 and len(estimation) >= len(solver)
        provenance = read_provenance(workspace / "Cluster" / f"{name}.h5")
        assert provenance["phase"] == "Cluster" and provenance["run"] == run
    for plot in ("pid.png", "kinematics.png", "residuals.png"):
        assert (workspace / "summary" / plot).stat().st_size > 10_000
    for run in RUNS:
        kinematics = pl.read_parquet(workspace / "Kinematics" / f"run_{run:04d}.parquet")
        solver = pl.read_parquet(workspace / "InterpSolver" / f"run_{run:04d}_2H.parquet")
        assert kinematics.columns == list(KINEMATICS_COLUMNS)
        assert kinematics.height == solver.height  # one row per fit, with or without an Ex
        assert (kinematics["reason"] == "ok").sum() > 0.8 * kinematics.height


def test_beam_energy_at_the_vertex_follows_the_simulation(analysed: Path) -> None:
    """The Kinematics phase's beam energy at the fitted vertex against the simulated beam
    energy at the true vertex (attpc_engine's energy loss): equal up to the vertex error."""
    workspace = analysed / "workspace"
    truth = pl.concat(
        pl.read_parquet(workspace / "simulation" / "truth" / f"run_{run:04d}.parquet")
        for run in RUNS
    ).filter(pl.col("particle") == 1)
    kinematics = pl.concat(
        pl.read_parquet(workspace / "Kinematics" / f"run_{run:04d}.parquet") for run in RUNS
    ).filter(pl.col("reason") == "ok")
    joined = kinematics.join(
        truth, left_on=["orig_run", "orig_event"], right_on=["run", "event"], how="inner"
    )
    difference = (joined["beam_ke"] - joined["kinetic_energy"]).abs()
    # 16C loses about 11 MeV per metre of gas: 0.1 MeV is 1 cm of vertex error.
    assert difference.median() < 0.1


def test_spectrum_separates_the_two_states(analysed: Path) -> None:
    spectrum = analysed / "workspace" / "spectrum"
    peaks = pl.read_parquet(spectrum / "peaks.parquet")
    assert peaks["state"].to_list() == [0.0, 1.766]
    assert peaks["centroid"].to_list() == pytest.approx([0.0, 1.766], abs=0.3)
    # Visibly separated: the centroids lie more than two widths apart.
    assert peaks["centroid"][1] - peaks["centroid"][0] > 2.0 * peaks["width"].max()
    for plot in ("excitation.png", "ex_vs_cm.png", "cm_coverage.png"):
        assert (spectrum / plot).stat().st_size > 10_000
    ex_truth = pl.read_parquet(analysed / "workspace" / "summary" / "ex_truth.parquet")
    assert ex_truth["state"].to_list() == pytest.approx([0.0, 1.766], abs=0.01)
    assert ex_truth["bias_median"].abs().max() < 0.3


def test_summary_shows_the_fit_works(analysed: Path) -> None:
    summary = pl.read_parquet(analysed / "workspace" / "summary" / "summary.parquet")
    overall = summary.filter(pl.col("scope") == "all")
    solver_polar = overall.filter((pl.col("stage") == "solver") & (pl.col("quantity") == "polar"))
    assert solver_polar["efficiency"][0] > 0.3
    assert solver_polar["resolution_robust"][0] < 1.0  # degrees
    assert abs(solver_polar["bias_median"][0]) < 0.5
    estimate_polar = overall.filter(
        (pl.col("stage") == "estimation") & (pl.col("quantity") == "polar")
    )
    # The fit must improve on the estimates it starts from.
    assert solver_polar["resolution_robust"][0] < estimate_polar["resolution_robust"][0]
    assert solver_polar["std"][0] < estimate_polar["std"][0]


def test_the_shipped_gate_keeps_the_16c_recoils_out(analysed: Path) -> None:
    """Every Estimation row labelled by the truth: the deuteron gate the solver applies takes
    the deuterons and none of the 16C recoils (issue 13)."""
    workspace = analysed / "workspace"
    truth = pl.concat(
        pl.read_parquet(workspace / "simulation" / "truth" / f"run_{run:04d}.parquet")
        for run in RUNS
    )
    clusters = cluster_purities(
        [workspace / "Cluster" / f"run_{run:04d}.h5" for run in RUNS],
        truth,
        [EJECTILE_ROW],
        TimeCalibration(),
    ).rename({"run": "orig_run", "event": "orig_event"})
    estimation = pl.concat(
        pl.read_parquet(workspace / "Estimation" / f"run_{run:04d}.parquet") for run in RUNS
    ).join(clusters, on=["orig_run", "orig_event", "cluster_label"])
    gate = load_particle_gate(REPOSITORY / "config" / "targets" / "deuteron_pid.json")
    inside = gate.contains(estimation["dEdx"].to_numpy(), estimation["brho"].to_numpy())
    estimation = estimation.with_columns(pl.Series("inside", inside))
    recoils = estimation.filter(pl.col("majority") == RESIDUAL_ROW)
    deuterons = estimation.filter(pl.col("majority") == EJECTILE_ROW)
    assert recoils.height > 0, "the sample holds no recoil cluster to test the gate with"
    assert recoils["inside"].sum() == 0, recoils.select("dEdx", "brho")
    assert deuterons["inside"].mean() > 0.97


def test_second_run_does_nothing(analysed: Path) -> None:
    result = run_snakemake(analysed, "--cores", "2")
    assert result.returncode == 0 and result.nothing_to_do, result.output[-3000:]


def test_corrupt_run_fails_alone_with_a_clear_message(analysed: Path, tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    shutil.copytree(analysed / "workspace" / "simulation" / "traces", traces)
    corrupt = traces / "run_0002.h5"
    corrupt.write_bytes(corrupt.read_bytes()[:4096])
    config = _small_default_config()
    config.update(
        input_folder=str(traces), simulation={"enabled": False}, summary={"enabled": False}
    )
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "--cores", "2", "--keep-going")
    assert result.returncode != 0
    workspace = tmp_path / "workspace"
    assert (workspace / "InterpSolver" / "run_0001_2H.parquet").exists()
    assert not (workspace / "Pointcloud" / "run_0002.h5").exists()
    log = (workspace / "logs" / "Pointcloud" / "run_0002.log").read_text()
    assert "run 2 (run_0002), phase Pointcloud failed" in log
    assert str(corrupt) in log


def test_lint_of_the_shipped_workflow_is_clean() -> None:
    # In the repository itself: the small copy above uses absolute paths, which lint flags.
    result = run_snakemake(REPOSITORY, "--lint", configfile="config/config.yaml")
    assert result.returncode == 0
    assert "Congratulations, your workflow is in a good condition!" in result.output


def test_report_shows_the_tables_and_plots(analysed: Path) -> None:
    result = run_snakemake(analysed, "--report", "report.html")
    assert result.returncode == 0, result.output[-3000:]
    page = (analysed / "report.html").read_text()
    for name in (
        "pid.png",
        "kinematics.png",
        "residuals.png",
        "pulls.png",
        "binned.png",
        "excitation.png",
        "ex_vs_cm.png",
        "cm_coverage.png",
    ):
        assert f"{name}" in page, name
    # The tables are embedded as base64 HTML pages: decode them and find their columns.
    embedded = [
        base64.b64decode(data).decode(errors="replace")
        for data in re.findall(
            r"data:text/html;charset=[\w-]+;filename=[^;]+;base64,([A-Za-z0-9+/=]+)", page
        )
    ]
    tables = [text for text in embedded if "<table>" in text]
    assert any("centroid" in text and "fwhm" in text for text in tables)  # peaks
    assert any("resolution_robust" in text and "efficiency" in text for text in tables)
    assert any("pull_std" in text for text in tables)
    assert len(tables) >= 5, [text[:200] for text in tables]


def test_why_names_the_simulation_phase_and_summary_changes(analysed: Path) -> None:
    fresh = run_why(analysed)
    assert fresh.returncode == 0, fresh.stderr
    steps = [
        "simulation",
        "Pointcloud",
        "Cluster",
        "Estimation",
        "InterpSolver",
        "Kinematics",
        "summary",
    ]
    assert [line.split(":")[0] for line in fresh.stdout.splitlines()] == steps
    assert all(": no change (" in line for line in fresh.stdout.splitlines()), fresh.stdout
    config = yaml.safe_load((analysed / "config.yaml").read_text())
    config["simulation"]["events_per_run"] = EVENTS_PER_RUN + 10
    config["phases"][1]["parameters"]["cluster_params"]["min_cloud_size"] = 60
    (analysed / "edited.yaml").write_text(yaml.safe_dump(config))
    edited = run_why(analysed, "edited.yaml")
    assert edited.returncode == 0, edited.stderr
    lines = edited.stdout.splitlines()
    change = f"events_per_run {EVENTS_PER_RUN} -> {EVENTS_PER_RUN + 10}"
    assert lines[0].startswith(f"simulation: {change} (")
    assert lines[1] == "Pointcloud: no change of its own; reruns after simulation"
    assert lines[2].startswith("Cluster: cluster_params.min_cloud_size 50 -> 60 (")
    assert lines[3:6] == [
        f"{phase}: no change of its own; reruns after simulation, Cluster"
        for phase in ("Estimation", "InterpSolver", "Kinematics")
    ]
    assert lines[6].startswith(f"summary: simulation.{change} (")


def test_kinematics_edit_reruns_only_it_and_what_follows(analysed: Path) -> None:
    """Near the end of the module: it edits the config (and restores it)."""
    path = analysed / "config.yaml"
    original = path.read_text()
    config = yaml.safe_load(original)
    kinematics = next(phase for phase in config["phases"] if "Kinematics" in phase["class"])
    kinematics["parameters"]["reaction_params"]["beam_energy"] = 184.0
    path.write_text(yaml.safe_dump(config))
    try:
        result = run_snakemake(analysed, "--cores", "2")
        assert result.returncode == 0, result.output[-3000:]
        counts = result.job_counts
        # The phase's (empty) asset manifest depends on its parameters too.
        assert counts == {
            "Kinematics_assets": 1,
            "Kinematics": len(RUNS),
            "spectrum": 1,
            "summary": 1,
            "all": 1,
        }, counts
    finally:
        path.write_text(original)


def test_estimation_edit_reruns_what_follows_and_refuses_nothing(analysed: Path) -> None:
    """Last in the module (it leaves the config edited). Estimation's summary JSON keeps its
    provenance in a sidecar, which Snakemake does not remove before the rerun: the new summary
    must carry the new lineage, or InterpSolver refuses it as stale."""
    path = analysed / "config.yaml"
    config = yaml.safe_load(path.read_text())
    estimation = next(phase for phase in config["phases"] if "Estimation" in phase["class"])
    estimation["parameters"]["estimate_params"]["min_total_trajectory_points"] += 1
    path.write_text(yaml.safe_dump(config))
    result = run_snakemake(analysed, "--cores", "2")
    assert result.returncode == 0, result.output[-3000:]
    counts = result.job_counts
    for phase in ("Estimation", "InterpSolver", "Kinematics"):
        assert counts.get(phase) == len(RUNS), counts
    assert "Pointcloud" not in counts and "Cluster" not in counts, counts
    for run in RUNS:
        folder = analysed / "workspace" / "Estimation"
        table = read_provenance(folder / f"run_{run:04d}.parquet")
        summary = read_provenance(folder / f"run_{run:04d}_summary.json")
        assert summary["lineage"] == table["lineage"]
