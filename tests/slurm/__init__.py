"""Tests through a real one-node SLURM.

A package, so that pytest imports this folder's conftest as ``slurm.conftest`` and leaves the
top-level ``conftest`` module (``tests/conftest.py``) importable by the other test folders.
"""
