"""Arrow columns straight from numpy buffers.

``pyarrow.array`` imports pandas on its first numpy array (half a second, in every job that
writes a parquet file); wrapping the array's buffer does not, and copies nothing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def numeric_column(values: np.ndarray, dtype: np.dtype | type) -> pa.Array:
    """A null-free Arrow array of fixed-width numbers, equal to ``pa.array(values)``.

    Parameters
    ----------
    values : numpy.ndarray
        One-dimensional numbers, converted to ``dtype`` if needed.
    dtype : numpy dtype
        A fixed-width integer or float dtype (not bool: Arrow packs booleans in bits).
    """
    column = np.ascontiguousarray(values, dtype=dtype)
    if column.ndim != 1 or column.dtype.kind not in "iuf":
        raise ValueError(f"expected one-dimensional numbers, got {column.dtype} {column.shape}")
    arrow_type = pa.from_numpy_dtype(column.dtype)
    return pa.Array.from_buffers(arrow_type, len(column), [None, pa.py_buffer(column)])
