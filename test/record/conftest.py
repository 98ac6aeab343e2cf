"""Fixtures of the recorder tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from record_testlib import Graph


@pytest.fixture
def graph(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Graph]:
    params = getattr(request, "param", {})
    g = Graph(tmp_path, **params)
    yield g
    g.close()
