"""When the previous signing key stops being accepted.

The grace window starts the first time the service runs with a given previous
key and is remembered in the data folder, so restarting does not extend it. Only
a SHA-256 fingerprint of the key is written (the keys are 128-bit random values,
so the fingerprint gives nothing away).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)
ROTATION_FILE = "vpbx_key_rotation.json"


def previous_key_deadline(
    data_dir: Path, previous_key: str, grace_seconds: int, now: datetime
) -> datetime | None:
    """Until when `previous_key` is accepted; None when there is none."""
    if not previous_key:
        return None
    fingerprint = hashlib.sha256(previous_key.encode("utf-8")).hexdigest()
    path = data_dir / ROTATION_FILE
    since = _recorded_since(path, fingerprint)
    if since is None:
        since = now
        _record(path, fingerprint, since)
    return since + timedelta(seconds=grace_seconds)


def _recorded_since(path: Path, fingerprint: str) -> datetime | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("previous_key_sha256") == fingerprint:
            return datetime.fromisoformat(data["since"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        log.warning("%s is unreadable; the key rotation window starts now", path)
    return None


def _record(path: Path, fingerprint: str, since: datetime) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"previous_key_sha256": fingerprint, "since": since.isoformat()}
        path.write_text(json.dumps(body), encoding="utf-8")
    except OSError:
        log.warning("cannot write %s; a restart will reopen the window", path)
