"""A home for embedded PostgreSQL servers started by tests."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def postgres_home() -> Iterator[Path]:
    """A directory for an embedded PostgreSQL outside pytest's temporary root.

    PostgreSQL runs as its own system user, which needs to traverse the path; pytest keeps
    its root private (0700) and restores that mode, so the data cannot live below it.
    """
    home = Path(tempfile.mkdtemp(prefix="anshin-test-"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)
