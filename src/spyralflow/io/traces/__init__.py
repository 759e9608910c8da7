"""Raw trace files (GET and FRIBDAQ data) in every layout Spyral knows.

``open_trace_reader(path, run)`` recognises the layout and returns a streaming reader; each
layout has its own module. ``TraceFileWriter`` builds files of any layout (tests, benchmarks,
simulations).
"""

from spyralflow.io.traces.base import (
    SCALER_TABLE_COLUMNS,
    RawEvent,
    TraceFormatError,
    TraceReader,
)
from spyralflow.io.traces.detect import detect_layout, open_trace_reader
from spyralflow.io.traces.layout import TraceLayout, TriggerType
from spyralflow.io.traces.writer import TraceFileWriter

__all__ = [
    "SCALER_TABLE_COLUMNS",
    "RawEvent",
    "TraceFileWriter",
    "TraceFormatError",
    "TraceLayout",
    "TraceReader",
    "TriggerType",
    "detect_layout",
    "open_trace_reader",
]
