"""GET electronics: from the engine's (pad, time bucket, electrons) points to raw 512-sample traces.

The pulse shape and gain are attpc_engine's (``attpc_engine.detector.response.get_response``, the
theoretical GET response of NIM A 2016, doi:10.1016/j.nima.2016.09.018):

    R(τ) = A · exp(-3x) · x³ · sin(x),   x = τ / s,   A = 4095 · e / amplifier_gain / 1 fC

per electron, with τ the time in buckets since the pulse starts and s the shaping time in buckets
(shaping_time · get_frequency). The engine clips negative values to zero; after its first lobe
(x = π, about 20 buckets for 1 µs shaping) the response is below 1e-4 of its peak, so the pulse
here ends there. The engine samples R on a grid of 512/511 buckets; here it is evaluated at
whole buckets, which is what the GET samples. Each point's pulse is placed so that its maximum
falls on the point's (fractional) time bucket: the Pointcloud phase takes a peak's position as the
time, and the engine computes z from that same time bucket, so point clouds from our traces line
up with the engine's.

A pad's trace is the sum of the pulses of its points, plus the pad's baseline and white noise,
rounded and clipped to the 12-bit ADC range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.constants import elementary_charge
from scipy.optimize import brentq

NUMBER_OF_TIME_BUCKETS = 512
ADC_MAX = 4095
FEMTOCOULOMB = 1e-15


@dataclass(frozen=True)
class GetResponse:
    """The GET pulse of one electron.

    Parameters
    ----------
    adc_per_electron : float
        Scale A of the response (ADC channels per electron at unit shape).
    shaping_time_buckets : float
        Shaping time s in time buckets.
    peak_delay : float
        Time buckets from the pulse start to its maximum.
    peak_adc_per_electron : float
        Pulse maximum in ADC channels per electron.
    """

    adc_per_electron: float
    shaping_time_buckets: float
    peak_delay: float
    peak_adc_per_electron: float

    @classmethod
    def from_electronics(
        cls, amplifier_gain: float, shaping_time_ns: float, get_frequency_mhz: float
    ) -> GetResponse:
        """The response of GET electronics with these settings (attpc_engine's formula).

        Parameters
        ----------
        amplifier_gain : float
            ADC channels per fC.
        shaping_time_ns : float
            Shaping time in ns.
        get_frequency_mhz : float
            Sampling frequency in MHz.
        """
        scale = ADC_MAX * elementary_charge / amplifier_gain / FEMTOCOULOMB
        shaping = shaping_time_ns * get_frequency_mhz * 1e-3
        # d/dx [exp(-3x) x^3 sin x] = 0  <=>  (3 - 3x) sin x + x cos x = 0 inside the first lobe
        peak_x = brentq(lambda x: (3.0 - 3.0 * x) * np.sin(x) + x * np.cos(x), 0.1, np.pi / 2)
        return cls(
            adc_per_electron=scale,
            shaping_time_buckets=shaping,
            peak_delay=peak_x * shaping,
            peak_adc_per_electron=scale * float(pulse_shape(peak_x, 1.0)),
        )

    def pulse(self, time_since_start: np.ndarray) -> np.ndarray:
        """The response per electron at ``time_since_start`` (time buckets), in ADC channels."""
        return self.adc_per_electron * pulse_shape(
            np.asarray(time_since_start, dtype=np.float64), self.shaping_time_buckets
        )


def pulse_shape(time_since_start: np.ndarray, shaping_time_buckets: float) -> np.ndarray:
    """Unit-scale GET shape exp(-3x)·x³·sin(x), x = t/s, zero outside the first lobe."""
    x = np.asarray(time_since_start, dtype=np.float64) / shaping_time_buckets
    inside = (x > 0.0) & (x < np.pi)
    return np.where(inside, np.exp(-3.0 * x) * x**3 * np.sin(x), 0.0)


@njit(cache=True)
def accumulate_pulses(
    signal: np.ndarray,
    rows: np.ndarray,
    peak_times: np.ndarray,
    electrons: np.ndarray,
    adc_per_electron: float,
    shaping_time_buckets: float,
    peak_delay: float,
) -> None:
    """Add each point's pulse to its pad's row of ``signal`` (in place).

    The exponential and the sine are advanced from sample to sample by multiplication (a
    rotation for the sine), so each point costs one exp, sin and cos instead of one per sample.

    Parameters
    ----------
    signal : numpy.ndarray
        (n_pads, 512) float64 noiseless signal in ADC channels.
    rows : numpy.ndarray
        (N,) row of ``signal`` of each point's pad.
    peak_times : numpy.ndarray
        (N,) time bucket of each pulse's maximum.
    electrons : numpy.ndarray
        (N,) electrons of each point (after gas gain).
    adc_per_electron, shaping_time_buckets, peak_delay : float
        The :class:`GetResponse`.
    """
    n_samples = signal.shape[1]
    pulse_length = np.pi * shaping_time_buckets
    step = 1.0 / shaping_time_buckets
    decay_step = np.exp(-3.0 * step)
    sin_step = np.sin(step)
    cos_step = np.cos(step)
    for point in range(rows.size):
        start = peak_times[point] - peak_delay
        first = max(int(np.ceil(start)), 0)
        last = min(int(np.floor(start + pulse_length)), n_samples - 1)
        if first > last:
            continue
        scale = adc_per_electron * electrons[point]
        row = rows[point]
        x = (first - start) * step
        decay = np.exp(-3.0 * x)
        sine = np.sin(x)
        cosine = np.cos(x)
        for sample in range(first, last + 1):
            # Rounding can leave the sine a hair below zero at x = pi, where the pulse ends.
            if sine > 0.0:
                signal[row, sample] += scale * decay * x * x * x * sine
            x += step
            decay *= decay_step
            sine, cosine = sine * cos_step + cosine * sin_step, cosine * cos_step - sine * sin_step


def pad_signals(
    points: np.ndarray,
    response: GetResponse,
    time_offsets: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The noiseless signal of every pad hit in one event.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 3) [pad id, time bucket, electrons] from the engine.
    response : GetResponse
        The electronics response.
    time_offsets : numpy.ndarray, optional
        Per-pad time offsets in time buckets (indexed by pad id); each pad's pulses are placed
        that much earlier, so that adding the offset (as the Pointcloud phase does) gives back
        the true time.

    Returns
    -------
    pads : numpy.ndarray
        (n_pads,) int64 pad ids, ascending.
    signal : numpy.ndarray
        (n_pads, 512) float64 signal in ADC channels, without baseline or noise.
    """
    pad_ids = points[:, 0].astype(np.int64)
    pads, rows = np.unique(pad_ids, return_inverse=True)
    peak_times = points[:, 1].astype(np.float64)
    if time_offsets is not None:
        peak_times = peak_times - time_offsets[pad_ids]
    signal = np.zeros((len(pads), NUMBER_OF_TIME_BUCKETS))
    accumulate_pulses(
        signal,
        rows.astype(np.int64),
        peak_times,
        points[:, 2].astype(np.float64),
        response.adc_per_electron,
        response.shaping_time_buckets,
        response.peak_delay,
    )
    return pads, signal


def digitize(
    signal: np.ndarray,
    baselines: np.ndarray,
    noise_sigma: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Raw ADC samples: signal + baseline + white noise, rounded and clipped to 0 … 4095.

    Parameters
    ----------
    signal : numpy.ndarray
        (n_pads, 512) signal in ADC channels.
    baselines : numpy.ndarray
        (n_pads,) baseline of each trace in ADC channels.
    noise_sigma : float
        Noise standard deviation per sample in ADC channels.
    rng : numpy.random.Generator
        Source of the noise (one normal draw per sample, row by row).

    Returns
    -------
    numpy.ndarray
        (n_pads, 512) int16 samples.
    """
    # In place on one buffer: this runs for every trace of every event.
    if noise_sigma > 0.0:
        samples = rng.standard_normal(signal.shape)
        samples *= noise_sigma
        samples += signal
    else:
        samples = signal.astype(np.float64, copy=True)
    samples += baselines[:, np.newaxis]
    np.rint(samples, out=samples)
    np.clip(samples, 0, ADC_MAX, out=samples)
    return samples.astype(np.int16)
