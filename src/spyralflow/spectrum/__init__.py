"""The excitation-energy spectrum over all runs: histogram, fitted peaks, CM angular coverage.

Modules: ``settings`` (the config's ``spectrum`` block), ``peaks`` (histogram and peak fit),
``plots``, ``build`` (reads the Kinematics tables, writes table and plots) and ``cli``.
"""
