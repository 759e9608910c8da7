"""The seeded fuzzer: hundreds of random damages of a trace file and of a point-cloud file.

Each case runs the reader and its phase in-process under a time bound; the test fails on any
crash (an exception other than TraceFormatError/ArtifactFormatError, or one not naming the
file), any hang, and any event lost without a count.
"""

from __future__ import annotations

from collections import Counter

from fuzzing import campaign, cloud_action, trace_action

MUTATIONS = 210


def _report(outcomes) -> str:
    return "\n".join(f"{o.kind}: {o.name}: {o.detail[:300]}" for o in outcomes if not o.clean)


def test_damaged_trace_files_give_an_error_or_a_counted_run(pointcloud_phase, good_trace, tmp_path):
    outcomes = campaign(
        good_trace,
        MUTATIONS,
        seed=7,
        make_action=lambda path: trace_action(pointcloud_phase, path, tmp_path / "ws"),
        folder=tmp_path,
    )
    kinds = Counter(outcome.kind for outcome in outcomes)
    assert len(outcomes) == MUTATIONS
    assert not _report(outcomes), _report(outcomes)
    # The campaign really damages: both documented errors and counted runs occur.
    assert kinds["error"] > MUTATIONS // 5 and kinds["ran"] > MUTATIONS // 5, kinds


def test_damaged_point_cloud_files_give_an_error_or_a_counted_run(
    cluster_phase, estimation_phase, good_cloud, tmp_path
):
    outcomes = campaign(
        good_cloud,
        MUTATIONS,
        seed=8,
        make_action=lambda path: cloud_action(
            cluster_phase, estimation_phase, path, tmp_path / "ws"
        ),
        folder=tmp_path,
    )
    kinds = Counter(outcome.kind for outcome in outcomes)
    assert len(outcomes) == MUTATIONS
    assert not _report(outcomes), _report(outcomes)
    assert kinds["error"] > MUTATIONS // 5 and kinds["ran"] > MUTATIONS // 5, kinds
    counted = [o for o in outcomes if o.kind == "ran" and "NaN" in o.detail]
    assert counted, "no case dropped and counted a NaN point"
