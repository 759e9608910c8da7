"""The pad → (cobo, asad, aget, channel) map of simulated traces."""

from __future__ import annotations

import numpy as np
import pytest

from spyralflow.simulation.hardware import (
    FIXED_PATTERN_NOISE_CHANNELS,
    NUMBER_OF_PADS,
    get_matrix,
    hardware_address,
    pad_from_address,
)

ALL_PADS = np.arange(NUMBER_OF_PADS)


def test_every_pad_has_its_own_address_within_the_electronics():
    address = hardware_address(ALL_PADS)
    assert address.dtype == np.int16
    assert len(np.unique(address, axis=0)) == NUMBER_OF_PADS
    cobo, asad, aget, channel = address.T
    assert cobo.min() == 0 and cobo.max() == 9
    assert set(np.unique(asad)) == {0, 1, 2, 3}
    assert set(np.unique(aget)) == {0, 1, 2, 3}
    assert channel.min() >= 0 and channel.max() <= 67
    assert not set(FIXED_PATTERN_NOISE_CHANNELS) & set(np.unique(channel))


def test_the_inverse_gives_the_pad_back():
    np.testing.assert_array_equal(pad_from_address(hardware_address(ALL_PADS)), ALL_PADS)


def test_pads_outside_the_detector_and_noise_channels_are_refused():
    with pytest.raises(ValueError, match="pad ids"):
        hardware_address(np.array([NUMBER_OF_PADS]))
    with pytest.raises(ValueError, match="fixed-pattern-noise"):
        pad_from_address(np.array([[0, 0, 0, 11]]))


def test_get_matrix_has_the_merger_columns():
    pads = np.array([5, 1000, 10239])
    samples = np.arange(3 * 512, dtype=np.int16).reshape(3, 512)
    matrix = get_matrix(pads, samples)
    assert matrix.shape == (3, 517) and matrix.dtype == np.int16
    np.testing.assert_array_equal(matrix[:, 4], pads)
    np.testing.assert_array_equal(pad_from_address(matrix[:, :4]), pads)
    np.testing.assert_array_equal(matrix[:, 5:], samples)
