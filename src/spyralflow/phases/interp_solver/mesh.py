"""The trajectory mesh asset: its content hash, its files, building and memory-mapping it.

Files, in ``<workspace>/InterpSolver_assets/``:

- ``mesh-<hash>.npy``: float32 array (ke_bins, polar_bins, n_time_steps, 3) of x, y, z in m of
  an ion starting at the origin with azimuth 0, uncompressed so that jobs memory-map it read-only
  and share one copy in the page cache. The trajectory axis is innermost (unlike Spyral's
  (time, 3, ke, polar) float64), so interpolating one trajectory reads four contiguous blocks;
  float32 keeps positions to 0.1 µm and halves the size.
- ``mesh-<hash>.lengths.npy``: int32 (ke_bins, polar_bins) number of live samples of each
  trajectory (later samples hold the final position; the fit skips them).
- ``mesh-<hash>.json``: the metadata (what was hashed, shape, sample times, build time). Written
  last: a mesh whose JSON is missing is incomplete.

``<hash>`` covers the particle (Z, A), the gas (its normalised content, not its file name), B,
E, all ranges, bins and steps, and a tag of the mesh-building code (the source of the modules
that build it, the mesh format version, and the pycatima and spyral-utils versions). Two
configurations therefore never overwrite each other's mesh, and any change gives a new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import mmap
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import current_provenance

log = logging.getLogger(__name__)

MESH_FORMAT_VERSION = 1
MESH_DTYPE = np.float32
MESH_LAYOUT = "ke, polar, time, xyz"
# The modules whose code decides the mesh's numbers.
_BUILD_SOURCES = ("motion.py", "mesh_builder.py")
_PHYSICS_PACKAGES = ("pycatima", "spyral-utils")


class MeshError(RuntimeError):
    """The trajectory mesh is missing, incomplete or does not match its metadata."""


def mesh_code_tag(source_folder: Path | None = None) -> str:
    """Hex digest (16) of the mesh-building code: sources, format version and physics packages.

    Parameters
    ----------
    source_folder : Path, optional
        Folder of the building modules' sources; this package's by default.
    """
    digest = hashlib.sha256(f"format {MESH_FORMAT_VERSION}".encode())
    folder = Path(source_folder) if source_folder is not None else Path(__file__).parent
    for name in _BUILD_SOURCES:
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    for package in _PHYSICS_PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\0".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class MeshSpecification:
    """Everything a trajectory mesh depends on.

    Parameters
    ----------
    particle_z, particle_a : int
        The ion.
    gas : dict
        Normalised gas content (``targets.gas_identity``).
    magnetic_field : float
        T.
    electric_field : float
        V/m.
    ke_min, ke_max : float
        Kinetic-energy range, MeV.
    ke_bins : int
        Kinetic-energy nodes.
    polar_min, polar_max : float
        Polar-angle range, degrees.
    polar_bins : int
        Polar-angle nodes.
    n_time_steps : int
        Samples per trajectory.
    code_tag : str
        ``mesh_code_tag()`` of the code that builds it.
    """

    particle_z: int
    particle_a: int
    gas: dict[str, Any]
    magnetic_field: float
    electric_field: float
    ke_min: float
    ke_max: float
    ke_bins: int
    polar_min: float
    polar_max: float
    polar_bins: int
    n_time_steps: int
    code_tag: str = field(default_factory=mesh_code_tag)

    def identity(self) -> dict[str, Any]:
        """The specification as plain, normalised data (what the hash covers)."""
        values = asdict(self)
        for name in ("magnetic_field", "electric_field", "ke_min", "ke_max"):
            values[name] = float(values[name])
        for name in ("polar_min", "polar_max"):
            values[name] = float(values[name])
        for name in ("particle_z", "particle_a", "ke_bins", "polar_bins", "n_time_steps"):
            values[name] = int(values[name])
        return values

    @property
    def digest(self) -> str:
        """Hex SHA-256 (16 digits) of the identity."""
        text = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (self.ke_bins, self.polar_bins, self.n_time_steps, 3)

    @property
    def size_bytes(self) -> int:
        return math.prod(self.shape) * np.dtype(MESH_DTYPE).itemsize


@dataclass(frozen=True)
class MeshFiles:
    """The three files of one mesh.

    Parameters
    ----------
    folder : Path
        The phase's asset folder.
    digest : str
        The specification's hash.
    """

    folder: Path
    digest: str

    @property
    def positions(self) -> Path:
        return Path(self.folder) / f"mesh-{self.digest}.npy"

    @property
    def lengths(self) -> Path:
        return Path(self.folder) / f"mesh-{self.digest}.lengths.npy"

    @property
    def metadata(self) -> Path:
        return Path(self.folder) / f"mesh-{self.digest}.json"

    def complete(self) -> bool:
        """All three files exist (the JSON, written last, marks a finished build)."""
        return self.positions.is_file() and self.lengths.is_file() and self.metadata.is_file()


@dataclass(frozen=True)
class TrajectoryMesh:
    """A loaded mesh, ready for the interpolation kernels.

    Parameters
    ----------
    positions : numpy.ndarray
        (ke, polar, time, 3) float32 positions in m, memory-mapped read-only.
    lengths : numpy.ndarray
        (ke, polar) int32 live samples per trajectory.
    times : numpy.ndarray
        Sample times, s.
    ke_min, ke_max : float
        First and last kinetic-energy node, MeV.
    polar_min, polar_max : float
        First and last polar node, rad.
    path : Path
        The positions file.
    """

    positions: np.ndarray
    lengths: np.ndarray
    times: np.ndarray
    ke_min: float
    ke_max: float
    polar_min: float
    polar_max: float
    path: Path

    @property
    def kernel_arguments(self) -> tuple[np.ndarray, np.ndarray, float, float, float, float]:
        """The mesh as the trajectory kernels take it: positions, lengths, KE and polar range."""
        return (
            self.positions,
            self.lengths,
            self.ke_min,
            self.ke_max,
            self.polar_min,
            self.polar_max,
        )

    def contains(self, kinetic_energy: float, polar: float) -> bool:
        """Whether (MeV, rad) lies in the mesh's range, edges included."""
        return (
            self.ke_min <= kinetic_energy <= self.ke_max
            and self.polar_min <= polar <= self.polar_max
        )


def build_mesh(
    specification: MeshSpecification,
    target: Any,
    particle: Any,
    folder: Path,
    threads: int,
) -> MeshFiles:
    """Build the mesh and write its files atomically (temporary names, then renamed).

    Parameters
    ----------
    specification : MeshSpecification
        What to build.
    target : spyral_utils GasTarget or GasMixtureTarget
        The gas (loaded from the specification's gas).
    particle : spyral_utils NucleusData
        The ion.
    folder : Path
        The asset folder.
    threads : int
        Threads to integrate with.

    Returns
    -------
    MeshFiles
        The written files.
    """
    from spyralflow.phases.interp_solver.mesh_builder import (
        energy_grid,
        mesh_blocks,
        plan_times,
        polar_grid_rad,
        set_build_threads,
    )
    from spyralflow.phases.interp_solver.motion import build_transport_model

    files = MeshFiles(Path(folder), specification.digest)
    used_threads = set_build_threads(threads)
    started = time.perf_counter()
    log.info(
        "building trajectory mesh %s: %s in %s, %d x %d x %d samples (%.1f MB) on %d thread(s)",
        files.positions.name,
        particle.isotopic_symbol,
        target.ugly_string,
        specification.ke_bins,
        specification.polar_bins,
        specification.n_time_steps,
        specification.size_bytes / 1e6,
        used_threads,
    )
    model = build_transport_model(
        target,
        particle,
        specification.magnetic_field,
        specification.electric_field,
        specification.ke_max,
    )
    energies = energy_grid(specification.ke_min, specification.ke_max, specification.ke_bins)
    polars = polar_grid_rad(
        specification.polar_min, specification.polar_max, specification.polar_bins
    )
    times = plan_times(model, energies, polars, specification.n_time_steps)
    lengths = []
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(MESH_DTYPE)),
        "fortran_order": False,
        "shape": specification.shape,
    }
    # Blocks are computed in parallel and written sequentially: writing through a memory map
    # instead made the build ten times slower (one page fault per 4 kB of a large mesh).
    with atomic_output(files.positions) as temporary, open(temporary, "wb") as stream:
        np.lib.format.write_array_header_1_0(stream, header)
        for positions, block_lengths in mesh_blocks(model, energies, polars, times):
            stream.write(positions.data)
            lengths.append(block_lengths)
    window = float(times[-1])
    with atomic_output(files.lengths) as temporary, open(temporary, "wb") as stream:
        np.save(stream, np.concatenate(lengths))
    elapsed = time.perf_counter() - started
    content = {
        "format_version": MESH_FORMAT_VERSION,
        "hash": specification.digest,
        "specification": specification.identity(),
        "particle": particle.isotopic_symbol,
        "gas": target.ugly_string,
        "layout": MESH_LAYOUT,
        "shape": list(specification.shape),
        "dtype": np.dtype(MESH_DTYPE).name,
        "time_window_s": window,
        "times_s": [float(t) for t in times],
        "stop_energy_mev": model.stop_energy,
        "build_seconds": round(elapsed, 3),
        "build_threads": used_threads,
        "provenance": json.loads(current_provenance("InterpSolver").to_json()),
    }
    with atomic_output(files.metadata) as temporary:
        temporary.write_text(json.dumps(content, indent=2, sort_keys=True))
    log.info("trajectory mesh %s built in %.1f s", files.positions.name, elapsed)
    return files


def _advise_random_access(positions: np.memmap) -> None:
    """Tell the kernel not to read ahead: a fit reads a few trajectories scattered in the file.

    Without it, each page fault also brings its neighbours in, and a job ends up with nearly the
    whole mesh resident (shared, but still read from disk).
    """
    mapping = getattr(positions, "_mmap", None)
    if mapping is not None and hasattr(mmap, "MADV_RANDOM"):
        mapping.madvise(mmap.MADV_RANDOM)


def load_mesh(specification: MeshSpecification, folder: Path) -> TrajectoryMesh:
    """Memory-map the mesh of ``specification`` read-only.

    Raises
    ------
    MeshError
        If the mesh files are missing or incomplete (the message names the asset rule to run),
        or their metadata disagrees with the specification.
    """
    files = MeshFiles(Path(folder), specification.digest)
    if not files.complete():
        raise MeshError(
            f"the trajectory mesh {files.positions} (or its .lengths.npy/.json) does not exist "
            "for these solver and detector parameters; build it first with the phase's asset "
            "rule (snakemake runs it before the solver; by hand: `spyralflow create-assets` "
            "with the same phase parameters)"
        )
    content = json.loads(files.metadata.read_text())
    if content.get("hash") != specification.digest or content.get("specification") != json.loads(
        json.dumps(specification.identity())
    ):
        raise MeshError(f"mesh metadata {files.metadata} does not match the solver parameters")
    positions = np.load(files.positions, mmap_mode="r")
    _advise_random_access(positions)
    lengths = np.load(files.lengths)
    if positions.shape != specification.shape or positions.dtype != MESH_DTYPE:
        raise MeshError(
            f"mesh {files.positions} has shape {positions.shape} and dtype {positions.dtype}, "
            f"expected {specification.shape} and {np.dtype(MESH_DTYPE).name}; delete it and "
            "rebuild it with the asset rule"
        )
    if lengths.shape != specification.shape[:2]:
        raise MeshError(f"mesh lengths {files.lengths} have shape {lengths.shape}")
    return TrajectoryMesh(
        positions=positions,
        lengths=lengths.astype(np.int32, copy=False),
        times=np.asarray(content["times_s"], float),
        ke_min=float(specification.ke_min),
        ke_max=float(specification.ke_max),
        polar_min=math.radians(specification.polar_min),
        polar_max=math.radians(specification.polar_max),
        path=files.positions,
    )
