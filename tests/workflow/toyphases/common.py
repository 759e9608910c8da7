"""Schemas and a writer shared by the toy phases."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from spyralflow.framework import atomic_output

VALUES_SCHEMA = json.dumps({"values": {"extension": ".h5", "data": "array"}})
SCALED_SCHEMA = json.dumps({"scaled": {"extension": ".h5", "data": "array"}})
TOTAL_SCHEMA = json.dumps({"total": {"extension": ".parquet", "data": {"total": "float"}}})


def write_array(path: Path, data: np.ndarray) -> None:
    with atomic_output(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.create_dataset("data", data=data)
