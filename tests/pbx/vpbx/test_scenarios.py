"""Whole calls as the PBX reports them (data files in `scenarios/`), through the
running webhook: each payload signed, posted over HTTP, mapped and published.
Expected rows are (call_id, state, kind, employee extension, UTC time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pbx.vpbx.webhook_harness import post

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
async def test_a_scenario_becomes_the_expected_call_events(pbx, path):
    client, _core, sink = pbx
    scenario = json.loads(path.read_text(encoding="utf-8"))
    for payload in scenario["payloads"]:
        assert (await post(client, "call_events", payload)).status == 200
    got = [
        [
            e.call_id,
            e.state.value,
            e.kind.value,
            e.to.extension or e.from_.extension,
            e.as_json()["time"],
        ]
        for e in sink.calls
    ]
    assert got == scenario["expected"]
    assert {e.linkedid for e in sink.calls} == {scenario["payloads"][0]["session_id"]}
