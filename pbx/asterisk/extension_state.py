"""Extension states from AMI, kept for the smart IVR ("is the manager free?").

Two event families say it: ExtensionStatus (hint-based, per dialplan extension,
numeric `Status`) and DeviceStateChange (per device, `PJSIP/101`, textual `State`).
Both fold into one `ExtensionState` per extension; the latest report wins.
"""

from __future__ import annotations

from pbx.asterisk.calls import extension_of
from pbx.asterisk.parser import Message
from pbx.base import ExtensionState

# ast_extension_state values (include/asterisk/pbx.h), as ExtensionStatus sends them.
_HINT_STATES = {
    "-2": ExtensionState.UNAVAILABLE,  # removed
    "-1": ExtensionState.UNAVAILABLE,  # deactivated
    "0": ExtensionState.AVAILABLE,  # idle
    "1": ExtensionState.BUSY,  # in use
    "2": ExtensionState.BUSY,  # busy
    "4": ExtensionState.UNAVAILABLE,
    "8": ExtensionState.BUSY,  # ringing
    "9": ExtensionState.BUSY,  # in use and ringing
    "16": ExtensionState.BUSY,  # on hold
    "17": ExtensionState.BUSY,  # in use and on hold
}
# ast_device_state names, as DeviceStateChange sends them.
_DEVICE_STATES = {
    "NOT_INUSE": ExtensionState.AVAILABLE,
    "INUSE": ExtensionState.BUSY,
    "BUSY": ExtensionState.BUSY,
    "RINGING": ExtensionState.BUSY,
    "RINGINUSE": ExtensionState.BUSY,
    "ONHOLD": ExtensionState.BUSY,
    "UNAVAILABLE": ExtensionState.UNAVAILABLE,
    "INVALID": ExtensionState.UNAVAILABLE,
    "UNKNOWN": ExtensionState.UNKNOWN,
}


class ExtensionStateTable:
    """Implements `pbx.base.ExtensionStates` from AMI messages."""

    def __init__(self) -> None:
        self._states: dict[str, ExtensionState] = {}

    def get(self, extension: str) -> ExtensionState:
        return self._states.get(extension, ExtensionState.UNKNOWN)

    def snapshot(self) -> dict[str, ExtensionState]:
        return dict(self._states)

    def handle(self, message: Message) -> bool:
        """Apply `message` if it reports a state; True if it did."""
        if message.event == "ExtensionStatus":
            extension = message.get("Exten")
            state = _HINT_STATES.get(message.get("Status"))
        elif message.event == "DeviceStateChange":
            extension = extension_of(message.get("Device") + "-")
            state = _DEVICE_STATES.get(message.get("State"))
        else:
            return False
        if not extension or state is None:
            return False
        self._states[extension] = state
        return True
