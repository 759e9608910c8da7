"""EstimationPhase end to end: parquet schema, skip reasons and the run summary."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from estimation_tracks import ideal_helix

from spyralflow.framework.parameters import build_constructor_arguments
from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.io.cluster_file import ClusterWriter, Direction
from spyralflow.io.estimation_file import read_estimation
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.estimation import EstimateParameters, EstimationPhase
from spyralflow.phases.schemas import cluster_schema, estimate_schema

ATTRIBUTES = {
    "orig_run": np.int64(4),
    "orig_event": np.int64(40),
    "ic_amplitude": -1.0,
    "ic_centroid": -1.0,
    "ic_integral": -1.0,
    "ic_multiplicity": -1.0,
}


class ListQueue(list):
    def put(self, message):
        self.append(message)


def _phase():
    return EstimationPhase(EstimateParameters(), DetectorParameters(magnetic_field=2.85))


def _run(tmp_path, events, first=0, last=5):
    cluster_path = tmp_path / "Cluster" / "run_0004.h5"
    with ClusterWriter(cluster_path, Provenance(phase="Cluster"), first, last) as writer:
        for event, clusters in events.items():
            writer.write(event, {**ATTRIBUTES, "orig_event": np.int64(event)}, clusters)
    queue = ListQueue()
    result = _phase().run(PhaseResult({"cluster": cluster_path}, True, 4), tmp_path, queue, None)
    return result, cluster_path, queue


def test_good_degenerate_and_empty_events(tmp_path):
    helix = ideal_helix(math.radians(35.0), 1.0, 0.6)
    events = {
        0: [(3, Direction.FORWARD, helix), (5, Direction.NONE, helix)],
        1: [],
        3: [(0, Direction.FORWARD, helix[:10])],
    }
    result, cluster_path, queue = _run(tmp_path, events)
    folder = tmp_path / "Estimation"
    assert result.artifacts == {
        "estimation": folder / "run_0004.parquet",
        "estimation_summary": folder / "run_0004_summary.json",
        "cluster": cluster_path,
    }
    table = read_estimation(result.artifacts["estimation"])
    assert table.num_rows == 1
    row = table.to_pylist()[0]
    assert (row["event"], row["cluster_index"], row["cluster_label"]) == (0, 0, 3)
    assert (row["orig_run"], row["orig_event"], row["direction"]) == (4, 0, 0)
    assert row["ic_amplitude"] == -1.0
    assert math.degrees(row["polar"]) == pytest.approx(35.0, abs=0.01)
    assert PROVENANCE_KEY.encode() in pq.read_schema(result.artifacts["estimation"]).metadata
    summary = json.loads(result.artifacts["estimation_summary"].read_text())
    assert summary["run"] == 4
    assert summary["events"] == 3
    assert summary["events_without_clusters"] == 1
    assert summary["clusters"] == 3
    assert summary["accepted_clusters"] == 1
    assert summary["skipped"]["direction_none"] == 1
    assert summary["skipped"]["too_few_points"] == 1
    assert sum(summary["skipped"].values()) == 2
    assert sum(message.increment for message in queue) == queue[0].total == 6


def test_a_cluster_whose_estimate_fails_numerically_is_counted_not_fatal(
    tmp_path, monkeypatch, caplog
):
    from spyralflow.phases.estimation import phase as phase_module

    real = phase_module.estimate_cluster

    def failing_for_short_clusters(data, *arguments):
        if len(data) < 100:
            raise FloatingPointError("overflow")
        return real(data, *arguments)

    monkeypatch.setattr(phase_module, "estimate_cluster", failing_for_short_clusters)
    helix = ideal_helix(math.radians(35.0), 1.0, 0.6)
    events = {0: [(3, Direction.FORWARD, helix)], 2: [(1, Direction.FORWARD, helix[:50])]}
    with caplog.at_level("WARNING", logger="spyralflow.phases.estimation.phase"):
        result, _, _ = _run(tmp_path, events)
    assert read_estimation(result.artifacts["estimation"]).num_rows == 1
    summary = json.loads(result.artifacts["estimation_summary"].read_text())
    assert summary["clusters"] == 2 and summary["accepted_clusters"] == 1
    assert summary["skipped"]["numerical_failure"] == 1
    failures = [record.getMessage() for record in caplog.records if "failed" in record.getMessage()]
    assert failures == [
        "run 4 event 2 cluster 0: the estimate failed (FloatingPointError: overflow); skipped"
    ]


def test_a_run_with_nothing_estimated_has_the_full_schema(tmp_path):
    result, _, _ = _run(tmp_path, {2: []}, first=0, last=2)
    table = read_estimation(result.artifacts["estimation"])
    assert table.num_rows == 0
    assert len(table.schema) == 23
    summary = json.loads(result.artifacts["estimation_summary"].read_text())
    assert summary["accepted_clusters"] == 0


def test_unsuccessful_input_gives_an_invalid_result(tmp_path):
    result = _phase().run(PhaseResult({}, False, 4), tmp_path, ListQueue(), None)
    assert not result.successful


def test_construct_artifact_passes_the_cluster_file_on(tmp_path):
    phase = _phase()
    payload = PhaseResult({"cluster": tmp_path / "Cluster" / "run_0012.h5"}, True, 12)
    result = phase.construct_artifact(payload, tmp_path)
    assert result.artifacts["cluster"] == payload.artifacts["cluster"]
    assert result.artifacts["estimation"].name == "run_0012.parquet"
    assert result.artifacts["estimation_summary"].name == "run_0012_summary.json"
    assert phase.name == "Estimation"
    assert phase.incoming_schema == cluster_schema()
    assert phase.outgoing_schema == estimate_schema()


def test_built_from_config_values():
    arguments = build_constructor_arguments(
        EstimationPhase,
        {"estimate_params": {"smoothing_factor": 50.0}, "det_params": {}},
    )
    phase = EstimationPhase(**arguments)
    assert phase.estimate_params == EstimateParameters(
        min_total_trajectory_points=30, smoothing_factor=50.0
    )
