"""The Pointcloud phase: raw GET/FRIB traces of a run to point clouds (spyral.md section 3)."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spyralflow.framework.phase import PhaseLike, PhaseResult
from spyralflow.framework.provenance import Provenance, current_provenance
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.status import StatusMessage
from spyralflow.io.pointcloud_file import PointcloudWriter
from spyralflow.io.scalers import write_gated_ic_count, write_scaler_parquet
from spyralflow.io.traces import RawEvent, TraceReader, open_trace_reader
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud.event import EventProcessor, TracePeaks, cloud_attributes
from spyralflow.phases.pointcloud.garfield import (
    DriftCorrection,
    build_correction_grid,
    correction_asset_name,
    garfield_table_path,
    read_garfield_table,
    write_correction_grid,
)
from spyralflow.phases.pointcloud.pads import PadMap
from spyralflow.phases.pointcloud.parameters import FribParameters, GetParameters, PadParameters
from spyralflow.phases.schemas import pointcloud_schema, trace_schema

log = logging.getLogger(__name__)

PHASE_NAME = "Pointcloud"
UNKNOWN_PAD_TRACES = "GET traces whose pad id is not in the pad map, no points made"


@dataclass
class RunTally:
    """What happened to the events of one run (for the log)."""

    events: int = 0
    clouds: int = 0
    points: int = 0
    without_get: int = 0
    ic_downscale: int = 0
    ic_downscale_good: int = 0


def progress_plan(n_events: int) -> tuple[int, int]:
    """Spyral's progress pattern: (total steps, events between messages)."""
    if n_events < 100:
        return n_events, 0
    return 100, int(0.01 * (n_events - 1))


class PointcloudPhase(PhaseLike):
    """Raw traces to point clouds, as Spyral's PointcloudPhase, without its bugs.

    For each event from the file's first to its last (both included): remove the GET baselines,
    find peaks, make one point per peak on traces with 1-5 peaks above threshold (beam pads and
    unknown pads excluded), calibrate time to z, optionally apply the Garfield drift correction,
    and sort by z. IC-downscale events make no cloud; those with a good IC signal are counted.

    Artifacts (``construct_artifact``), always written by ``run``:

    - ``pointcloud``: ``<ws>/Pointcloud/run_NNNN.h5`` (Spyral's layout);
    - ``scaler``: ``<ws>/Pointcloud/run_NNNN_scaler.parquet`` (every scaler event, 12 Int64
      columns, zero rows when the file has none);
    - ``gated_ic_scaler``: ``<ws>/Pointcloud/run_NNNN_gated_ic_scaler.txt``.

    Parameters
    ----------
    get_params : GetParameters
        GET (pad-plane) signal analysis.
    frib_params : FribParameters
        FRIBDAQ signal analysis and IC gate.
    det_params : DetectorParameters
        Time calibration and the optional Garfield correction.
    pad_params : PadParameters
        Pad map files.
    """

    def __init__(
        self,
        get_params: GetParameters,
        frib_params: FribParameters,
        det_params: DetectorParameters,
        pad_params: PadParameters,
    ) -> None:
        super().__init__(
            PHASE_NAME, incoming_schema=trace_schema(), outgoing_schema=pointcloud_schema()
        )
        self.get_params = get_params
        self.frib_params = frib_params
        self.det_params = det_params
        self.pad_params = pad_params
        self.pad_map = PadMap.from_parameters(pad_params)

    def correction_asset_path(self, workspace_path: Path) -> Path | None:
        """Where the Garfield correction grid lives; None when the correction is off."""
        if not self.det_params.do_garfield_correction:
            return None
        table = garfield_table_path(self.det_params)
        return self.get_asset_storage_path(workspace_path) / correction_asset_name(
            table, self.det_params
        )

    def create_assets(self, workspace_path: Path) -> bool:
        """Build the Garfield correction grid once, if the correction is enabled."""
        asset = self.correction_asset_path(workspace_path)
        if asset is None or asset.exists():
            return True
        log.info("building the Garfield correction grid %s", asset)
        table = read_garfield_table(garfield_table_path(self.det_params))
        write_correction_grid(asset, build_correction_grid(table, self.det_params))
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        """The three artifacts of ``payload.run_number`` (see the class docstring)."""
        folder = self.get_artifact_path(workspace_path)
        run = form_run_string(payload.run_number)
        return PhaseResult(
            artifacts={
                "pointcloud": folder / f"{run}.h5",
                "scaler": folder / f"{run}_scaler.parquet",
                "gated_ic_scaler": folder / f"{run}_gated_ic_scaler.txt",
            },
            successful=True,
            run_number=payload.run_number,
        )

    def _load_correction(self, workspace_path: Path) -> DriftCorrection | None:
        asset = self.correction_asset_path(workspace_path)
        if asset is None:
            return None
        if not asset.exists():
            raise FileNotFoundError(
                f"the Garfield correction grid {asset} does not exist; build it with the "
                "phase's create-assets step first"
            )
        return DriftCorrection.load(asset)

    def run(
        self,
        payload: PhaseResult,
        workspace_path: Path,
        msg_queue: Any,
        rng: np.random.Generator,
    ) -> PhaseResult:
        """Turn the run's trace file (``payload.artifacts["trace"]``) into its artifacts.

        Returns an unsuccessful result if the trace file does not exist.

        Raises
        ------
        TraceFormatError
            If the trace file's layout is unknown or damaged (the message names the file).
        FileNotFoundError
            If the Garfield correction is enabled but its grid was not built.
        """
        run_number = payload.run_number
        if "trace" not in payload.artifacts:
            raise KeyError(f"run {run_number}: the payload has no 'trace' artifact")
        trace_path = Path(payload.artifacts["trace"])
        if not trace_path.exists():
            log.error("run %d: the trace file %s does not exist", run_number, trace_path)
            return PhaseResult.invalid_result(run_number)
        result = self.construct_artifact(payload, workspace_path)
        processor = EventProcessor(
            self.get_params,
            self.frib_params,
            self.det_params,
            self.pad_map,
            self._load_correction(workspace_path),
        )
        provenance = current_provenance(self.name)
        with open_trace_reader(trace_path, run_number) as reader:
            scalers = reader.read_scalers()
            tally = self._write_clouds(
                reader, processor, result.artifacts["pointcloud"], provenance, msg_queue, rng
            )
        write_scaler_parquet(result.artifacts["scaler"], scalers, provenance)
        write_gated_ic_count(
            result.artifacts["gated_ic_scaler"],
            self.frib_params.ic_multiplicity,
            tally.ic_downscale_good,
            provenance,
        )
        log.info(
            "run %d: %d events (%d absent, %d without GET data, %d IC downscale of which %d "
            "good IC), %d clouds, %d points, %d scaler events; input checks: %s",
            run_number,
            tally.events,
            reader.selection.absent,
            tally.without_get,
            tally.ic_downscale,
            tally.ic_downscale_good,
            tally.clouds,
            tally.points,
            len(scalers),
            reader.report.summary(),
        )
        return result

    def _write_clouds(
        self,
        reader: TraceReader,
        processor: EventProcessor,
        path: Path,
        provenance: Provenance,
        msg_queue: Any,
        rng: np.random.Generator,
    ) -> RunTally:
        """Stream every event of ``reader`` into the point-cloud file at ``path``.

        The reader's input report (absent events, dropped traces) is stored with the file.
        """
        tally = RunTally()
        total, messages_every = progress_plan(len(reader))
        message = StatusMessage(self.name, 1, total, reader.run_number)
        since_message = 0
        with (
            PointcloudWriter(
                path, provenance, reader.first_event, reader.last_event, reader.report
            ) as writer,
            ThreadPoolExecutor(job_threads()) as pool,
        ):
            for event, found in events_with_peaks(reader, processor, pool, job_threads()):
                since_message += 1
                if since_message > messages_every:
                    since_message = 0
                    msg_queue.put(message)
                tally.events += 1
                if event is None:
                    continue
                self._process_event(reader, event, found, processor, writer, tally, rng)
        return tally

    @staticmethod
    def _process_event(
        reader: TraceReader,
        event: RawEvent,
        found: TracePeaks | None,
        processor: EventProcessor,
        writer: PointcloudWriter,
        tally: RunTally,
        rng: np.random.Generator,
    ) -> None:
        """Write one event's cloud, or count it if it is an IC-downscale event."""
        downscale = processor.is_ic_downscale(event)
        if event.get_pads is not None:
            unknown = processor.unknown_pad_traces(event.get_pads)
            if unknown:
                reader.report.count(UNKNOWN_PAD_TRACES, unknown, f"event {event.event}")
        cloud = None
        # Spyral finds peaks (drawing jitter) in all GET data it reads, before it looks at the
        # trigger; doing the same keeps the rng stream, hence the clouds, equal to Spyral's.
        if found is not None:
            if downscale:
                processor.draw_jitter(found, rng)
            else:
                cloud = processor.cloud(found, rng)
        for matrix in reader.read_silicon(event.event).values():
            processor.draw_jitter(processor.peaks(matrix), rng)
        if downscale:
            tally.ic_downscale += 1
            tally.ic_downscale_good += processor.ion_chamber(event) is not None
        elif cloud is None:
            tally.without_get += 1
        else:
            signal = processor.ion_chamber(event)
            writer.write(event.event, cloud, cloud_attributes(event, signal))
            tally.clouds += 1
            tally.points += len(cloud)


def job_threads() -> int:
    """The threads of the job (``SPYRALFLOW_THREADS``, set from the rule's ``threads:``), or 1."""
    text = os.environ.get("SPYRALFLOW_THREADS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else 1


def events_with_peaks(
    reader: TraceReader, processor: EventProcessor, pool: ThreadPoolExecutor, threads: int
) -> Iterator[tuple[RawEvent | None, TracePeaks | None]]:
    """Each event of ``reader`` in order (None if absent) with its GET peaks (None if no GET).

    With more than one thread, the next ``2 * threads`` events are read ahead and their peaks
    searched in ``pool`` (the kernels and the FFT release the GIL) while this thread reads and
    writes; the window keeps memory flat in the run length. Reading stays in this thread.
    """

    def search(event: RawEvent | None) -> TracePeaks | None:
        if event is None or event.get_pads is None:
            return None
        return processor.peaks(event.get_pads)

    events = (reader.read_event(number) for number in reader.event_numbers())
    if threads <= 1:
        for event in events:
            yield event, search(event)
        return
    window: deque[tuple[RawEvent | None, Future]] = deque()
    for event in events:
        window.append((event, pool.submit(search, event)))
        if len(window) >= 2 * threads:
            ahead, future = window.popleft()
            yield ahead, future.result()
    while window:
        ahead, future = window.popleft()
        yield ahead, future.result()
