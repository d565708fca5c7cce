"""Recently published call_events bodies, to drop exact repeats.

The signature has no timestamp or nonce (manual §10.6.3), so a body seen again is
either the PBX retrying or someone replaying a captured request; the event's
timestamp has millisecond precision, so a genuine new event never repeats a body.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

KEEP_BODIES = 4096


class RecentBodies:
    def __init__(self, keep: int = KEEP_BODIES) -> None:
        self._keep = keep
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def __contains__(self, body: bytes) -> bool:
        return _digest(body) in self._seen

    def add(self, body: bytes) -> None:
        digest = _digest(body)
        self._seen[digest] = None
        self._seen.move_to_end(digest)
        while len(self._seen) > self._keep:
            self._seen.popitem(last=False)


def _digest(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()
