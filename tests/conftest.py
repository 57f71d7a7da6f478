"""Shared fixtures: every test runs with private config/data directories under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session: what recognisers build for a pack is reused across tests."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def private_dirs(cache_root: Path,tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Config and data directories of the user, private to each test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TRUST_ASSISTANT_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("TRUST_ASSISTANT_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("TRUST_ASSISTANT_CACHE_DIR", str(cache_root))
    yield home
