"""Seeded attpc_engine sample for the Cluster/Estimation benchmark: 16C(d,d') at 184 MeV.

The getting-started reaction of attpc_engine (attpc_engine.md section 2): 16C + d at
184.131 MeV in 300 Torr D2, half of the events to the 16C ground state and half to its 2+
state (1.766 MeV), uniform centre-of-mass polar angle, vertex z uniform in the 1 m drift
length, vertex rho ~ |N(0, 7 mm)|. Both final-state nuclei are simulated, so the clouds
carry the engine's per-point labels (2 = deuteron, 3 = 16C).

The engine seeds its generators from OS entropy; this script replaces them with seeded
ones so the sample is the same on every machine. Output, in ``--output``:
``kinematics.h5`` (truth), ``truth.parquet`` (one row per event) and
``pointcloud/run_NNNN.h5`` (``--events-per-run`` events each).

Usage: python benchmarks/cluster_simulate.py --events 4000 --output /tmp/spyralflow_c16dd
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
GROUND_AND_2PLUS_MEV = (0.0, 1.766)
DEUTERON_ROW = 2


class TwoStateExcitation:
    """Half of the events to each of two narrow states (0.5 keV FWHM)."""

    def __init__(self, centroids: tuple[float, float], fwhm_mev: float = 0.0005) -> None:
        self.centroids = centroids
        self.sigma = fwhm_mev / 2.355

    def sample(self, rng: np.random.Generator) -> float:
        centroid = self.centroids[int(rng.integers(0, 2))]
        return float(rng.normal(centroid, self.sigma))


def _seeded(seed: int):
    """A stand-in for ``numpy.random.default_rng`` that ignores its argument."""
    sequence = np.random.SeedSequence(seed)

    def factory(*_args, **_kwargs) -> np.random.Generator:
        return np.random.default_rng(sequence.spawn(1)[0])

    return factory


def simulate(output: Path, events: int, events_per_run: int, seed: int) -> None:
    """Generate kinematics, truth table and point clouds into ``output``."""
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

    output.mkdir(parents=True, exist_ok=True)
    cloud_folder = output / "pointcloud"
    cloud_folder.mkdir(exist_ok=True)
    gas = GasTarget([(1, 2, 2)], 300.0, nuclear_map)
    pipeline = KinematicsPipeline(
        [
            Reaction(
                target=nuclear_map.get_data(1, 2),
                projectile=nuclear_map.get_data(6, 16),
                ejectile=nuclear_map.get_data(1, 2),
            )
        ],
        [TwoStateExcitation(GROUND_AND_2PLUS_MEV)],
        [PolarUniform(0.0, math.pi)],
        beam_energy=BEAM_ENERGY_MEV,
        target_material=KinematicsTargetMaterial(material=gas, z_range=(0.0, 1.0), rho_sigma=0.007),
    )
    kinematics_path = output / "kinematics.h5"
    start = time.perf_counter()
    run_kinematics_pipeline(pipeline, events, kinematics_path)
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
    config = Config(detector, electronics, PadParams())
    writer = SpyralWriter(cloud_folder, config, events_per_run)
    run_simulation(config, kinematics_path, writer)
    write_truth(kinematics_path, output / "truth.parquet")
    print(f"simulated {events} events in {time.perf_counter() - start:.1f} s into {output}")


def write_truth(kinematics_path: Path, truth_path: Path) -> None:
    """One row per event: the deuteron's vertex (mm), polar, azimuthal (rad) and Brho (T m)."""
    rows: dict[str, list[float]] = {
        key: []
        for key in ("event", "vertex_x", "vertex_y", "vertex_z", "polar", "azimuthal", "brho")
    }
    with h5py.File(kinematics_path, "r") as handle:
        group = handle["data"]
        for chunk in range(int(group.attrs["n_chunks"])):
            chunk_group = group[f"chunk_{chunk}"]
            first, last = int(chunk_group.attrs["min_event"]), int(chunk_group.attrs["max_event"])
            for event in range(first, last + 1):
                dataset = chunk_group[f"event_{event}"]
                px, py, pz, _energy = dataset[DEUTERON_ROW]
                momentum = math.sqrt(px * px + py * py + pz * pz)
                rows["event"].append(event)
                rows["vertex_x"].append(float(dataset.attrs["vertex_x"]) * 1000.0)
                rows["vertex_y"].append(float(dataset.attrs["vertex_y"]) * 1000.0)
                rows["vertex_z"].append(float(dataset.attrs["vertex_z"]) * 1000.0)
                rows["polar"].append(math.acos(pz / momentum))
                rows["azimuthal"].append(math.atan2(py, px) % (2.0 * math.pi))
                # Brho = p / (Z e); p in MeV/c, charge 1 for the deuteron.
                rows["brho"].append(momentum / 299.792458)
    pl.DataFrame(rows).with_columns(pl.col("event").cast(pl.Int64)).write_parquet(truth_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--events-per-run", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20260211)
    parser.add_argument("--output", type=Path, default=Path("/tmp/spyralflow_c16dd"))
    args = parser.parse_args()
    simulate(args.output, args.events, args.events_per_run, args.seed)


if __name__ == "__main__":
    main()
