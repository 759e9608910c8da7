"""Simulated solver input for the InterpSolver benchmark: 16C(d,d') deuterons with truth.

attpc_engine's getting-started reaction (attpc_engine.md section 2): 16C + d at 184.131 MeV in
300 Torr D2, half to the 16C ground state and half to its 2+ state (1.766 MeV), uniform
centre-of-mass polar angle, vertex z uniform over the 1 m drift, vertex rho ~ |N(0, 7 mm)|. Only
the deuteron is sent through the detector simulation (``indices=[2]``), so every cloud is one
deuteron track; it becomes the event's only cluster (direction from the true polar angle), in
Spyral's Cluster layout. spyralflow's Estimation phase then gives the estimates the solvers start
from. The engine seeds its generators from OS entropy; they are replaced by seeded ones here.

Output folder: ``kinematics.h5``, ``truth.parquet`` (one row per event: vertex in mm, polar,
azimuthal in rad, brho in T·m, ke in MeV), ``Cluster/run_0000.h5`` and
``Estimation/run_0000.parquet``.

Usage: python benchmarks/interp_sample.py --events 600 --output /tmp/spyralflow_interp_sample
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import h5py
import numpy as np
import polars as pl

BEAM_ENERGY_MEV = 184.131
STATES_MEV = (0.0, 1.766)
DEUTERON_ROW = 2
RUN = 0
DEFAULT_OUTPUT = Path("/tmp/spyralflow_interp_sample")


class TwoStates:
    """Half of the events to each of two narrow states (0.5 keV FWHM)."""

    def __init__(self, centroids: tuple[float, float], fwhm_mev: float = 0.0005) -> None:
        self.centroids = centroids
        self.sigma = fwhm_mev / 2.355

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.normal(self.centroids[int(rng.integers(0, 2))], self.sigma))


def _seeded(seed: int):
    """A stand-in for ``numpy.random.default_rng`` that ignores its argument."""
    sequence = np.random.SeedSequence(seed)

    def factory(*_args, **_kwargs) -> np.random.Generator:
        return np.random.default_rng(sequence.spawn(1)[0])

    return factory


def simulate_clouds(output: Path, events: int, seed: int) -> Path:
    """Kinematics and the deuterons' point clouds; returns the point-cloud file."""
    import attpc_engine.detector.simulator as simulator_module
    import attpc_engine.kinematics.pipeline as pipeline_module
    from attpc_engine import nuclear_map
    from attpc_engine.detector import (
        Config,
        DetectorParams,
        ElectronicsParams,
        PadParams,
        SpyralWriter,
        run_simulation,
    )
    from attpc_engine.kinematics import (
        KinematicsPipeline,
        KinematicsTargetMaterial,
        PolarUniform,
        Reaction,
        run_kinematics_pipeline,
    )
    from spyral_utils.nuclear.target import GasTarget

    pipeline_module.default_rng = _seeded(seed)
    simulator_module.default_rng = _seeded(seed + 1)
    gas = GasTarget([(1, 2, 2)], 300.0, nuclear_map)
    pipeline = KinematicsPipeline(
        [
            Reaction(
                target=nuclear_map.get_data(1, 2),
                projectile=nuclear_map.get_data(6, 16),
                ejectile=nuclear_map.get_data(1, 2),
            )
        ],
        [TwoStates(STATES_MEV)],
        [PolarUniform(0.0, math.pi)],
        beam_energy=BEAM_ENERGY_MEV,
        target_material=KinematicsTargetMaterial(material=gas, z_range=(0.0, 1.0), rho_sigma=0.007),
    )
    kinematics = output / "kinematics.h5"
    run_kinematics_pipeline(pipeline, events, kinematics)
    detector = DetectorParams(
        length=1.0,
        efield=45000.0,
        bfield=2.85,
        mpgd_gain=175000,
        gas_target=gas,
        diffusion=0.277,
        fano_factor=0.2,
        w_value=34.0,
    )
    electronics = ElectronicsParams(
        clock_freq=6.25,
        amp_gain=900,
        shaping_time=1000,
        micromegas_edge=10,
        windows_edge=560,
        adc_threshold=10,
    )
    clouds = output / "pointcloud"
    clouds.mkdir(exist_ok=True)
    writer = SpyralWriter(clouds, Config(detector, electronics, PadParams()), events + 1)
    run_simulation(Config(detector, electronics, PadParams()), kinematics, writer, indices=[2])
    return clouds / f"run_{RUN:04d}.h5"


def write_truth(kinematics: Path, path: Path) -> None:
    """One row per event: the deuteron's vertex (mm), angles (rad), brho (T·m), ke (MeV)."""
    rows: dict[str, list[float]] = {
        key: []
        for key in ("event", "vertex_x", "vertex_y", "vertex_z", "polar", "azimuthal", "brho", "ke")
    }
    with h5py.File(kinematics, "r") as handle:
        group = handle["data"]
        for chunk in range(int(group.attrs["n_chunks"])):
            chunk_group = group[f"chunk_{chunk}"]
            first, last = int(chunk_group.attrs["min_event"]), int(chunk_group.attrs["max_event"])
            for event in range(first, last + 1):
                dataset = chunk_group[f"event_{event}"]
                px, py, pz, energy = dataset[DEUTERON_ROW]
                momentum = math.sqrt(px * px + py * py + pz * pz)
                mass = math.sqrt(max(energy**2 - momentum**2, 0.0))
                rows["event"].append(event)
                for axis in "xyz":
                    rows[f"vertex_{axis}"].append(float(dataset.attrs[f"vertex_{axis}"]) * 1000.0)
                rows["polar"].append(math.acos(pz / momentum))
                rows["azimuthal"].append(math.atan2(py, px) % (2.0 * math.pi))
                rows["brho"].append(momentum / 299.792458)
                rows["ke"].append(energy - mass)
    pl.DataFrame(rows).with_columns(pl.col("event").cast(pl.Int64)).write_parquet(path)


def write_clusters(pointcloud: Path, truth: Path, path: Path) -> None:
    """Each cloud (one deuteron) as the event's single cluster, in Spyral's Cluster layout."""
    from spyralflow.framework.provenance import Provenance
    from spyralflow.io.cluster_file import ClusterWriter, Direction
    from spyralflow.io.pointcloud_file import iter_pointclouds, read_event_range

    polar = dict(
        zip(*pl.read_parquet(truth).select("event", "polar").to_dict().values(), strict=True)
    )
    first, last = read_event_range(pointcloud)
    with ClusterWriter(path, Provenance("Cluster"), first, last) as writer:
        for event in iter_pointclouds(pointcloud):
            cloud = event.cloud[np.argsort(event.cloud[:, 2], kind="stable")]
            if len(cloud) < 10:
                continue
            data = cloud[:, [0, 1, 2, 4, 7]]
            direction = (
                Direction.FORWARD if polar[event.event] < math.pi / 2 else Direction.BACKWARD
            )
            writer.write(event.event, event.attributes, [(0, direction, data)])


def estimate(cluster: Path, workspace: Path) -> Path:
    """spyralflow's Estimation phase on the cluster file; returns the estimation parquet."""
    from spyralflow.framework.phase import PhaseResult
    from spyralflow.framework.status import ProgressLog
    from spyralflow.phases.detector import DetectorParameters
    from spyralflow.phases.estimation import EstimationPhase
    from spyralflow.phases.estimation.parameters import EstimateParameters

    phase = EstimationPhase(EstimateParameters(), DetectorParameters())
    payload = PhaseResult(artifacts={"cluster": cluster}, successful=True, run_number=RUN)
    result = phase.run(payload, workspace, ProgressLog(min_interval_s=30), np.random.default_rng(0))
    return Path(result.artifacts["estimation"])


def make_sample(output: Path, events: int, seed: int) -> dict[str, Path]:
    """Simulate, cluster by truth and estimate (skipped when the files already exist)."""
    output.mkdir(parents=True, exist_ok=True)
    paths = {
        "truth": output / "truth.parquet",
        "cluster": output / "Cluster" / f"run_{RUN:04d}.h5",
        "estimation": output / "Estimation" / f"run_{RUN:04d}.parquet",
    }
    if all(path.exists() for path in paths.values()):
        return paths
    start = time.perf_counter()
    pointcloud = simulate_clouds(output, events, seed)
    write_truth(output / "kinematics.h5", paths["truth"])
    paths["cluster"].parent.mkdir(exist_ok=True)
    write_clusters(pointcloud, paths["truth"], paths["cluster"])
    estimate(paths["cluster"], output)
    print(f"sample of {events} events made in {time.perf_counter() - start:.0f} s in {output}")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20260211)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    make_sample(args.output, args.events, args.seed)


if __name__ == "__main__":
    main()
