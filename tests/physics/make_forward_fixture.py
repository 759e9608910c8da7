"""Write the test fixture of forward deuterons, whose vertex the beam-pad hole hides.

Seeded 16C(d,d) at 184.131 MeV in 300 Torr D2 at 2.85 T (the shipped reaction), both final-state
nuclei simulated; deuterons at true polar 8-15 deg with the vertex in 150-850 mm. Nothing is
recorded within about 20 mm of the beam axis, so each track is seen only from 70-130 mm
downstream of its vertex and the fit extrapolates it back to the axis. Kept: the first events
whose vertex is within 2 mm of the axis (there the point nearest the axis is the vertex, so the
fit's vertex must be right) and the first events with the vertex 5-10 mm off the axis (there it
is off by the offset along the track over tan(polar): the bound of
``benchmarks/diagnose_vertex_z.py``). Truth is stored with each cloud. Regenerate with
``python tests/physics/make_forward_fixture.py`` (about half a minute).
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_events import simulated_events
from failure_populations import FORWARD_FIXTURE, FORWARD_SETTINGS, write_cloud

SEED = 20261203
N_PER_KIND = 3


def main() -> None:
    events = simulated_events(FORWARD_SETTINGS, SEED, 6000, lambda p, _e, _b: 8 < p < 15, 60)
    chosen: dict[str, list] = {"on_axis": [], "off_axis": []}
    for event in events:
        rho = float(np.hypot(*event.vertex_mm[:2]))
        if not 150.0 < event.vertex_mm[2] < 850.0:
            continue
        kind = "on_axis" if rho < 2.0 else "off_axis" if 5.0 < rho < 10.0 else None
        if kind is not None and len(chosen[kind]) < N_PER_KIND:
            chosen[kind].append(event)
    with h5py.File(FORWARD_FIXTURE, "w") as handle:
        handle.attrs["seed"] = SEED
        for kind, selected in chosen.items():
            for event in selected:
                group = handle.create_group(f"{kind}_{event.event}")
                write_cloud(group, event.cloud)
                group.attrs["vertex_mm"] = event.vertex_mm
                group.attrs["polar_deg"] = event.polar_deg
                group.attrs["azimuthal_deg"] = event.azimuthal_deg
                group.attrs["kinetic_energy"] = event.kinetic_energy
                group.attrs["brho"] = event.brho
    print({kind: [event.event for event in selected] for kind, selected in chosen.items()})


if __name__ == "__main__":
    main()
