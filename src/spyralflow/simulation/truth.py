"""The truth of a simulated run: a parquet table, and the kinematics in attpc_engine's layout.

Truth table, one row per (event, particle), particles being the rows of the engine's kinematics
(0 target, 1 projectile, 2 ejectile, 3 residual, then decay products):

=================  ==========  ==============================================================
column             dtype       meaning
=================  ==========  ==============================================================
run, event         Int64       run number; event number in the run (= orig_event downstream)
particle           Int64       kinematics row
Z, A               Int64       proton and mass number
simulated          Boolean     the detector simulation tracked this particle
kinetic_energy     Float64     MeV, at the vertex
polar, azimuthal   Float64     rad, lab frame, beam along +z; azimuthal in [0, 2π);
                               NaN for a particle at rest
brho               Float64     T·m (momentum / (299.792458 · Z)); NaN for Z = 0
excitation         Float64     MeV above the ground state (invariant mass - ground-state mass)
vertex_x/_y/_z     Float64     mm (z from the entrance window), the same for all rows of an event
px, py, pz         Float64     MeV/c, lab
total_energy       Float64     MeV, lab (the engine's E)
point_pad          List Int64  pads of the detector points this particle made (before the ADC
                               threshold), empty if not simulated
point_time_bucket  List Float  their time buckets (dithered, as in the engine's point cloud)
point_electrons    List Float  their electrons after gas gain
=================  ==========  ==============================================================

When two particles hit the same (pad, time bucket) the engine keeps one point with the summed
charge and the label of the last particle; the point then appears only in that particle's lists.
The engine's point clouds carry the same labels per point (``labels_<event>``).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import polars as pl
import pyarrow.parquet as pq

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.simulation.engine import MM_PER_M, DetectorEvent, KinematicsEvents, nucleus

BRHO_TO_MOMENTUM = 299.792458  # MeV/c per (T·m · unit charge)
ENGINE_CHUNK_SIZE = 1_000_000

TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Int64(),
    "event": pl.Int64(),
    "particle": pl.Int64(),
    "Z": pl.Int64(),
    "A": pl.Int64(),
    "simulated": pl.Boolean(),
    "kinetic_energy": pl.Float64(),
    "polar": pl.Float64(),
    "azimuthal": pl.Float64(),
    "brho": pl.Float64(),
    "excitation": pl.Float64(),
    "vertex_x": pl.Float64(),
    "vertex_y": pl.Float64(),
    "vertex_z": pl.Float64(),
    "px": pl.Float64(),
    "py": pl.Float64(),
    "pz": pl.Float64(),
    "total_energy": pl.Float64(),
    "point_pad": pl.List(pl.Int64()),
    "point_time_bucket": pl.List(pl.Float64()),
    "point_electrons": pl.List(pl.Float64()),
}


def particle_observables(
    momenta: np.ndarray, proton_numbers: np.ndarray, ground_state_masses: np.ndarray
) -> dict[str, np.ndarray]:
    """Kinetic energy, angles, Brho and excitation from lab four-momenta.

    Parameters
    ----------
    momenta : numpy.ndarray
        (..., 4) [px, py, pz, E] in MeV.
    proton_numbers : numpy.ndarray
        Z, broadcastable to ``momenta[..., 0]``.
    ground_state_masses : numpy.ndarray
        Ground-state masses in MeV, broadcastable likewise.

    Returns
    -------
    dict
        ``kinetic_energy`` (MeV), ``polar``, ``azimuthal`` (rad, azimuthal in [0, 2π)),
        ``brho`` (T·m) and ``excitation`` (MeV), each shaped like ``momenta[..., 0]``.
    """
    px, py, pz, energy = (momenta[..., index] for index in range(4))
    momentum = np.sqrt(px**2 + py**2 + pz**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        polar = np.where(momentum > 0.0, np.arccos(np.clip(pz / momentum, -1.0, 1.0)), np.nan)
        azimuthal = np.where(momentum > 0.0, np.mod(np.arctan2(py, px), 2.0 * np.pi), np.nan)
        charge = np.asarray(proton_numbers, dtype=float)
        brho = np.where(charge > 0, momentum / (BRHO_TO_MOMENTUM * charge), np.nan)
    invariant_mass = np.sqrt(np.maximum(energy**2 - momentum**2, 0.0))
    return {
        "kinetic_energy": energy - invariant_mass,
        "polar": polar,
        "azimuthal": azimuthal,
        "brho": brho,
        "excitation": invariant_mass - ground_state_masses,
    }


def truth_table(
    run: int,
    kinematics: KinematicsEvents,
    detector_events: list[DetectorEvent],
    simulated_particles: list[int],
) -> pl.DataFrame:
    """The truth table of a run (see the module docstring for the columns)."""
    n_events, n_particles = kinematics.momenta.shape[:2]
    masses = np.array(
        [
            nucleus(z, a).mass
            for z, a in zip(kinematics.proton_numbers, kinematics.mass_numbers, strict=True)
        ]
    )
    observables = particle_observables(kinematics.momenta, kinematics.proton_numbers, masses)
    point_lists: dict[str, list] = {"point_pad": [], "point_time_bucket": [], "point_electrons": []}
    for detector_event in detector_events:
        points, labels = detector_event.points, detector_event.labels
        for particle in range(n_particles):
            mine = points[labels == particle]
            point_lists["point_pad"].append(mine[:, 0].astype(np.int64))
            point_lists["point_time_bucket"].append(mine[:, 1])
            point_lists["point_electrons"].append(mine[:, 2])
    events = np.repeat(np.arange(n_events), n_particles)
    columns = {
        "run": np.full(n_events * n_particles, run),
        "event": events,
        "particle": np.tile(np.arange(n_particles), n_events),
        "Z": np.tile(kinematics.proton_numbers, n_events),
        "A": np.tile(kinematics.mass_numbers, n_events),
        "simulated": np.tile(np.isin(np.arange(n_particles), simulated_particles), n_events),
        **{name: values.ravel() for name, values in observables.items()},
        "vertex_x": np.repeat(kinematics.vertices[:, 0] * MM_PER_M, n_particles),
        "vertex_y": np.repeat(kinematics.vertices[:, 1] * MM_PER_M, n_particles),
        "vertex_z": np.repeat(kinematics.vertices[:, 2] * MM_PER_M, n_particles),
        "px": kinematics.momenta[..., 0].ravel(),
        "py": kinematics.momenta[..., 1].ravel(),
        "pz": kinematics.momenta[..., 2].ravel(),
        "total_energy": kinematics.momenta[..., 3].ravel(),
        **point_lists,
    }
    return pl.DataFrame(
        {name: pl.Series(name, columns[name], dtype=dtype) for name, dtype in TRUTH_SCHEMA.items()}
    )


def write_parquet(frame: pl.DataFrame, path: Path, provenance: Provenance) -> None:
    """Write ``frame`` atomically with the provenance as key-value metadata."""
    table = frame.to_arrow()
    metadata = dict(table.schema.metadata or {})
    metadata[PROVENANCE_KEY.encode()] = provenance.to_json().encode()
    with atomic_output(path) as temporary:
        pq.write_table(table.replace_schema_metadata(metadata), temporary)


def write_kinematics_file(path: Path, kinematics: KinematicsEvents, provenance: Provenance) -> None:
    """Write the kinematics in attpc_engine's own file layout (``run_kinematics_pipeline``).

    ``/data`` (attributes n_events, chunk_size, n_chunks, proton_numbers, mass_numbers), groups
    ``/data/chunk_K`` (min_event, max_event) of up to 1 000 000 events, datasets
    ``event_N`` (n_nuclei, 4) [px, py, pz, E] in MeV with vertex_x/_y/_z in m. The engine's
    tools (``convert-kinematics``, ``run_simulation``) read it.
    """
    with atomic_output(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.attrs[PROVENANCE_KEY] = provenance.to_json()
        data = handle.create_group("data")
        data.attrs["n_events"] = kinematics.n_events
        data.attrs["proton_numbers"] = kinematics.proton_numbers
        data.attrs["mass_numbers"] = kinematics.mass_numbers
        data.attrs["chunk_size"] = ENGINE_CHUNK_SIZE
        n_chunks = max(1, -(-kinematics.n_events // ENGINE_CHUNK_SIZE))
        data.attrs["n_chunks"] = n_chunks
        for chunk in range(n_chunks):
            first = chunk * ENGINE_CHUNK_SIZE
            last = min(first + ENGINE_CHUNK_SIZE, kinematics.n_events) - 1
            group = data.create_group(f"chunk_{chunk}")
            group.attrs["min_event"] = first
            group.attrs["max_event"] = last
            for event in range(first, last + 1):
                dataset = group.create_dataset(
                    f"event_{event}", data=kinematics.momenta[event], track_times=False
                )
                vertex = kinematics.vertices[event]
                dataset.attrs["vertex_x"] = vertex[0]
                dataset.attrs["vertex_y"] = vertex[1]
                dataset.attrs["vertex_z"] = vertex[2]
