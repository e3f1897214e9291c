"""Handing settings to a library that reads only environment variables (DESIGN rule 2:
the environment is touched here, in ``core/config``, and nowhere else).

LightRAG's server storages (Qdrant, Neo4j) take their addresses and credentials from
``os.environ`` alone; :func:`scoped_environment` sets them for the block that opens
them and puts the previous values back after, so nothing leaks into the rest of the
process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def scoped_environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` inside the block, the previous ones restored after."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
