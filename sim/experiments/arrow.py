"""Arrow arrays to and from numpy without pandas.

pyarrow imports pandas (~0.6 s of CPU here, most of a figure's cost) the first time ``pa.array`` or
``to_numpy`` is called, to check whether the data is a pandas object.  The results tables hold only
plain columns (float64, int32, strings; no nulls), so they are built from and read into numpy
through their buffers instead: the same arrays, so the same Parquet bytes, and no pandas in the
main process or the workers of a run.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def numeric(values: np.ndarray, dtype=np.float64):
    """A pyarrow array of *values* as *dtype* (float64 or int32), made from its buffer."""
    import pyarrow as pa
    data = np.ascontiguousarray(values, dtype=dtype)
    if data.dtype not in (np.float64, np.int32):
        raise TypeError(f"numeric: {data.dtype} is not float64 or int32")
    kind = pa.float64() if data.dtype == np.float64 else pa.int32()
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


def strings(names: Sequence[str], counts: Iterable[int] | None = None):
    """A pyarrow string array of *names*, each repeated *counts* times if given (a table's name
    column, written name by name), made from offsets and UTF-8 bytes."""
    import pyarrow as pa
    encoded = [str(n).encode("utf-8") for n in names]
    reps = np.ones(len(encoded), dtype=np.int64) if counts is None else np.asarray(list(counts), dtype=np.int64)
    sizes = np.repeat(np.array([len(e) for e in encoded], dtype=np.int64), reps)
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if offsets[-1] >= 2 ** 31:
        raise ValueError("strings: more than 2 GiB of names in one column")
    data = b"".join(e * int(r) for e, r in zip(encoded, reps))
    return pa.Array.from_buffers(pa.string(), len(sizes), [None, pa.py_buffer(offsets.astype(np.int32)),
                                                            pa.py_buffer(data)])


def to_numpy(column) -> np.ndarray:
    """A numeric pyarrow (chunked) array without nulls as a numpy array (a copy when it has chunks)."""
    chunks = column.chunks if hasattr(column, "chunks") else [column]
    parts = []
    for c in chunks:
        if c.null_count:  # never written by the tool; read the slow way rather than wrongly
            parts.append(c.to_numpy(zero_copy_only=False))
            continue
        dtype = np.dtype(c.type.to_pandas_dtype())
        parts.append(np.frombuffer(c.buffers()[1], dtype=dtype, count=len(c), offset=c.offset * dtype.itemsize))
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0)


def codes(column) -> tuple[list[str], np.ndarray]:
    """A name column read as a dictionary (``read_dictionary``): the distinct names and each row's
    index into them (one dictionary for all chunks)."""
    chunks = column.chunks if hasattr(column, "chunks") else [column]
    index: dict[str, int] = {}
    parts = []
    for c in chunks:
        if not hasattr(c, "dictionary"):  # a plain string column
            c = c.dictionary_encode()
        local = c.dictionary.to_pylist()
        mapping = np.array([index.setdefault(n, len(index)) for n in local], dtype=np.int64)
        parts.append(mapping[to_numpy(c.indices)] if len(c) else np.empty(0, np.int64))
    names = list(index)
    return names, (np.concatenate(parts) if parts else np.empty(0, np.int64))
