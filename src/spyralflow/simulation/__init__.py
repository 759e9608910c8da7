"""Simulated runs with truth: attpc_engine kinematics and detector, raw GET traces, truth tables.

One call of :func:`spyralflow.simulation.run.simulate_run` makes one run: it samples the
reaction with attpc_engine's kinematics pipeline, sends the chosen particles through the engine's
detector simulation, and writes the raw traces (merger 1.0 or 2.0 layout), the engine's own point
clouds (Spyral Pointcloud layout), the truth table and, optionally, the kinematics file in the
engine's layout. The command line entry is ``spyralflow simulate`` (:mod:`.cli`).

Kept free of imports on purpose: ``spyralflow --help`` imports :mod:`.cli` through this package.
"""
