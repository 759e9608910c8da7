"""The summary's parts: settings, statistics, kinematic lines, matching and cluster purity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from summary_inputs import truth_table

from spyralflow.framework.provenance import Provenance
from spyralflow.io.cluster_file import ClusterWriter, Direction
from spyralflow.summary.excitation import match_kinematics
from spyralflow.summary.kinematics import kinematic_lines, populated_states
from spyralflow.summary.matching import match
from spyralflow.summary.metrics import describe, robust_sigma
from spyralflow.summary.purity import (
    PadLocator,
    TimeCalibration,
    cluster_purities,
    point_labels,
    purity_table,
)
from spyralflow.summary.settings import SummarySettings, SummarySettingsError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def test_schema_defaults_equal_the_dataclass_defaults():
    schema = yaml.safe_load(SCHEMA_PATH.read_text())["$defs"]["summary"]["properties"]
    defaults = SummarySettings()
    for name, entry in schema.items():
        if "default" in entry:
            assert getattr(defaults, name) == entry["default"], name


def test_settings_from_mapping_and_errors():
    settings = SummarySettings.from_mapping(
        {"particle": [1, 1], "pid_gate": {"dedx": [0, 10], "brho": [0.1, 2]}}
    )
    assert settings.particle == (1, 1)
    assert settings.pid_gate.brho == (0.1, 2.0)
    with pytest.raises(SummarySettingsError, match="partcle"):
        SummarySettings.from_mapping({"partcle": [1, 1]})
    with pytest.raises(SummarySettingsError, match=r"pid_gate\.dedx"):
        SummarySettings.from_mapping({"pid_gate": {"dedx": [10, 0], "brho": [0, 1]}})


def test_robust_sigma_ignores_tails_and_describe_counts_finite_values():
    rng = np.random.default_rng(1)
    core = rng.normal(0.0, 2.0, 20000)
    tails = rng.normal(0.0, 200.0, 1000)
    values = np.concatenate([core, tails])
    assert robust_sigma(core) == pytest.approx(2.0, rel=0.03)
    # 5 % of wide tails widen the median absolute deviation by about 5 %, the std tenfold.
    assert robust_sigma(values) == pytest.approx(2.0, rel=0.1)
    assert values.std() > 20.0
    stats = describe(np.array([1.0, np.nan, 3.0]), n_truth=4)
    assert stats["n_matched"] == 2 and stats["efficiency"] == 0.5
    assert stats["bias_median"] == 2.0 and stats["resolution_robust"] == pytest.approx(1.4826)
    assert np.isnan(describe(np.array([]), n_truth=0)["efficiency"])


def test_match_takes_the_cluster_nearest_in_polar_and_brho():
    truth = pl.DataFrame(
        {
            "run": [1, 1],
            "event": [0, 1],
            "particle": [2, 2],
            "polar": [0.5, 0.6],
            "vertex_z": [100.0, 200.0],
            "brho": [1.0, 0.5],
            "kinetic_energy": [20.0, 5.0],
        }
    )
    reconstructed = pl.DataFrame(
        {
            "run": [1, 1, 1, 2],
            "event": [0, 0, 0, 1],
            "polar": [0.1, 0.51, 0.9, 0.6],
            "vertex_z": [0.0, 101.0, 0.0, 200.0],
            "brho": [3.0, 1.02, 0.7, 0.5],
            "kinetic_energy": [1.0, 21.0, 1.0, 5.0],
        }
    )
    matched = match(truth, reconstructed)
    # Event 1 of run 1 has no reconstruction (the run-2 row is another run's event).
    assert matched.height == 1
    assert matched["reco_polar"][0] == 0.51 and matched["true_brho"][0] == 1.0


def test_match_does_not_take_another_track_nearer_in_brho_alone():
    # The event's recoil, fitted as the ejectile, lands 0.5 % from the true Brho at 7 deg; the
    # ejectile's own fit is 2 % off in Brho at the right angle (true 47 deg).
    truth = pl.DataFrame(
        {
            "run": [1],
            "event": [0],
            "particle": [2],
            "polar": [0.820],
            "vertex_z": [290.0],
            "brho": [1.182],
            "kinetic_energy": [33.2],
        }
    )
    reconstructed = pl.DataFrame(
        {
            "run": [1, 1],
            "event": [0, 0],
            "polar": [0.119, 0.819],
            "vertex_z": [260.0, 289.0],
            "brho": [1.188, 1.158],
            "kinetic_energy": [33.4, 31.8],
        }
    )
    matched = match(truth, reconstructed)
    assert matched.height == 1
    assert matched["reco_polar"][0] == 0.819 and matched["reco_vertex_z"][0] == 289.0


def test_match_kinematics_does_not_take_another_track_nearer_in_energy_alone():
    # The same event in the Kinematics phase: the recoil's row is 0.2 MeV from the true KE at
    # 7 deg, the ejectile's 1.4 MeV off (4 %) at the right angle.
    truth = pl.DataFrame(
        {
            "run": [1],
            "event": [0],
            "true_polar": [0.820],
            "true_vertex_z": [290.0],
            "true_kinetic_energy": [33.2],
            "true_excitation": [0.0],
        }
    )
    kinematics = pl.DataFrame(
        {
            "orig_run": [1, 1, 1],
            "orig_event": [0, 0, 1],
            "polar": [0.119, 0.819, 0.820],
            "ke": [33.4, 31.8, 33.2],
            "ex": [0.1, 1.3, 0.0],
        }
    )
    matched = match_kinematics(truth, kinematics)
    assert matched.height == 1
    assert matched["polar"][0] == 0.819 and matched["ex"][0] == 1.3


def test_states_and_lines_of_the_truth_conserve_energy():
    truth = truth_table(0, 200, np.random.default_rng(2))
    states = populated_states(truth)
    assert sorted(states) == pytest.approx([0.0, 1.766])
    ejectile = kinematic_lines(truth, 2)
    residual = kinematic_lines(truth, 3)
    beam = float(truth.filter(pl.col("particle") == 1)["kinetic_energy"].median())
    assert [line.excitation for line in ejectile] == states
    for light, heavy in zip(ejectile, residual, strict=True):
        # d + 16C -> d + 16C*: the kinetic energies add up to the beam's minus the excitation.
        np.testing.assert_allclose(
            light.kinetic_energy + heavy.kinetic_energy, beam - light.excitation, atol=1e-6
        )
        assert light.polar[0] == pytest.approx(0.0, abs=1e-9)
        assert np.all(np.diff(light.kinetic_energy) <= 1e-9)
    assert kinematic_lines(truth, 2, excitations=[5.0])[0].excitation == 5.0


def test_point_labels_take_the_nearest_truth_point_on_the_pad():
    labels = point_labels(
        pads=np.array([10, 10, 11, 12]),
        time_buckets=np.array([100.2, 300.0, 50.0, 70.0]),
        truth_pads=np.array([10, 10, 11, 12]),
        truth_time_buckets=np.array([101.0, 299.0, 45.1, 80.0]),
        truth_labels=np.array([2, 3, 2, 2]),
    )
    # The third point is 4.9 buckets from its truth point (within 5), the last 10: unlabelled.
    assert labels.tolist() == [2, 3, 2, -1]


def test_cluster_purity_from_a_cluster_file(tmp_path):
    locator = PadLocator()
    calibration = TimeCalibration()
    pads = np.arange(3000, 3010)
    time_buckets = np.linspace(100.0, 400.0, 10)
    truth = pl.DataFrame(
        {
            "run": [4, 4],
            "event": [7, 7],
            "particle": [2, 3],
            "point_pad": [pads[:8].tolist(), pads[8:].tolist()],
            "point_time_bucket": [time_buckets[:8].tolist(), time_buckets[8:].tolist()],
        }
    )
    centres = {pad: xy for xy, pad in locator._pads.items()}
    xy = np.array([centres[pad] for pad in pads])
    z = (calibration.window_time_bucket - time_buckets) / 550.0 * calibration.detector_length
    points = np.column_stack([xy, z, np.ones(10), np.ones(10)])
    path = tmp_path / "run_0004.h5"
    with ClusterWriter(path, Provenance(phase="test"), 7, 7) as writer:
        writer.write(
            7,
            {"orig_run": np.int64(4), "orig_event": np.int64(7)},
            [(0, Direction.FORWARD, points[:6]), (1, Direction.FORWARD, points[5:])],
        )
    clusters = cluster_purities([path], truth, [2], calibration, locator)
    assert clusters["purity"].to_list() == pytest.approx([1.0, 3 / 5])
    assert clusters["majority"].to_list() == [2, 2]
    assert (clusters["labelled"] == 1.0).all()
    table = purity_table(clusters, [4])
    overall = table.filter(pl.col("scope") == "all").row(0, named=True)
    assert overall["n_clusters"] == 2 and overall["n_events"] == 1
    assert overall["mean_purity"] == pytest.approx(0.8)
    assert overall["fraction_pure"] == 0.5 and overall["particle_clusters"] == 2
