"""Write the test fixture of multi-turn protons whose first turns a recoil's cluster takes.

Seeded 16C(d,p)17C at 184.131 MeV (17C at 4 MeV, so the protons stay inside the pad plane and
turn several times) in 300 Torr D2 at 3 T, both final-state nuclei simulated; protons at true
polar 75-80 deg whose vertex is in the visible drift region (z > 100 mm: the engine records
512 time buckets, so z < 87 mm is never seen). Kept: events whose proton, clustered without
the helix capture and estimated, has its vertex more than 50 mm off with the polar angle
right (the lost-turn population of issue 13), and a control (vertex right without the
capture). Truth is stored with each cloud. Regenerate with
``python tests/physics/make_fixtures.py`` (about a minute).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import h5py

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_events import simulated_events
from failure_populations import (
    MULTI_TURN_FIXTURE,
    MULTI_TURN_SETTINGS,
    cluster_parameters,
    estimated_vertex_z,
    write_cloud,
)

SEED = 20261201
N_FAILING = 3
N_CONTROLS = 1


def main() -> None:
    events = simulated_events(
        MULTI_TURN_SETTINGS,
        SEED,
        4000,
        lambda polar, _energy, brho: (
            75.0 < polar < 80.0 and brho * math.sin(math.radians(polar)) / 3.0 < 0.140
        ),
        80,
    )
    without = cluster_parameters(capture=False)
    failing, controls = [], []
    for event in events:
        if event.vertex_mm[2] < 100.0:
            continue
        estimate = estimated_vertex_z(event.cloud, event.brho, without, with_polar=True)
        if estimate is None:
            continue
        vertex_z, polar = estimate
        # The lost-turn population has the polar angle right (one turn is like the next); a
        # wrong polar angle means the recoil is inside the proton's cluster, another failure.
        lost_turn = abs(vertex_z - event.vertex_mm[2]) > 50.0 and abs(polar - event.polar_deg) < 1.0
        if lost_turn and len(failing) < N_FAILING:
            failing.append(event)
        elif abs(vertex_z - event.vertex_mm[2]) < 5.0 and len(controls) < N_CONTROLS:
            controls.append(event)
    MULTI_TURN_FIXTURE.parent.mkdir(exist_ok=True)
    with h5py.File(MULTI_TURN_FIXTURE, "w") as handle:
        handle.attrs["seed"] = SEED
        for kind, chosen in (("failing", failing), ("control", controls)):
            for event in chosen:
                # Under 200 kB.
                group = handle.create_group(f"{kind}_{event.event}")
                write_cloud(group, event.cloud)
                group.attrs["vertex_z"] = event.vertex_mm[2]
                group.attrs["brho"] = event.brho
                group.attrs["polar_deg"] = event.polar_deg
    print(f"{len(failing)} failing and {len(controls)} control events in {MULTI_TURN_FIXTURE}")


if __name__ == "__main__":
    main()
