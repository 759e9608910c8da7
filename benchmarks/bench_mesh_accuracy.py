"""Accuracy of the trajectory mesh: interpolated tracks against exactly integrated ones.

For each ion, gas and field of the physics matrix (``physics_matrix.SAMPLES``) and each
``--time-steps`` value, the mesh of the shipped config's grid (0.1-75 MeV in 150 nodes, 2-88 deg
in 45) is sampled as the solver samples it (``mesh_builder.plan_times``). At ``--tracks`` random
(kinetic energy, polar angle) between the nodes, the four corner trajectories of the cell are
integrated at those times and blended by the solver's own kernel (``interpolate_local``); the
same (energy, polar) is integrated again at 40 000 times. Printed: the distance of the exact
track's points to the interpolated polyline, per track its RMS and maximum, as median and 90th
percentile over the tracks (mm), and the ratio of each figure to the first ``--time-steps``
value (the baseline, run in the same script).

The RMS is the chord error of the polyline (it falls as the square of the sample spacing); the
maximum is mostly at the track's end, where the four corners stop or leave the detector at
different samples.

Usage: python benchmarks/bench_mesh_accuracy.py [--time-steps 400 1000] [--tracks 150]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import physics_matrix

from spyralflow.phases.interp_solver import mesh_builder
from spyralflow.phases.interp_solver.motion import (
    build_transport_model,
    integrate_trajectory,
)
from spyralflow.phases.interp_solver.targets import load_gas_target, nucleus
from spyralflow.phases.interp_solver.trajectory import (
    interpolate_local,
    nearest_on_polyline,
)

ELECTRIC_FIELD = 45000.0
EXACT_SAMPLES = 40_000
EXACT_POINTS = 2_000


def track_errors(model, energies, polars, times, picks) -> np.ndarray:
    """(tracks, 2) RMS and maximum distance (m) of the exact tracks to the interpolated ones."""
    arguments = model.kernel_arguments()
    n = times.size
    errors = []
    for i, j, energy_fraction, polar_fraction in picks:
        positions = np.empty((2, 2, n, 3), np.float32)
        lengths = np.empty((2, 2), np.int32)
        for a in range(2):
            for b in range(2):
                out = np.empty((n, 3))
                lengths[a, b], _ = integrate_trajectory(
                    energies[i + a], polars[j + b], times, out, *arguments
                )
                positions[a, b] = out
        energy = energies[i] + energy_fraction * (energies[i + 1] - energies[i])
        polar = polars[j] + polar_fraction * (polars[j + 1] - polars[j])
        live, local, _, _ = interpolate_local(
            positions,
            lengths,
            energies[i],
            energies[i + 1],
            polars[j],
            polars[j + 1],
            energy,
            polar,
        )
        fine = np.linspace(0.0, times[-1], EXACT_SAMPLES)
        exact = np.empty((fine.size, 3))
        count, _ = integrate_trajectory(energy, polar, fine, exact, *arguments)
        points = np.ascontiguousarray(exact[: count : max(1, count // EXACT_POINTS)])
        distances, _, _ = nearest_on_polyline(points, local, max(live - 1, 1))
        errors.append((np.sqrt(np.mean(distances**2)), distances.max()))
    return np.array(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-steps", type=int, nargs="+", default=[400, 1000])
    parser.add_argument("--tracks", type=int, default=150)
    args = parser.parse_args()
    mesh = physics_matrix.MESH
    energies = mesh_builder.energy_grid(
        mesh["interp_ke_min"], mesh["interp_ke_max"], mesh["interp_ke_bins"]
    )
    polars = mesh_builder.polar_grid_rad(
        mesh["interp_polar_min"], mesh["interp_polar_max"], mesh["interp_polar_bins"]
    )
    rng = np.random.default_rng(1)
    picks = [
        (
            int(rng.integers(0, energies.size - 1)),
            int(rng.integers(0, polars.size - 1)),
            rng.random(),
            rng.random(),
        )
        for _ in range(args.tracks)
    ]
    print(
        f"mesh grid {energies[0]}-{energies[-1]} MeV x {energies.size}, "
        f"{np.degrees(polars[0]):.0f}-{np.degrees(polars[-1]):.0f} deg x {polars.size}; "
        f"{args.tracks} tracks between the nodes; distances of the exact track to the "
        "interpolated one, mm (ratio to the first row of its sample)"
    )
    print(f"{'sample':16s} {'ion':4s} {'steps':>5s}  rms median    rms p90  max median    max p90")
    with tempfile.TemporaryDirectory() as folder:
        for sample in physics_matrix.SAMPLES:
            name, ejectile, field = sample[0], sample[2], sample[6]
            gas, _ = physics_matrix.target_files(sample, Path(folder))
            ion = nucleus(*ejectile)
            model = build_transport_model(
                load_gas_target(gas), ion, field, ELECTRIC_FIELD, float(energies[-1])
            )
            baseline = None
            for steps in args.time_steps:
                started = time.perf_counter()
                times = mesh_builder.plan_times(model, energies, polars, steps)
                errors = track_errors(model, energies, polars, times, picks) * 1000.0
                figures = np.array(
                    [
                        np.median(errors[:, 0]),
                        np.quantile(errors[:, 0], 0.9),
                        np.median(errors[:, 1]),
                        np.quantile(errors[:, 1], 0.9),
                    ]
                )
                baseline = figures if baseline is None else baseline
                cells = "  ".join(
                    f"{value:6.3f} ({value / base:4.2f})"
                    for value, base in zip(figures, baseline, strict=True)
                )
                print(
                    f"{name:16s} {ion.isotopic_symbol:4s} {steps:5d}  {cells}"
                    f"   [{time.perf_counter() - started:.0f} s]",
                    flush=True,
                )


if __name__ == "__main__":
    main()
