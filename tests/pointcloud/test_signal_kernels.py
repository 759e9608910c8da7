"""Baseline removal and peak finding against straightforward transcriptions of Spyral/scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pointcloud_helpers import get_matrix, pulse
from scipy import signal

from spyralflow.phases.pointcloud.baseline import BaselineBuffers, remove_baseline
from spyralflow.phases.pointcloud.peaks import PeakSearch, find_peaks, find_peaks_kernel

GET_SEARCH = PeakSearch(
    distance=50.0, min_prominence=20.0, min_width=1.0, max_width=50.0, rel_height=0.95
)
FRIB_SEARCH = PeakSearch(
    distance=50.0, min_prominence=20.0, min_width=0.0, max_width=500.0, rel_height=0.85
)


def spyral_baseline_removal(raw: np.ndarray, window_scale: float) -> np.ndarray:
    """Spyral's preprocess_traces + int32 cast, written plainly (complex FFT, int16 copy)."""
    traces = raw.copy()
    traces[:, 0] = traces[:, 1]
    traces[:, -1] = traces[:, -2]
    bases = traces.copy()
    for row in bases:
        mean = np.mean(row)
        mask = row - mean > np.std(row) * 1.5
        row[mask] = np.mean(row[~mask])
    n = raw.shape[1]
    window = np.fft.ifftshift(np.sinc(np.arange(-n // 2, n // 2, 1.0) / window_scale))
    baseline = np.real(np.fft.ifft(np.fft.fft(bases, axis=1) * window, axis=1))
    return (traces - baseline).astype(np.int32)


def scipy_peaks(trace: np.ndarray, search: PeakSearch) -> tuple[np.ndarray, np.ndarray]:
    """(positions, integrals) as Spyral computes them from scipy's find_peaks."""
    positions, properties = signal.find_peaks(
        trace,
        distance=search.distance,
        prominence=search.min_prominence,
        width=(search.min_width, search.max_width),
        rel_height=search.rel_height,
    )
    integrals = [
        np.abs(trace[math.floor(left) : math.ceil(right)]).sum()
        for left, right in zip(properties["left_ips"], properties["right_ips"], strict=True)
    ]
    return positions, np.asarray(integrals, dtype=np.float64)


def assert_same_peaks(traces: np.ndarray, search: PeakSearch) -> None:
    found = find_peaks(traces, np.ones(len(traces), dtype=bool), search)
    for row, trace in enumerate(traces):
        positions, integrals = scipy_peaks(trace, search)
        mine = found.trace == row
        np.testing.assert_array_equal(found.position[mine], positions, err_msg=f"trace {row}")
        np.testing.assert_array_equal(found.integral[mine], integrals, err_msg=f"trace {row}")
        np.testing.assert_array_equal(found.amplitude[mine], trace[positions])


def test_baseline_removal_equals_spyrals_algorithm():
    rng = np.random.default_rng(1)
    raw = rng.normal(0.0, 4.0, (300, 512)) + rng.uniform(200.0, 400.0, (300, 1))
    for row in range(300):
        raw[row] += pulse(512, int(rng.integers(10, 500)), rng.uniform(0.0, 2000.0))
    raw = np.round(raw).astype(np.int16)
    np.testing.assert_array_equal(remove_baseline(raw, 20.0), spyral_baseline_removal(raw, 20.0))


def test_frib_baseline_removal_equals_spyrals_algorithm():
    rng = np.random.default_rng(2)
    raw = np.round(rng.normal(300.0, 3.0, (8, 2048)) + pulse(2048, 1300, 900.0, 6.0))
    raw = raw.astype(np.uint16)
    np.testing.assert_array_equal(remove_baseline(raw, 100.0), spyral_baseline_removal(raw, 100.0))


def test_reused_buffers_give_the_fresh_result_for_events_of_any_size():
    rng = np.random.default_rng(4)
    buffers = BaselineBuffers()
    # Growing, shrinking and a change of trace length, as the events of a run may come.
    for rows, samples in [(50, 512), (300, 512), (7, 512), (120, 2048), (40, 512)]:
        raw = np.round(rng.normal(300.0, 5.0, (rows, samples))).astype(np.int16)
        raw[:, samples // 3] += 900
        reused = remove_baseline(raw, 20.0, buffers)
        np.testing.assert_array_equal(reused, remove_baseline(raw, 20.0))
        np.testing.assert_array_equal(reused, spyral_baseline_removal(raw, 20.0))
        assert reused.flags.c_contiguous


def test_baseline_removal_keeps_a_pulse_on_a_flat_baseline():
    matrix = get_matrix({5: [(200, 700.0)]}, quiet_pads=(6,))
    corrected = remove_baseline(matrix[:, 5:], 20.0)
    assert int(np.argmax(corrected[0])) == 200
    assert 650.0 < corrected[0, 200] <= 700.0
    assert np.abs(corrected[1]).max() <= 1.0


def test_peaks_equal_scipys_on_pulses_with_noise():
    rng = np.random.default_rng(3)
    traces = rng.normal(0.0, 4.0, (400, 512))
    for row in range(400):
        for _ in range(rng.integers(0, 4)):
            traces[row] += pulse(512, int(rng.integers(5, 507)), rng.uniform(10.0, 1500.0))
    assert_same_peaks(np.round(traces), GET_SEARCH)


def test_peaks_equal_scipys_when_equal_maxima_compete():
    # Small integers: equal maxima within the distance everywhere, so the kernel must defer to
    # numpy's own ordering of ties for many traces.
    rng = np.random.default_rng(4)
    traces = np.round(np.cumsum(rng.normal(0.0, 4.0, (300, 512)), axis=1))
    traces[:, 100:109] += [10, 30, 60, 60, 59, 60, 60, 30, 10]
    arguments = (50.0, 20.0, 1.0, 50.0, 0.95)
    empty = np.zeros(0, dtype=np.int64)
    set_aside = find_peaks_kernel(traces, np.arange(300), empty, empty, *arguments)[4]
    assert len(set_aside) > 100
    assert_same_peaks(traces, GET_SEARCH)


def test_peaks_equal_scipys_on_real_valued_traces():
    rng = np.random.default_rng(5)
    traces = np.cumsum(rng.normal(0.0, 4.0, (300, 512)), axis=1) + rng.normal(0, 3, (300, 512))
    found = find_peaks(traces, np.ones(300, dtype=bool), GET_SEARCH)
    for row, trace in enumerate(traces):
        positions, integrals = scipy_peaks(trace, GET_SEARCH)
        np.testing.assert_array_equal(found.position[found.trace == row], positions)
        # Sums of non-integers may differ in the last bit (summation order).
        np.testing.assert_allclose(found.integral[found.trace == row], integrals, rtol=1e-12)


def test_frib_peaks_equal_scipys():
    rng = np.random.default_rng(6)
    traces = rng.normal(0.0, 5.0, (50, 2048))
    traces += pulse(2048, 1200, 300.0, 4.0) + pulse(2048, 1500, 150.0, 8.0)
    assert_same_peaks(np.round(traces), FRIB_SEARCH)


def test_inactive_traces_have_no_peaks():
    traces = np.round(np.stack([pulse(512, 100, 500.0), pulse(512, 300, 500.0)]))
    found = find_peaks(traces, np.array([False, True]), GET_SEARCH)
    np.testing.assert_array_equal(found.trace, [1])
    np.testing.assert_array_equal(found.position, [300])


@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_flat_inputs(rows):
    traces = np.zeros((rows, 512))
    found = find_peaks(traces, np.ones(rows, dtype=bool), GET_SEARCH)
    assert len(found) == 0
    assert remove_baseline(np.zeros((rows, 512), np.int16), 20.0).shape == (rows, 512)
