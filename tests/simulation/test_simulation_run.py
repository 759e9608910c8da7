"""``spyralflow simulate`` on a few events: layouts, truth, engine clouds, reproducibility."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import polars as pl
import pytest

from spyralflow.cli import main
from spyralflow.framework.provenance import read_provenance
from spyralflow.io.pointcloud_file import iter_pointclouds, read_event_range
from spyralflow.io.traces import open_trace_reader
from spyralflow.simulation.hardware import pad_from_address
from spyralflow.simulation.settings import MERGER_1_0, MERGER_2_0

N_EVENTS = 6
RUN = 3
SEED = 11
SETTINGS = {"enabled": True, "events_per_run": N_EVENTS}


@dataclass
class RunFiles:
    traces: Path
    pointcloud: Path
    truth: Path
    kinematics: Path

    def all(self) -> list[Path]:
        return [self.traces, self.pointcloud, self.truth, self.kinematics]


def simulate(
    folder: Path, settings: dict = SETTINGS, seed: int = SEED, run: int = RUN, status: int = 0
) -> RunFiles:
    name = f"run_{run:04d}"
    files = RunFiles(
        traces=folder / "traces" / f"{name}.h5",
        pointcloud=folder / "engine" / f"{name}.h5",
        truth=folder / "truth" / f"{name}.parquet",
        kinematics=folder / "kinematics" / f"{name}.h5",
    )
    returned = main(
        [
            "simulate",
            "--settings",
            json.dumps(settings),
            "--seed",
            str(seed),
            "--run",
            str(run),
            "--traces",
            str(files.traces),
            "--pointcloud",
            str(files.pointcloud),
            "--truth",
            str(files.truth),
            "--kinematics",
            str(files.kinematics),
        ]
    )
    assert returned == status
    return files


@pytest.fixture(scope="module")
def run_v2(tmp_path_factory) -> RunFiles:
    return simulate(tmp_path_factory.mktemp("v2"))


@pytest.fixture(scope="module")
def run_v1(tmp_path_factory) -> RunFiles:
    settings = {**SETTINGS, "traces": {"format": MERGER_1_0}}
    return simulate(tmp_path_factory.mktemp("v1"), settings)


@pytest.fixture(scope="module")
def truth(run_v2) -> pl.DataFrame:
    return pl.read_parquet(run_v2.truth)


def _matrices(path: Path, version: str) -> dict[int, np.ndarray]:
    found = {}
    with h5py.File(path, "r") as handle:
        events = handle["events"]
        for event in range(N_EVENTS):
            group = events[f"event_{event}"]
            if version == MERGER_1_0:
                found[event] = group["get_traces"][()]
            else:
                found[event] = group["get"]["pads"][()]
                for name in (
                    "silicon_upstream_front",
                    "silicon_upstream_back",
                    "silicon_downstream_front",
                    "silicon_downstream_back",
                ):
                    assert group["get"][name].shape == (0, 517)
    return found


@pytest.mark.parametrize("version", [MERGER_1_0, MERGER_2_0])
def test_trace_files_have_the_merger_layout(version, run_v1, run_v2):
    files = run_v1 if version == MERGER_1_0 else run_v2
    with h5py.File(files.traces, "r") as handle:
        attributes = handle["events"].attrs
        assert attributes["version"] == version
        assert attributes["min_event"] == 0 and attributes["max_event"] == N_EVENTS - 1
        assert attributes["min_event"].dtype == np.uint64
        assert "frib_physics" not in handle["events/event_0"]
    matrices = _matrices(files.traces, version)
    assert sum(len(matrix) for matrix in matrices.values()) > 0
    for matrix in matrices.values():
        assert matrix.dtype == np.int16 and matrix.shape[1] == 517
        np.testing.assert_array_equal(pad_from_address(matrix[:, :4]), matrix[:, 4])
        assert matrix[:, 5:].min(initial=0) >= 0 and matrix[:, 5:].max(initial=0) <= 4095
        assert len(np.unique(matrix[:, 4])) == len(matrix)
    provenance = read_provenance(files.traces)
    assert provenance["phase"] == "Simulation"
    assert provenance["run"] == RUN and provenance["seed"] == SEED
    assert provenance["parameters"]["traces"]["format"] == version


def test_both_layouts_hold_the_same_traces(run_v1, run_v2):
    v1, v2 = _matrices(run_v1.traces, MERGER_1_0), _matrices(run_v2.traces, MERGER_2_0)
    for event in range(N_EVENTS):
        np.testing.assert_array_equal(v1[event], v2[event])


def test_the_pipeline_trace_reader_reads_the_file(run_v2):
    expected = _matrices(run_v2.traces, MERGER_2_0)
    with open_trace_reader(run_v2.traces, RUN) as reader:
        for event in range(N_EVENTS):
            raw = reader.read_event(event)
            assert raw is not None
            np.testing.assert_array_equal(raw.get_pads, expected[event])
            assert raw.frib_traces is None


def test_traces_are_read_out_where_the_engine_put_charge(run_v2, truth):
    matrices = _matrices(run_v2.traces, MERGER_2_0)
    for event in range(N_EVENTS):
        rows = truth.filter(pl.col("event") == event)
        pads = np.concatenate(rows["point_pad"].to_list())
        electrons = np.concatenate(rows["point_electrons"].to_list())
        read_out = set(matrices[event][:, 4].tolist())
        assert read_out <= set(pads.tolist())
        # The pads with the most charge always rise above the zero suppression.
        if len(pads):
            assert int(pads[np.argmax(electrons)]) in read_out


def test_same_seed_gives_the_same_bytes_and_other_seeds_or_runs_do_not(run_v2, tmp_path):
    again = simulate(tmp_path / "again")
    for first, second in zip(run_v2.all(), again.all(), strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    other_seed = simulate(tmp_path / "seed", seed=SEED + 1)
    assert other_seed.traces.read_bytes() != run_v2.traces.read_bytes()
    other_run = simulate(tmp_path / "run", run=RUN + 1)
    first_truth = pl.read_parquet(run_v2.truth)
    other_truth = pl.read_parquet(other_run.truth)
    assert not np.allclose(first_truth["vertex_z"], other_truth["vertex_z"])


def test_trace_settings_do_not_change_the_physics(run_v2, tmp_path):
    quiet = simulate(tmp_path, {**SETTINGS, "traces": {"noise_sigma": 0.0, "baseline": 100.0}})
    columns = ["event", "particle", "kinetic_energy", "point_pad", "point_electrons"]
    assert (
        pl.read_parquet(quiet.truth)
        .select(columns)
        .equals(pl.read_parquet(run_v2.truth).select(columns))
    )
    assert quiet.traces.read_bytes() != run_v2.traces.read_bytes()


def test_truth_rows_match_the_engines_kinematics_file(run_v2, truth, tmp_path):
    from attpc_engine import nuclear_map
    from attpc_engine.kinematics.convert_kinematics import convert_kinematics_hdf5_to_polars

    converted_path = tmp_path / "kinematics.parquet"
    convert_kinematics_hdf5_to_polars(run_v2.kinematics, converted_path)
    engine_rows = pl.read_parquet(converted_path)
    assert len(engine_rows) == len(truth) == 4 * N_EVENTS
    np.testing.assert_array_equal(engine_rows["event"], truth["event"])
    np.testing.assert_array_equal(engine_rows["Z"], truth["Z"])
    np.testing.assert_array_equal(engine_rows["A"], truth["A"])
    for engine_column, truth_column in [
        ("energy", "total_energy"),
        ("px", "px"),
        ("py", "py"),
        ("pz", "pz"),
    ]:
        np.testing.assert_array_equal(engine_rows[engine_column], truth[truth_column])
    for axis in "xyz":
        np.testing.assert_allclose(
            engine_rows[f"vertex_{axis}"] * 1000.0, truth[f"vertex_{axis}"], rtol=1e-12
        )
    # The derived observables follow from the engine's four-momenta.
    # convert-kinematics writes the nuclei of each event in kinematics order; row 2 is the ejectile.
    ejectile_rows = engine_rows.with_row_index().filter(pl.col("index") % 4 == 2)
    ejectile_truth = truth.filter(pl.col("particle") == 2)
    assert (ejectile_rows["Z"] == 1).all() and (ejectile_rows["A"] == 2).all()
    px, py, pz, energy = (ejectile_rows[name].to_numpy() for name in ("px", "py", "pz", "energy"))
    momentum = np.sqrt(px**2 + py**2 + pz**2)
    mass = nuclear_map.get_data(1, 2).mass
    np.testing.assert_allclose(ejectile_truth["kinetic_energy"], energy - mass, rtol=1e-9)
    np.testing.assert_allclose(ejectile_truth["polar"], np.arccos(pz / momentum))
    np.testing.assert_allclose(ejectile_truth["brho"], momentum / 299.792458)


def test_truth_describes_the_reaction(truth):
    assert truth.columns[:6] == ["run", "event", "particle", "Z", "A", "simulated"]
    assert set(truth["run"].to_list()) == {RUN}
    assert truth.filter(pl.col("simulated"))["particle"].unique().sort().to_list() == [2, 3]
    residual = truth.filter(pl.col("particle") == 3)
    states = residual["excitation"].to_numpy()
    assert np.all(np.minimum(np.abs(states), np.abs(states - 1.766)) < 0.01)
    target = truth.filter(pl.col("particle") == 0)
    assert target["kinetic_energy"].abs().max() < 1e-9
    assert target["polar"].is_nan().all()
    beam = truth.filter(pl.col("particle") == 1)
    assert (beam["kinetic_energy"] < 184.131).all() and (beam["polar"] == 0.0).all()
    vertex_z = truth["vertex_z"].to_numpy()
    assert vertex_z.min() >= 0.0 and vertex_z.max() <= 1000.0
    unsimulated = truth.filter(~pl.col("simulated"))
    assert all(len(points) == 0 for points in unsimulated["point_pad"].to_list())


def test_engine_clouds_are_spyral_clouds_with_labels(run_v2, truth):
    assert read_event_range(run_v2.pointcloud) == (0, N_EVENTS - 1)
    events = list(iter_pointclouds(run_v2.pointcloud, with_labels=True))
    assert [cloud.event for cloud in events] == list(range(N_EVENTS))
    for cloud in events:
        assert cloud.attributes["orig_run"] == RUN
        assert cloud.attributes["orig_event"] == cloud.event
        assert cloud.attributes["ic_amplitude"] == -1.0
        assert np.all(np.diff(cloud.cloud[:, 2]) >= 0.0)
        assert np.all(cloud.cloud[:, 3] > 10)
        assert cloud.labels is not None and len(cloud.labels) == len(cloud.cloud)
        rows = truth.filter(pl.col("event") == cloud.event)
        for particle in (2, 3):
            mine = cloud.cloud[cloud.labels == particle]
            points = rows.filter(pl.col("particle") == particle)
            truth_keys = set(
                zip(
                    points["point_pad"][0].to_list(),
                    points["point_time_bucket"][0].to_list(),
                    strict=True,
                )
            )
            cloud_keys = set(zip(mine[:, 5].astype(int).tolist(), mine[:, 6].tolist(), strict=True))
            assert cloud_keys <= truth_keys
    assert read_provenance(run_v2.pointcloud)["run"] == RUN


def test_invalid_settings_fail_with_the_key_named(tmp_path, capsys):
    status = main(
        [
            "simulate",
            "--settings",
            json.dumps({"reaction": {"beam_energi": 5.0}}),
            "--run",
            "0",
            "--traces",
            str(tmp_path / "t.h5"),
            "--pointcloud",
            str(tmp_path / "p.h5"),
            "--truth",
            str(tmp_path / "t.parquet"),
        ]
    )
    assert status == 1
    assert "beam_energi" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_run_without_events_gives_valid_empty_files(tmp_path):
    files = simulate(tmp_path, {**SETTINGS, "events_per_run": 0})
    assert pl.read_parquet(files.truth).height == 0
    with open_trace_reader(files.traces, RUN) as reader:
        assert len(reader) == 0
    assert list(iter_pointclouds(files.pointcloud)) == []


def test_pad_time_offsets_come_from_a_spyral_style_file(tmp_path):
    from spyralflow.simulation.run import SimulationError, load_time_offsets

    offsets = np.zeros(10240)
    offsets[17] = 1.5
    path = tmp_path / "pad_time_correction.csv"
    # Spyral's own file uses bare carriage returns between lines.
    path.write_text("tcorr\r" + "\r".join(f"{value}" for value in offsets) + "\r")
    np.testing.assert_array_equal(load_time_offsets(path, RUN), offsets)
    assert load_time_offsets(None, RUN) is None
    short = tmp_path / "short.csv"
    short.write_text("tcorr\n0.0\n1.0\n")
    with pytest.raises(SimulationError, match=r"run 3: .*short\.csv holds 2 values"):
        load_time_offsets(short, RUN)
    with pytest.raises(SimulationError, match=r"missing\.csv"):
        load_time_offsets(tmp_path / "missing.csv", RUN)


def test_particles_outside_the_reaction_are_refused_before_writing(tmp_path, capsys):
    simulate(tmp_path, {**SETTINGS, "particles": [2, 7]}, status=1)
    error = capsys.readouterr().err
    assert "simulation.particles [7]" in error and "run 3" in error
    assert not any(path.is_file() for path in tmp_path.rglob("*"))
