"""Reader of the ``libattpc_merger:1.0`` layout (also written by ``synchronizer:0.1.0``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import h5py
import numpy as np

from spyralflow.io.checks import numbered_members, range_problem, select_events
from spyralflow.io.traces.base import (
    RawEvent,
    TraceReader,
    child_dataset,
    child_group,
    integer_attribute,
)
from spyralflow.io.traces.layout import (
    FRIB_COINCIDENCE_DATASET,
    FRIB_TRACES_DATASET,
    TraceLayout,
)

_EVENT_NAME = re.compile(r"event_(\d+)")


class MergerV1Reader(TraceReader):
    """Events in ``events/event_{N}`` with ``get_traces`` and ``frib_physics`` (section 2.4).

    Unlike Spyral, the last event (``max_event``) is read, every scaler event is read, and an
    event whose ``frib_physics`` lacks ``1903`` (the merger skips an empty SIS3300) is valid.
    """

    layout = TraceLayout.MERGER_1_0
    get_dataset_name = "get_traces"

    def _inspect(self) -> tuple[int, int]:
        events = child_group(self.handle, "events")
        if events is None:
            raise self.error("no 'events' group")
        self._events = events
        return (
            integer_attribute(self, events, "min_event"),
            integer_attribute(self, events, "max_event"),
        )

    def _present_events(self) -> Iterable[int]:
        return numbered_members(self._events, _EVENT_NAME)

    def _get_dataset(self, group: h5py.Group) -> h5py.Dataset:
        dataset = child_dataset(group, self.get_dataset_name)
        if dataset is None:
            raise self.error(f"{group.name} has no dataset '{self.get_dataset_name}'")
        return dataset

    def _original_ids(self, group: h5py.Group, event: int) -> tuple[int, int]:
        return self.run_number, event

    def _read_event(self, event: int) -> RawEvent | None:
        group = child_group(self._events, f"event_{event}")
        if group is None:
            return None
        get_pads = self._get_matrix(self._get_dataset(group))
        frib_traces, trigger = self._frib_part(
            child_group(group, "frib_physics"), FRIB_TRACES_DATASET, FRIB_COINCIDENCE_DATASET
        )
        original_run, original_event = self._original_ids(group, event)
        return RawEvent(event, get_pads, frib_traces, trigger, original_run, original_event)

    def _read_scalers(self) -> np.ndarray:
        group = child_group(self.handle, "scalers")
        rows: list[list[int]] = []
        if group is not None:
            first = integer_attribute(self, group, "min_event")
            last = integer_attribute(self, group, "max_event")
            problem = range_problem(first, last)
            if problem is not None:
                raise self.error(f"scalers: {problem}")
            # Only the scaler events present are visited, whatever the range claims.
            selection = select_events(first, last, numbered_members(group, _EVENT_NAME))
            selection.record(self.report, "a scaler dataset")
            for index in selection.events:
                dataset = child_dataset(group, f"event_{index}")
                if dataset is None:
                    raise self.error(f"scalers/event_{index} is not a dataset")
                rows.append(self._scaler_row(index, dataset))
        return self.scaler_table(rows)
