"""A deterministic pad → GET hardware address map for simulated traces.

The AT-TPC's 10240 pads are read by 10 CoBos x 4 AsAds x 4 AGETs x 64 signal channels. An AGET
chip has 68 channels, of which 11, 22, 45 and 56 are fixed-pattern-noise channels with no pad, so
the 64 signal channels are 0 … 67 without those four. The simulated map fills them in pad order:

    cobo    = pad // 1024
    asad    = (pad // 256) % 4
    aget    = (pad // 64) % 4
    channel = the (pad % 64)-th signal channel

It is not the map of any experiment (those come with the merger); it only has to be one-to-one and
the same for every event, which is what a real map guarantees as well.
"""

from __future__ import annotations

import numpy as np

from spyralflow.io.traces.layout import GET_CHANNEL_COLUMNS, GET_PAD_COLUMN, GET_ROW_LENGTH

NUMBER_OF_PADS = 10240
PADS_PER_COBO = 1024
PADS_PER_ASAD = 256
PADS_PER_AGET = 64
ASADS_PER_COBO = 4
AGETS_PER_ASAD = 4
AGET_CHANNELS = 68
FIXED_PATTERN_NOISE_CHANNELS = (11, 22, 45, 56)
SIGNAL_CHANNELS = np.array(
    [channel for channel in range(AGET_CHANNELS) if channel not in FIXED_PATTERN_NOISE_CHANNELS],
    dtype=np.int16,
)


def hardware_address(pads: np.ndarray) -> np.ndarray:
    """The (cobo, asad, aget, channel) of each pad.

    Parameters
    ----------
    pads : numpy.ndarray
        Pad ids in 0 … 10239.

    Returns
    -------
    numpy.ndarray
        (n, 4) int16 array of [cobo, asad, aget, aget channel].

    Raises
    ------
    ValueError
        If a pad id is outside 0 … 10239.
    """
    pads = np.asarray(pads, dtype=np.int64)
    if pads.size and (pads.min() < 0 or pads.max() >= NUMBER_OF_PADS):
        raise ValueError(
            f"pad ids must be in 0 … {NUMBER_OF_PADS - 1}, got {pads.min()}…{pads.max()}"
        )
    address = np.empty((len(pads), 4), dtype=np.int16)
    address[:, 0] = pads // PADS_PER_COBO
    address[:, 1] = (pads // PADS_PER_ASAD) % ASADS_PER_COBO
    address[:, 2] = (pads // PADS_PER_AGET) % AGETS_PER_ASAD
    address[:, 3] = SIGNAL_CHANNELS[pads % PADS_PER_AGET]
    return address


def pad_from_address(address: np.ndarray) -> np.ndarray:
    """The pad id of each (cobo, asad, aget, channel) row; the inverse of :func:`hardware_address`.

    Raises
    ------
    ValueError
        If a channel is a fixed-pattern-noise channel or outside the AGET.
    """
    address = np.asarray(address, dtype=np.int64).reshape(-1, 4)
    channel_index = np.full(AGET_CHANNELS, -1, dtype=np.int64)
    channel_index[SIGNAL_CHANNELS] = np.arange(PADS_PER_AGET)
    channels = address[:, 3]
    if channels.size and (channels.min() < 0 or channels.max() >= AGET_CHANNELS):
        raise ValueError(f"AGET channels must be in 0 … {AGET_CHANNELS - 1}")
    within_aget = channel_index[channels]
    if np.any(within_aget < 0):
        raise ValueError(f"fixed-pattern-noise channels {FIXED_PATTERN_NOISE_CHANNELS} have no pad")
    return (
        address[:, 0] * PADS_PER_COBO
        + address[:, 1] * PADS_PER_ASAD
        + address[:, 2] * PADS_PER_AGET
        + within_aget
    )


def get_matrix(pads: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """The GET data matrix of one event, as the merger writes it.

    Parameters
    ----------
    pads : numpy.ndarray
        (n,) pad ids.
    samples : numpy.ndarray
        (n, 512) ADC samples.

    Returns
    -------
    numpy.ndarray
        (n, 517) int16: cobo, asad, aget, channel, pad, then the 512 samples.
    """
    matrix = np.empty((len(pads), GET_ROW_LENGTH), dtype=np.int16)
    matrix[:, :GET_PAD_COLUMN] = hardware_address(pads)
    matrix[:, GET_PAD_COLUMN] = pads
    matrix[:, GET_CHANNEL_COLUMNS:] = samples
    return matrix
