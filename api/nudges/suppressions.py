"""Email addresses that bounced for good or complained: the sender sends them nothing.

- One item per address (lower case), keyed by its hash; written once: the first reason and
  time stay (a complaint after a bounce changes nothing here; it withdraws consent).
- `is_suppressed` is one GetItem, for the sender before each email.
"""

from __future__ import annotations

from api.clock import Clock
from api.idempotency import Plan, versioned_write
from api.nudges import suppressions_store as store
from api.nudges.suppressions_model import Suppression, SuppressionReason
from api.program.service import ProgramService
from api.store.reads import Snapshot, get


class SuppressionService:
    def __init__(self, clock: Clock, program: ProgramService) -> None:
        self._clock = clock
        self._program = program

    def suppress(self, address: str, reason: SuppressionReason) -> bool:
        """Suppress the address; False when it already was (nothing written)."""
        key = store.suppression_key(address)

        def decide(snapshot: Snapshot) -> Plan[bool]:
            if snapshot.get(key, store.SuppressionItem) is not None:
                return Plan(False)
            now = self._program.current_time()
            item = store.to_item(Suppression(store.normalise(address), reason, now))
            return Plan(True, new=[item])

        return versioned_write(self._clock, [key], decide)

    def is_suppressed(self, address: str) -> bool:
        return self.get(address) is not None

    def get(self, address: str) -> Suppression | None:
        item = get(store.suppression_key(address), store.SuppressionItem)
        return None if item is None else store.from_item(item)
