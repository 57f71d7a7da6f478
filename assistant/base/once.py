"""Things slow to make (a recogniser's weights, a voice), made once per key in a process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadOnce(Generic[K, V]):
    """A per-process store of loaded objects. A second caller asking for what is being loaded
    (the real load while start-up's preload runs on another thread) waits for it instead of
    loading it twice; a load that fails stores nothing, so the next caller tries again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.loaded: dict[K, V] = {}

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The object for ``key``, made by ``make()`` the first time."""
        with self._lock:
            if key not in self.loaded:
                self.loaded[key] = make()
            return self.loaded[key]
