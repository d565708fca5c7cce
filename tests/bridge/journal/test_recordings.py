"""Recording paths stay inside the configured folder."""

from __future__ import annotations

from pathlib import Path

from bridge.journal.recordings import locate


def test_relative_absolute_and_converted(tmp_path: Path) -> None:
    root = tmp_path / "monitor"
    (root / "2026" / "01").mkdir(parents=True)
    mp3 = root / "2026" / "01" / "a.mp3"
    mp3.write_bytes(b"x")
    assert locate("2026/01/a.mp3", root) == mp3.resolve()
    # The PBX's own absolute path, mounted elsewhere on the bridge.
    assert locate("/var/spool/asterisk/monitor/2026/01/a.mp3", root) == mp3.resolve()
    # MikoPBX logged .wav, then converted it to .mp3.
    assert locate("2026/01/a.wav", root) == mp3.resolve()
    assert locate("", root) is None
    assert locate("2026/01/missing.mp3", root) is None


def test_nothing_outside_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    secret = tmp_path / "secret.mp3"
    secret.write_bytes(b"x")
    (root / "link.mp3").symlink_to(secret)
    (root / "notes.txt").write_text("x")
    assert locate("../secret.mp3", root) is None
    assert locate(str(secret), root) is None
    assert locate("link.mp3", root) is None
    assert locate("notes.txt", root) is None
