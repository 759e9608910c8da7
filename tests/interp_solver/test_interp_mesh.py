"""The trajectory mesh asset: its hash, its files, the build, reuse and memory-mapping."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from interp_helpers import small_parameters, write_gas, write_pid

from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver import InterpSolverPhase
from spyralflow.phases.interp_solver import mesh as mesh_module
from spyralflow.phases.interp_solver.mesh import (
    MeshError,
    MeshFiles,
    MeshSpecification,
    build_mesh,
    load_mesh,
    mesh_code_tag,
)
from spyralflow.phases.interp_solver.mesh_builder import sample_times
from spyralflow.phases.interp_solver.motion import build_transport_model, integrate_trajectory
from spyralflow.phases.interp_solver.targets import load_gas_target, nucleus


def digest_of(folder: Path, det_changes=None, **changes) -> str:
    phase = InterpSolverPhase(
        small_parameters(folder, **changes), DetectorParameters(**(det_changes or {}))
    )
    return phase.mesh_specification().digest


MESH_CHANGES = {
    "n_time_steps": 151,
    "interp_ke_min": 0.6,
    "interp_ke_max": 31.0,
    "interp_ke_bins": 13,
    "interp_polar_min": 11.0,
    "interp_polar_max": 81.0,
    "interp_polar_bins": 11,
}


@pytest.mark.parametrize(("name", "value"), sorted(MESH_CHANGES.items()))
def test_hash_changes_with_each_mesh_parameter(tmp_path, name, value):
    assert digest_of(tmp_path, **{name: value}) != digest_of(tmp_path)


@pytest.mark.parametrize("det_changes", [{"magnetic_field": 2.0}, {"electric_field": 60000.0}])
def test_hash_changes_with_the_fields(tmp_path, det_changes):
    assert digest_of(tmp_path, det_changes) != digest_of(tmp_path)


def test_hash_changes_with_particle_and_gas(tmp_path):
    reference = digest_of(tmp_path)
    assert digest_of(tmp_path, particle_id_filename=write_pid(tmp_path / "p.json", z=1, a=1)) != (
        reference
    )
    assert digest_of(tmp_path, gas_data_path=write_gas(tmp_path / "g.json", 250.0)) != reference
    other = tmp_path / "h2.json"
    other.write_text(json.dumps({"compound": [[1, 1, 2]], "pressure(Torr)": 300.0}))
    assert digest_of(tmp_path, gas_data_path=other) != reference
    mixture = tmp_path / "mix.json"
    mixture.write_text(
        json.dumps(
            {
                "components": [[[1, 2, 2]], [[6, 12, 1], [1, 1, 4]]],
                "volume_fractions": [0.9, 0.1],
                "pressure(Torr)": 300.0,
            }
        )
    )
    assert digest_of(tmp_path, gas_data_path=mixture) != reference


def test_hash_ignores_what_the_mesh_does_not_depend_on(tmp_path):
    reference = digest_of(tmp_path)
    same_gas = tmp_path / "elsewhere" / "same_gas.json"
    same_gas.parent.mkdir()
    same_gas.write_text('{ "pressure(Torr)": 300, "compound": [[1, 2, 2.0]] }\n')
    other_gate = write_pid(tmp_path / "gate.json", vertices=[[0, 0], [10, 0], [10, 1]])
    assert digest_of(tmp_path, gas_data_path=same_gas) == reference
    assert digest_of(tmp_path, particle_id_filename=other_gate) == reference
    assert digest_of(tmp_path, ic_min_val=900.0, ic_max_val=1350.0) == reference
    assert digest_of(tmp_path, fit_method="leastsq", fit_azimuthal=False) == reference
    assert digest_of(tmp_path, beam_sigma=7.0) == reference
    assert digest_of(tmp_path, {"detector_length": 900.0, "beam_region_radius": 10.0}) == (
        reference
    )


def test_hash_changes_with_the_building_code(tmp_path, monkeypatch):
    copy = tmp_path / "sources"
    copy.mkdir()
    for name in mesh_module._BUILD_SOURCES:
        shutil.copy(Path(mesh_module.__file__).with_name(name), copy / name)
    assert mesh_code_tag(copy) == mesh_code_tag()
    builder = copy / mesh_module._BUILD_SOURCES[0]
    builder.write_text(builder.read_text() + "\n# a change\n")
    assert mesh_code_tag(copy) != mesh_code_tag()
    monkeypatch.setattr(mesh_module.metadata, "version", lambda package: "0.0-test")
    assert mesh_code_tag() != mesh_code_tag(copy)
    specification = InterpSolverPhase(
        small_parameters(tmp_path), DetectorParameters()
    ).mesh_specification()
    assert dataclasses.replace(specification, code_tag="other").digest != specification.digest


def test_built_mesh_files_and_content(mesh_workspace):
    phase, mesh = mesh_workspace.phase, mesh_workspace.mesh
    files = phase.mesh_files(mesh_workspace.workspace)
    assert files.positions.name == f"mesh-{phase.mesh_specification().digest}.npy"
    assert files.complete()
    assert not [path for path in files.folder.iterdir() if path.name.startswith(".")]
    content = json.loads(files.metadata.read_text())
    assert content["hash"] == phase.mesh_specification().digest
    assert content["shape"] == [12, 10, 150, 3]
    assert mesh.times[0] == 0.0 and np.all(np.diff(mesh.times) > 0.0)
    # Each node is the direct integration of its (energy, polar), sampled at the mesh times.
    parameters = phase.solver_params
    model = build_transport_model(
        load_gas_target(parameters.gas_data_path), nucleus(1, 2), 2.85, 45000.0, 30.0
    )
    energies = np.linspace(0.5, 30.0, 12)
    polars = np.radians(np.linspace(10.0, 80.0, 10))
    for i, j in ((0, 0), (11, 9), (5, 3), (2, 8)):
        expected = np.zeros((mesh.times.size, 3))
        length, _ = integrate_trajectory(
            energies[i], polars[j], mesh.times, expected, *model.kernel_arguments()
        )
        np.testing.assert_allclose(mesh.positions[i, j], expected, rtol=1e-6, atol=1e-7)
        assert mesh.lengths[i, j] == length
        assert np.all(mesh.positions[i, j, length - 1 :] == mesh.positions[i, j, -1])


def test_build_does_not_depend_on_threads(tmp_path):
    gas = write_gas(tmp_path / "gas.json")
    specification = MeshSpecification(
        1,
        2,
        {"kind": "GasTarget", "compound": [[1, 2, 2]], "pressure_torr": 300.0},
        2.85,
        45000.0,
        1.0,
        20.0,
        5,
        20.0,
        70.0,
        4,
        60,
    )
    target, particle = load_gas_target(gas), nucleus(1, 2)
    one = build_mesh(specification, target, particle, tmp_path / "one", threads=1)
    two = build_mesh(specification, target, particle, tmp_path / "two", threads=2)
    assert one.positions.read_bytes() == two.positions.read_bytes()
    assert one.lengths.read_bytes() == two.lengths.read_bytes()


def test_create_assets_reuses_and_a_change_makes_a_new_mesh(mesh_workspace, tmp_path):
    phase, workspace = mesh_workspace.phase, mesh_workspace.workspace
    files = phase.mesh_files(workspace)
    stamp = files.positions.stat().st_mtime_ns
    assert phase.create_assets(workspace)
    assert files.positions.stat().st_mtime_ns == stamp
    changed = InterpSolverPhase(
        dataclasses.replace(phase.solver_params, n_time_steps=40), DetectorParameters()
    )
    assert changed.create_assets(workspace)
    other = changed.mesh_files(workspace)
    assert other.positions != files.positions and other.complete()
    assert files.positions.stat().st_mtime_ns == stamp


def test_mesh_is_memory_mapped_read_only(mesh_workspace):
    mesh = mesh_workspace.mesh
    assert isinstance(mesh.positions, np.memmap)
    assert not mesh.positions.flags.writeable
    with pytest.raises(ValueError):
        mesh.positions[0, 0, 0, 0] = 1.0
    mapped = Path("/proc/self/maps").read_text()
    assert str(mesh.path.resolve()) in mapped


def test_missing_or_mismatched_mesh_is_a_clear_error(mesh_workspace, tmp_path):
    specification = mesh_workspace.phase.mesh_specification()
    with pytest.raises(MeshError, match="asset rule"):
        load_mesh(specification, tmp_path)
    files = mesh_workspace.phase.mesh_files(mesh_workspace.workspace)
    copy = MeshFiles(tmp_path, specification.digest)
    for source, target in zip(
        (files.positions, files.lengths, files.metadata),
        (copy.positions, copy.lengths, copy.metadata),
        strict=True,
    ):
        shutil.copy(source, target)
    content = json.loads(copy.metadata.read_text())
    content["specification"]["ke_bins"] = 99
    copy.metadata.write_text(json.dumps(content))
    with pytest.raises(MeshError, match="does not match"):
        load_mesh(specification, tmp_path)


def test_sample_times_give_equal_steps_to_the_fastest_running_ion():
    ends = np.array([10.0, 4.0, 10.0, 1.0])
    speeds = np.array([1.0, 2.0, 0.5, 3.0])
    times = sample_times(ends, speeds, 57)
    assert times[0] == 0.0 and times[-1] == pytest.approx(10.0)
    assert np.all(np.diff(times) > 0.0)
    # The fastest ion running at t: speed 3 until 1, then 2 until 4, then 1.
    fastest = np.where(times[:-1] < 1.0, 3.0, np.where(times[:-1] < 4.0, 2.0, 1.0))
    steps = np.diff(times) * fastest
    total = 3.0 * 1.0 + 2.0 * 3.0 + 1.0 * 6.0
    inside = (np.abs(times[:-1] - 1.0) > 0.3) & (np.abs(times[:-1] - 4.0) > 0.3)
    np.testing.assert_allclose(steps[inside], total / 56, rtol=1e-9)
    assert math.isclose(sum(np.diff(times)), 10.0)
