"""Exact repeats of call_events bodies are recognised, within a bounded memory."""

from __future__ import annotations

from pbx.vpbx.replays import RecentBodies


def test_a_body_is_recognised_once_added():
    recent = RecentBodies()
    assert b"{}" not in recent
    recent.add(b"{}")
    assert b"{}" in recent
    assert b"{ }" not in recent


def test_the_oldest_bodies_are_forgotten_first():
    recent = RecentBodies(keep=2)
    for body in (b"1", b"2", b"3"):
        recent.add(body)
    assert b"1" not in recent
    assert b"2" in recent
    assert b"3" in recent
