"""Finding a leg's recording on disk, confined to the configured folder.

The PBX logs where it wrote the file (absolute, or relative to its monitor
folder); the bridge sees that folder at `cdr.recordings_dir`. A path that resolves
outside it (`..`, symlinks) is never served. MikoPBX converts .wav to .mp3 after
the call, so the other extension is tried too.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

MEDIA_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/x-wav"}


def locate(recording: str, folder: Path) -> Path | None:
    """The file to serve, or None when there is none (or it is outside)."""
    if not recording:
        return None
    root = folder.resolve()
    for candidate in _candidates(PurePosixPath(recording), root):
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root):
            continue
        if resolved.suffix.lower() in MEDIA_TYPES and resolved.is_file():
            return resolved
    return None


def _candidates(path: PurePosixPath, root: Path) -> list[Path]:
    tails = [path]
    if path.is_absolute():
        # Absolute PBX paths: keep them if under the folder, else try the tail
        # after the folder's own name (/var/spool/asterisk/monitor/2026/x.mp3).
        tails = [path]
        parts = path.parts
        if root.name in parts:
            tails.append(PurePosixPath(*parts[parts.index(root.name) + 1 :]))
        tails.append(PurePosixPath(path.name))
    found: list[Path] = []
    for tail in tails:
        base = Path(tail) if tail.is_absolute() else root / tail
        found.extend(base.with_suffix(ext) for ext in (base.suffix, *MEDIA_TYPES))
    return found
