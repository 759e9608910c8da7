"""GET electronics of simulated traces: pulse shape and gain, placement, digitisation, noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks

from spyralflow.simulation import engine
from spyralflow.simulation.electronics import (
    ADC_MAX,
    GetResponse,
    digitize,
    pad_signals,
    pulse_shape,
)
from spyralflow.simulation.settings import SimulationSettings

# Spyral's README GetParameters, which the Pointcloud phase uses by default.
PEAK_SEPARATION = 50.0
PEAK_PROMINENCE = 20.0
PEAK_MAX_WIDTH = 50.0
PEAK_THRESHOLD = 40.0


@pytest.fixture(scope="module")
def settings() -> SimulationSettings:
    return SimulationSettings()


@pytest.fixture(scope="module")
def response(settings) -> GetResponse:
    electronics = settings.electronics
    return GetResponse.from_electronics(
        electronics.amplifier_gain, electronics.shaping_time, electronics.get_frequency
    )


@pytest.fixture(scope="module")
def engine_config(settings):
    return engine.build_detector_config(settings)


def test_pulse_is_the_engines_response_function(response, engine_config):
    from attpc_engine.detector.response import get_response

    engine_response = get_response(engine_config)
    # The engine samples its response on linspace(0, 512, 512), a step of 512/511 buckets.
    engine_times = np.linspace(0.0, 512.0, 512)
    ours = response.pulse(engine_times)
    first_lobe = engine_times < np.pi * response.shaping_time_buckets
    np.testing.assert_allclose(ours[first_lobe], engine_response[first_lobe], rtol=1e-12)
    # Beyond the first lobe the engine's response is negligible; ours is zero there.
    assert engine_response[~first_lobe].max() < 1e-4 * engine_response.max()
    assert np.all(ours[~first_lobe] == 0.0)


def test_peak_delay_is_the_maximum_of_the_shape(response):
    times = np.linspace(0.0, 20.0, 200001)
    shape = pulse_shape(times, response.shaping_time_buckets)
    assert times[np.argmax(shape)] == pytest.approx(response.peak_delay, abs=1e-3)
    assert response.adc_per_electron * shape.max() == pytest.approx(
        response.peak_adc_per_electron, rel=1e-9
    )


@pytest.mark.parametrize("time_bucket", [37.0, 100.25, 250.5, 400.9])
def test_one_point_peaks_at_its_time_bucket_with_the_engine_amplitude(
    time_bucket, response, engine_config
):
    from attpc_engine.detector.response import apply_response, get_response

    electrons = 2.0e6
    pads, signal = pad_signals(np.array([[1234.0, time_bucket, electrons]]), response)
    assert pads.tolist() == [1234]
    peak = int(np.argmax(signal[0]))
    assert abs(peak - time_bucket) <= 0.5
    engine_amplitude, _ = apply_response(get_response(engine_config), electrons)
    # Sampling a 1 µs pulse off its maximum by at most half a bucket costs about 1 %.
    assert signal[0, peak] == pytest.approx(engine_amplitude, rel=0.015)
    assert signal[0, peak] <= electrons * response.peak_adc_per_electron * (1 + 1e-12)


def test_the_pulse_kernel_evaluates_the_response_at_every_sample(response):
    rng = np.random.default_rng(6)
    points = np.column_stack(
        [rng.integers(0, 3, 40), rng.uniform(-5.0, 515.0, 40), rng.uniform(1e5, 1e7, 40)]
    )
    pads, signal = pad_signals(points, response)
    samples = np.arange(512)
    expected = np.zeros((len(pads), 512))
    for pad, time_bucket, electrons in points:
        start = time_bucket - response.peak_delay
        row = np.searchsorted(pads, pad)
        expected[row] += electrons * response.pulse(samples - start)
    np.testing.assert_allclose(signal, expected, rtol=1e-9, atol=1e-9 * expected.max())


def test_pulses_on_one_pad_add_up_and_pads_are_sorted(response):
    points = np.array([[20.0, 100.0, 1e6], [7.0, 300.0, 5e5], [20.0, 100.0, 1e6]])
    pads, signal = pad_signals(points, response)
    assert pads.tolist() == [7, 20]
    _, single = pad_signals(points[:1], response)
    np.testing.assert_allclose(signal[1], 2.0 * single[0])
    assert np.argmax(signal[0]) == 300


def test_time_offsets_write_the_signal_earlier(response):
    offsets = np.zeros(10240)
    offsets[42] = 2.0
    points = np.array([[42.0, 200.0, 1e6], [43.0, 200.0, 1e6]])
    _, signal = pad_signals(points, response, time_offsets=offsets)
    assert np.argmax(signal[0]) == 198
    assert np.argmax(signal[1]) == 200


def test_pulses_near_the_trace_ends_are_cut_not_wrapped(response):
    _, signal = pad_signals(np.array([[1.0, 510.8, 1e6], [2.0, 0.5, 1e6]]), response)
    assert signal[0, :400].max() == 0.0
    assert signal[0, 505:].max() > 0.0
    assert signal[1, 100:].max() == 0.0


def test_digitize_adds_baseline_and_noise_and_clips_to_twelve_bits():
    signal = np.zeros((3, 512))
    signal[1, 100] = 10_000.0
    signal[2, 200] = 50.0
    baselines = np.array([300.0, 300.0, 0.0])
    samples = digitize(signal, baselines, 0.0, np.random.default_rng(1))
    assert samples.dtype == np.int16
    assert np.all(samples[0] == 300)
    assert samples[1, 100] == ADC_MAX
    assert samples[2, 200] == 50 and samples[2, 0] == 0
    noisy = digitize(np.zeros((200, 512)), np.full(200, 300.0), 4.0, np.random.default_rng(2))
    assert noisy.mean() == pytest.approx(300.0, abs=0.1)
    assert noisy.std() == pytest.approx(4.0, rel=0.02)
    again = digitize(np.zeros((200, 512)), np.full(200, 300.0), 4.0, np.random.default_rng(2))
    np.testing.assert_array_equal(noisy, again)
    clipped = digitize(np.zeros((1, 512)), np.array([2.0]), 4.0, np.random.default_rng(3))
    assert clipped.min() == 0


def _spyral_peaks(trace: np.ndarray) -> np.ndarray:
    """Peak amplitudes as the Pointcloud phase finds them (baseline taken as the trace median)."""
    corrected = (trace - np.median(trace)).astype(np.int32)
    found, _ = find_peaks(
        corrected,
        distance=PEAK_SEPARATION,
        prominence=PEAK_PROMINENCE,
        width=(1.0, PEAK_MAX_WIDTH),
        rel_height=0.95,
    )
    amplitudes = corrected[found]
    return amplitudes[amplitudes > PEAK_THRESHOLD]


def test_noise_alone_gives_no_peaks(settings):
    traces = settings.traces
    rng = np.random.default_rng(4)
    baselines = traces.baseline + traces.baseline_spread * rng.standard_normal(2000)
    samples = digitize(np.zeros((2000, 512)), baselines, traces.noise_sigma, rng)
    assert sum(len(_spyral_peaks(trace)) for trace in samples) == 0


def test_a_track_like_deposit_gives_one_clear_peak(settings, response):
    # A pad crossed over a few buckets by a light particle: electrons spread over 5 buckets,
    # together at the median deuteron pad amplitude of the default reaction (about 100 ADC).
    electrons = 100.0 / response.peak_adc_per_electron / 5
    points = np.array([[9.0, 250.0 + step, electrons] for step in range(5)])
    _, signal = pad_signals(points, response)
    noise = settings.traces.noise_sigma
    samples = digitize(signal, np.array([300.0]), noise, np.random.default_rng(5))
    peaks = _spyral_peaks(samples[0])
    assert len(peaks) == 1
    assert peaks[0] > 2 * PEAK_THRESHOLD
