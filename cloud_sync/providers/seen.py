"""What one provider instance has seen of each item, to name changes.

Drive's changes and Graph's delta report each changed item's current state only. To say
"renamed" or "moved" rather than "updated", a provider compares with the state it saw
before the cursor was handed out: every observation gets a tick of a local clock and
every cursor the tick of the moment it was issued. Bounded and thread-safe.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Hashable


class SeenStates:
    def __init__(self, max_items: int = 100_000, per_item: int = 8, max_cursors: int = 256):
        self.max_items, self.per_item, self.max_cursors = max_items, per_item, max_cursors
        self._clock = itertools.count(1)
        self._history: OrderedDict[str, list[tuple[int, Hashable | None]]] = OrderedDict()
        self._marks: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def observe(self, item_id: str, state: Hashable | None) -> None:
        """Record the item's state now (None: gone)."""
        with self._lock:
            history = self._history.pop(item_id, [])
            history.append((next(self._clock), state))
            self._history[item_id] = history[-self.per_item:]
            while len(self._history) > self.max_items:
                self._history.popitem(last=False)

    def state_at(self, item_id: str, mark: int) -> Hashable | None:
        """The item's last state seen before ``mark`` (None: never seen, or gone)."""
        with self._lock:
            before = [state for tick, state in self._history.get(item_id, ()) if tick < mark]
        return before[-1] if before else None

    def mark(self, cursor: str) -> str:
        """Remember "now" for ``cursor`` and return it."""
        with self._lock:
            self._marks.pop(cursor, None)
            self._marks[cursor] = next(self._clock)
            while len(self._marks) > self.max_cursors:
                self._marks.popitem(last=False)
        return cursor

    def mark_of(self, cursor: str) -> int:
        """The tick of ``cursor`` (0 for a cursor this instance never issued)."""
        with self._lock:
            return self._marks.get(cursor, 0)
