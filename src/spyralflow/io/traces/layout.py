"""Names and shapes of the raw trace-file layouts Spyral knows (spyral.md section 2).

Readers and the test/benchmark writer share these constants, so a layout is spelled in one place.

Layouts
-------
- legacy merger: ``meta/meta`` = [first_event, first_timestamp, last_event, last_timestamp];
  ``get/evt{N}_data``; ``frib/evt/evt{N}_1903`` and ``evt{N}_977``; ``frib/scaler/scaler{N}_data``.
- ``libattpc_merger:1.0`` (and ``synchronizer:0.1.0``): group ``events`` with attributes
  ``version``, ``min_event``, ``max_event``; ``events/event_{N}/get_traces``;
  ``events/event_{N}/frib_physics/{1903,977}``; group ``scalers`` (``min_event``/``max_event``)
  with datasets ``event_{N}``.
- ``harmonizer:0.1.0``: as 1.0, plus attributes ``orig_run``/``orig_event`` on each event group.
- ``libattpc_merger:2.0``: ``events/event_{N}/get/pads`` and four silicon datasets named
  ``si_*`` (attpc_merger) or ``silicon_*`` (what Spyral 1.1.2 expects); FRIB and scalers as 1.0.
"""

from __future__ import annotations

from enum import Enum

GET_CHANNEL_COLUMNS = 5
"""Columns 0-4 of a GET matrix row: CoBo, AsAd, AGET, AGET channel, pad number."""
GET_PAD_COLUMN = 4
GET_SAMPLES = 512
"""Time buckets per GET trace."""
GET_ROW_LENGTH = GET_CHANNEL_COLUMNS + GET_SAMPLES
GET_SAMPLE_RANGE = (-(2**15), 2**15 - 1)
"""Samples the mergers can write (int16); the 12-bit ADC lies well inside."""
INVALID_PAD = -1

FRIB_SAMPLES = 2048
"""Samples per SIS3300 trace (12.5 MHz)."""
FRIB_TRACES_DATASET = "1903"
FRIB_COINCIDENCE_DATASET = "977"
FRIB_IC_CHANNEL = 0
FRIB_MESH_CHANNEL = 1
FRIB_SILICON_CHANNEL = 2

SCALER_COUNTERS = (
    "clock_free",
    "clock_live",
    "trigger_free",
    "trigger_live",
    "ic_sca",
    "mesh_sca",
    "si1_cfd",
    "si2_cfd",
    "sipm",
    "ic_ds",
    "ic_cfd",
)
"""The 11 FRIBDAQ scaler counters, in the order of a scaler dataset."""

SILICON_DETECTORS = (
    "upstream_front",
    "upstream_back",
    "downstream_front",
    "downstream_back",
)
SILICON_PREFIXES = ("si_", "silicon_")
"""attpc_merger 2.0 writes ``si_*``; Spyral 1.1.2 reads ``silicon_*``. Both are accepted."""


class TraceLayout(Enum):
    """A raw trace-file layout."""

    LEGACY = "legacy merger"
    MERGER_1_0 = "libattpc_merger:1.0"
    HARMONIZER_0_1 = "harmonizer:0.1.0"
    MERGER_2_0 = "libattpc_merger:2.0"


VERSION_STRINGS: dict[str, TraceLayout] = {
    "libattpc_merger:1.0": TraceLayout.MERGER_1_0,
    "synchronizer:0.1.0": TraceLayout.MERGER_1_0,
    "harmonizer:0.1.0": TraceLayout.HARMONIZER_0_1,
    "libattpc_merger:2.0": TraceLayout.MERGER_2_0,
}
"""The ``events.attrs['version']`` strings Spyral accepts, and the layout each names."""


class TriggerType(Enum):
    """The first value of the V977 coincidence register (``977``)."""

    EMPTY = 0
    MESH = 1
    IC_DOWNSCALE = 2
    AND = 3
