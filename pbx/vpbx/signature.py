"""The Integration API's request signature (manual §10.6.3), both directions.

`X-Client-Sign = sha256hex(client_id + body + key)`: a plain hash of the
concatenation, not an HMAC, with no timestamp or nonce. It covers the exact body
bytes: the manual's own worked example only verifies with one space fewer than it
prints (research seed-002 §1.5), so nothing here ever re-serializes JSON.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


def sign(client_id: str, body: bytes, key: str) -> str:
    """The lowercase hex signature of `body` as it travels on the wire."""
    digest = hashlib.sha256()
    digest.update(client_id.encode("utf-8"))
    digest.update(body)
    digest.update(key.encode("utf-8"))
    return digest.hexdigest()


def matching_key(
    client_id: str, body: bytes, signature: str, keys: Sequence[str]
) -> int | None:
    """Index of the first key in `keys` that produced `signature`, or None.

    Every key is checked (no early exit), each in constant time, so the timing
    says nothing about which key or how many characters matched.
    """
    offered = signature.strip().lower().encode("ascii", errors="replace")
    found: int | None = None
    for index, key in enumerate(keys):
        expected = sign(client_id, body, key).encode("ascii")
        if key and hmac.compare_digest(expected, offered) and found is None:
            found = index
    return found
