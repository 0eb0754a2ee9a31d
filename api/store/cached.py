"""A small list every request reads (live promotions, the reward catalog): one Query, kept
per container for a short time, dropped at once after a write through this container."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from api.clock import Clock

T = TypeVar("T")


class Cached(Generic[T]):
    def __init__(self, clock: Clock, load: Callable[[], tuple[T, ...]]) -> None:
        self._clock = clock
        self._load = load
        self._lock = threading.Lock()
        self._cached: tuple[datetime, tuple[T, ...]] | None = None

    def get(self, seconds: int) -> tuple[T, ...]:
        """The list, read again if the copy is older than `seconds`."""
        now = self._clock.now()
        with self._lock:
            cached = self._cached
        if cached is not None and now - cached[0] < timedelta(seconds=seconds):
            return cached[1]
        found = self._load()
        with self._lock:
            self._cached = (now, found)
        return found

    def forget(self) -> None:
        with self._lock:
            self._cached = None
