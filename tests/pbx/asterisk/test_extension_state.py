from __future__ import annotations

import pytest

from pbx.asterisk.extension_state import ExtensionStateTable
from pbx.asterisk.parser import Message
from pbx.base import ExtensionState


def msg(**headers: str) -> Message:
    return Message(headers)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("0", ExtensionState.AVAILABLE),
        ("1", ExtensionState.BUSY),
        ("8", ExtensionState.BUSY),
        ("16", ExtensionState.BUSY),
        ("4", ExtensionState.UNAVAILABLE),
    ],
)
def test_extension_status_maps_hint_states(status, expected) -> None:
    table = ExtensionStateTable()
    assert table.handle(msg(Event="ExtensionStatus", Exten="101", Status=status))
    assert table.get("101") is expected


def test_device_state_change_names_the_extension_by_device() -> None:
    table = ExtensionStateTable()
    table.handle(msg(Event="DeviceStateChange", Device="PJSIP/102", State="INUSE"))
    table.handle(msg(Event="DeviceStateChange", Device="PJSIP/102", State="NOT_INUSE"))
    assert table.get("102") is ExtensionState.AVAILABLE
    assert table.snapshot() == {"102": ExtensionState.AVAILABLE}


def test_unknown_extension_and_odd_reports() -> None:
    table = ExtensionStateTable()
    assert table.get("999") is ExtensionState.UNKNOWN
    assert not table.handle(msg(Event="DeviceStateChange", Device="Queue:support"))
    assert not table.handle(msg(Event="ExtensionStatus", Exten="101", Status="77"))
    assert not table.handle(msg(Event="Newchannel"))
    assert table.snapshot() == {}
