"""The InterpSolver phase on real files: gating, fitting, empty runs, errors, the job runner."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from interp_helpers import TrueTrack, brho_of, mesh_track_points, small_parameters, write_pid

from spyralflow.framework.job import PhaseJob, create_assets, run_phase
from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.io.cluster_file import ClusterWriter
from spyralflow.io.estimation_file import write_estimation
from spyralflow.io.pointcloud_file import ArtifactFormatError
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver import InterpSolverPhase, SolverParameters
from spyralflow.phases.interp_solver.gating import ic_window_mask
from spyralflow.phases.interp_solver.mesh import MeshError
from spyralflow.phases.interp_solver.output import INTERP_SOLVER_SCHEMA, read_fit_counts
from spyralflow.phases.interp_solver.parameters import SolverParameterError
from spyralflow.phases.interp_solver.targets import TargetFileError, nucleus
from spyralflow.phases.schemas import ESTIMATION_COLUMNS, INTERP_SOLVER_COLUMNS

DEUTERON_MASS = nucleus(1, 2).mass
RUN = 7


class Messages:
    """A message queue that keeps what it receives."""

    def __init__(self) -> None:
        self.received = []

    def put(self, message) -> None:
        self.received.append(message)


def estimation_row(event: int, cluster_index: int, track: TrueTrack, **changes) -> dict:
    row = dict.fromkeys(ESTIMATION_COLUMNS, 0.0)
    row.update(
        event=event,
        cluster_index=cluster_index,
        cluster_label=cluster_index,
        orig_run=RUN,
        orig_event=event + 1000,
        ic_amplitude=-1.0,
        polar=track.polar + 0.015,
        azimuthal=(track.azimuthal + 0.02) % (2 * math.pi),
        brho=brho_of(track.kinetic_energy, DEUTERON_MASS) * 0.97,
        vertex_x=track.vertex_x * 1000 + 1.0,
        vertex_y=track.vertex_y * 1000 - 1.0,
        vertex_z=track.vertex_z * 1000 + 6.0,
        dEdx=300.0,
        direction=0,
    )
    row.update(changes)
    return row


def write_inputs(folder: Path, mesh, rows_and_tracks) -> dict[str, Path]:
    """Cluster and estimation files; each event holds one cluster along its track."""
    rng = np.random.default_rng(4)
    cluster_path = folder / f"run_{RUN:04d}.h5"
    estimation_path = folder / f"run_{RUN:04d}.parquet"
    events = [row["event"] for row, _ in rows_and_tracks]
    with ClusterWriter(
        cluster_path, Provenance("Cluster"), min(events, default=0), max(events, default=0)
    ) as writer:
        for row, track in rows_and_tracks:
            cloud = mesh_track_points(mesh, track, rng)
            writer.write(row["event"], {"orig_run": RUN}, [(row["cluster_label"], 0, cloud)])
    columns = {name: [row[name] for row, _ in rows_and_tracks] for name in ESTIMATION_COLUMNS}
    write_estimation(estimation_path, columns, Provenance("Estimation"))
    return {"estimation": estimation_path, "cluster": cluster_path}


TRACKS = [
    TrueTrack(4.2, math.radians(58.0), 0.3, 0.002, 0.001, 0.30),
    TrueTrack(14.0, math.radians(33.0), 3.9, -0.003, 0.0, 0.15),
    TrueTrack(9.5, math.radians(70.0), 5.5, 0.0, -0.002, 0.55),
]


def run_solver(phase, workspace, artifacts):
    payload = PhaseResult(artifacts=artifacts, successful=True, run_number=RUN)
    messages = Messages()
    result = phase.run(payload, workspace, messages, np.random.default_rng(0))
    return result, messages


def test_fits_the_gated_clusters(mesh_workspace, tmp_path):
    mesh, phase = mesh_workspace.mesh, mesh_workspace.phase
    rows_and_tracks = [(estimation_row(i, 0, track), track) for i, track in enumerate(TRACKS)]
    rows_and_tracks.append((estimation_row(3, 0, TRACKS[0], dEdx=9000.0), TRACKS[0]))
    rows_and_tracks.append((estimation_row(4, 0, TRACKS[1], polar=math.radians(85.0)), TRACKS[1]))
    artifacts = write_inputs(tmp_path, mesh, rows_and_tracks)
    result, messages = run_solver(phase, mesh_workspace.workspace, artifacts)
    path = result.artifacts["interp_solver"]
    assert path.name == f"run_{RUN:04d}_2H.parquet"
    table = pq.read_table(path)
    assert table.schema.remove_metadata() == INTERP_SOLVER_SCHEMA
    assert PROVENANCE_KEY.encode() in table.schema.metadata
    frame = table.to_pydict()
    assert frame["event"] == [0, 1, 2]
    assert frame["orig_event"] == [1000, 1001, 1002]
    for row, track in enumerate(TRACKS):
        assert frame["ke"][row] == pytest.approx(track.kinetic_energy, rel=0.01)
        assert frame["polar"][row] == pytest.approx(track.polar, abs=math.radians(0.15))
        assert frame["vertex_z"][row] == pytest.approx(track.vertex_z, abs=0.003)  # metres
        assert frame["brho"][row] == pytest.approx(
            brho_of(track.kinetic_energy, DEUTERON_MASS), rel=0.01
        )
    counts = read_fit_counts(path)
    assert counts["estimation_rows"] == 5 and counts["selected"] == 4
    assert counts["fitted"] == 3 and counts["skipped_outside_mesh"] == 1
    assert sum(message.increment for message in messages.received) == 4
    assert all(message.total == 4 for message in messages.received)


def test_tracks_beyond_the_mesh_are_counted_and_named(mesh_workspace, tmp_path, caplog):
    """A 25 MeV track fitted with a mesh that ends at 20 MeV stops at the edge; an estimate
    beyond the mesh is skipped. Both are counted, and one warning names the parameter."""
    workspace = tmp_path / "workspace"
    phase = InterpSolverPhase(small_parameters(tmp_path, interp_ke_max=20.0), DetectorParameters())
    assert phase.create_assets(workspace)
    fast = TrueTrack(25.0, math.radians(45.0), 1.0, 0.0, 0.0, 0.3)
    rows_and_tracks = [
        (estimation_row(0, 0, fast, brho=brho_of(19.0, DEUTERON_MASS)), fast),
        (estimation_row(1, 0, fast), fast),
        (estimation_row(2, 0, TRACKS[0]), TRACKS[0]),
    ]
    # The clouds come from the 30 MeV mesh, along the true tracks.
    artifacts = write_inputs(tmp_path, mesh_workspace.mesh, rows_and_tracks)
    with caplog.at_level("WARNING", logger="spyralflow.phases.interp_solver.phase"):
        result, _ = run_solver(phase, workspace, artifacts)
    frame = pq.read_table(result.artifacts["interp_solver"]).to_pydict()
    assert frame["event"] == [0, 2]
    assert frame["ke"][0] == pytest.approx(20.0, rel=1e-5)
    assert frame["ke"][1] < 19.0  # inside the mesh: not on its edge
    counts = read_fit_counts(result.artifacts["interp_solver"])
    assert counts["at_mesh_energy_edge"] == 1 and counts["skipped_outside_mesh"] == 1
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert f"run {RUN}: 1 estimate(s) outside the mesh (0.5-20 MeV" in warnings[0]
    assert "1 fit(s) ended at its highest kinetic energy" in warnings[0]
    assert "solver_params.interp_ke_max" in warnings[0]


def test_no_mesh_warning_when_the_mesh_covers_the_tracks(mesh_workspace, tmp_path, caplog):
    artifacts = write_inputs(
        tmp_path, mesh_workspace.mesh, [(estimation_row(0, 0, TRACKS[1]), TRACKS[1])]
    )
    with caplog.at_level("WARNING", logger="spyralflow.phases.interp_solver.phase"):
        result, _ = run_solver(mesh_workspace.phase, mesh_workspace.workspace, artifacts)
    counts = read_fit_counts(result.artifacts["interp_solver"])
    assert counts["fitted"] == 1 and counts.get("at_mesh_energy_edge", 0) == 0
    assert not caplog.records


def test_the_solver_memory_maps_the_mesh(mesh_workspace, tmp_path, monkeypatch):
    from spyralflow.phases.interp_solver import phase as phase_module

    loaded = []
    original = phase_module.load_mesh

    def recording_load_mesh(*arguments):
        loaded.append(original(*arguments))
        return loaded[-1]

    monkeypatch.setattr(phase_module, "load_mesh", recording_load_mesh)
    rows = [(estimation_row(0, 0, TRACKS[1]), TRACKS[1])]
    artifacts = write_inputs(tmp_path, mesh_workspace.mesh, rows)
    run_solver(mesh_workspace.phase, mesh_workspace.workspace, artifacts)
    (mesh,) = loaded
    assert isinstance(mesh.positions, np.memmap) and mesh.positions.mode == "r"
    assert not mesh.positions.flags.writeable and not mesh.positions.flags.owndata


def assert_empty_output(path: Path) -> None:
    table = pq.read_table(path)
    assert table.num_rows == 0
    assert table.schema.remove_metadata() == INTERP_SOLVER_SCHEMA
    assert list(table.column_names) == list(INTERP_SOLVER_COLUMNS)
    assert PROVENANCE_KEY.encode() in table.schema.metadata


def test_empty_estimation_gives_an_empty_parquet_with_the_schema(mesh_workspace, tmp_path):
    artifacts = write_inputs(tmp_path, mesh_workspace.mesh, [])
    result, _ = run_solver(mesh_workspace.phase, mesh_workspace.workspace, artifacts)
    assert_empty_output(result.artifacts["interp_solver"])


def test_spyral_estimation_without_columns_is_empty(mesh_workspace, tmp_path):
    artifacts = write_inputs(tmp_path, mesh_workspace.mesh, [])
    pq.write_table(pa.table({}), artifacts["estimation"])
    result, _ = run_solver(mesh_workspace.phase, mesh_workspace.workspace, artifacts)
    assert_empty_output(result.artifacts["interp_solver"])


def test_nothing_in_the_gates_needs_no_mesh(mesh_workspace, tmp_path):
    rows = [(estimation_row(0, 0, TRACKS[0], ic_amplitude=-1.0), TRACKS[0])]
    artifacts = write_inputs(tmp_path, mesh_workspace.mesh, rows)
    gated = dataclasses.replace(mesh_workspace.phase.solver_params, ic_min_val=900.0)
    phase = InterpSolverPhase(gated, DetectorParameters())
    empty_workspace = tmp_path / "no_mesh_here"
    result, _ = run_solver(phase, empty_workspace, artifacts)
    assert_empty_output(result.artifacts["interp_solver"])
    assert read_fit_counts(result.artifacts["interp_solver"])["selected"] == 0


def test_missing_mesh_is_a_clear_error(mesh_workspace, tmp_path):
    artifacts = write_inputs(
        tmp_path, mesh_workspace.mesh, [(estimation_row(0, 0, TRACKS[0]), TRACKS[0])]
    )
    with pytest.raises(MeshError, match="asset rule"):
        run_solver(mesh_workspace.phase, tmp_path / "workspace", artifacts)


def test_estimation_naming_an_absent_cluster_is_an_error(mesh_workspace, tmp_path):
    artifacts = write_inputs(
        tmp_path, mesh_workspace.mesh, [(estimation_row(0, 0, TRACKS[0]), TRACKS[0])]
    )
    columns = pq.read_table(artifacts["estimation"]).to_pydict()
    columns["cluster_index"] = [3]
    write_estimation(artifacts["estimation"], columns, Provenance("Estimation"))
    with pytest.raises(ArtifactFormatError, match="event_0/cluster_3"):
        run_solver(mesh_workspace.phase, mesh_workspace.workspace, artifacts)


def test_job_runner_builds_assets_and_runs_from_plain_parameters(
    mesh_workspace, tmp_path, monkeypatch
):
    """As the generated rules do: parameters as plain config values, assets, then one run,
    whose create_assets (called as Spyral's pipeline calls it) never rebuilds the mesh."""
    from spyralflow.phases.interp_solver import phase as phase_module

    parameters = dataclasses.asdict(mesh_workspace.phase.solver_params)
    parameters = {
        key: str(value) if isinstance(value, Path) else value for key, value in parameters.items()
    }
    job = PhaseJob(
        class_path="spyralflow.phases.interp_solver.InterpSolverPhase",
        parameters={"solver_params": parameters, "det_params": {}},
        code_hash="test",
        workspace=mesh_workspace.workspace,
        seed=1,
    )
    manifest = tmp_path / "manifest.json"
    create_assets(job, manifest)
    listed = json.loads(manifest.read_text())["files"]
    assert mesh_workspace.phase.mesh_files(mesh_workspace.workspace).positions.name in listed
    artifacts = write_inputs(
        tmp_path, mesh_workspace.mesh, [(estimation_row(0, 0, TRACKS[1]), TRACKS[1])]
    )
    output = mesh_workspace.workspace / "InterpSolver" / f"run_{RUN:04d}_2H.parquet"
    mesh_file = mesh_workspace.phase.mesh_files(mesh_workspace.workspace).positions
    built = mesh_file.stat().st_mtime_ns
    rebuilds = []
    monkeypatch.setattr(phase_module, "build_mesh", lambda *args: rebuilds.append(args))
    run_phase(job, RUN, artifacts, {"interp_solver": output})
    assert pq.read_table(output).num_rows == 1
    assert rebuilds == [] and mesh_file.stat().st_mtime_ns == built


def test_ic_window_is_strict_and_optional():
    amplitudes = np.array([-1.0, 900.0, 901.0, 1349.0, 1350.0])
    assert ic_window_mask(amplitudes, 900.0, 1350.0).tolist() == [False, False, True, True, False]
    assert ic_window_mask(amplitudes, None, None).all()
    assert ic_window_mask(amplitudes, None, 0.0).tolist() == [True, False, False, False, False]


def test_custom_gate_axes(mesh_workspace, tmp_path):
    gate = write_pid(
        tmp_path / "gate.json",
        vertices=[[0.0, 0.0], [1.0, 0.0], [1.0, 0.5], [0.0, 0.5]],
        axes=("polar", "vertex_z"),
    )
    phase = InterpSolverPhase(
        dataclasses.replace(mesh_workspace.phase.solver_params, particle_id_filename=gate),
        DetectorParameters(),
    )
    depths = (300.0, 150.0, 600.0)
    rows = [
        (estimation_row(i, 0, track, vertex_z=depth), track)
        for i, (track, depth) in enumerate(zip(TRACKS, depths, strict=True))
    ]
    # vertex_z is in mm in the estimation: the gate [0, 0.5] keeps none of them.
    artifacts = write_inputs(tmp_path, mesh_workspace.mesh, rows)
    result, _ = run_solver(phase, mesh_workspace.workspace, artifacts)
    assert read_fit_counts(result.artifacts["interp_solver"])["selected"] == 0


def test_bad_parameters_and_files_are_named(tmp_path):
    with pytest.raises(SolverParameterError, match="fit_method"):
        SolverParameters(fit_method="simplex")
    with pytest.raises(SolverParameterError, match="interp_ke_bins"):
        SolverParameters(interp_ke_bins=1)
    with pytest.raises(SolverParameterError, match="beam_sigma"):
        SolverParameters(beam_sigma=0.0)
    # The files are read when the phase is built (at plan time), naming the parameter.
    parameters = small_parameters(tmp_path, particle_id_filename=tmp_path / "missing.json")
    with pytest.raises(TargetFileError, match=r"particle_id_filename.*missing\.json"):
        InterpSolverPhase(parameters, DetectorParameters())
    solid = tmp_path / "solid.json"
    solid.write_text(json.dumps({"compound": [[6, 12, 1]], "thickness(ug/cm^2)": 50.0}))
    with pytest.raises(TargetFileError, match=r"solver_params\.gas_data_path.*solid"):
        InterpSolverPhase(small_parameters(tmp_path, gas_data_path=solid), DetectorParameters())


def test_build_threads_follow_the_job(monkeypatch):
    from spyralflow.phases.interp_solver.phase import build_threads

    monkeypatch.delenv("SPYRALFLOW_THREADS", raising=False)
    monkeypatch.delenv("SNAKEMAKE_THREADS", raising=False)
    assert build_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("SNAKEMAKE_THREADS", "5")
    assert build_threads() == 5
    monkeypatch.setenv("SPYRALFLOW_THREADS", "3")
    assert build_threads() == 3
