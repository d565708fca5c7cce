"""Following calls through AMI events: the pure state machine behind the adapter.

A *leg* is one party being rung: Asterisk's Dial (or Queue) starts it with DialBegin
and the dialled channel's Uniqueid is its `call_id`; `linkedid` ties the legs of one
call together. Each leg goes Calling → Connected → Finished, the states 1C knows
(PRODUCT §3), with a finer kind (ringing, answered, held, resumed, transferred,
hangup). Local/ channels are plumbing (FreePBX ring groups and queues dial through
them) and never legs: the real phones they dial are.

The tracker takes `Message`s and returns `CallEvent`s; it never does I/O and never
reads the wall clock itself (the time of an event is its AMI `Timestamp`, else the
`now` it is given), so the scenario files replay deterministically.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bridge.call_events import CallEvent, CallKind, CallState, Direction, Party
from bridge.phone_numbers import NumberKind, PhoneNumber, normalize
from pbx.asterisk.parser import Message

log = logging.getLogger(__name__)

CHANNEL_STATE_UP = "6"
LOCAL_PREFIX = "Local/"
# Hangup causes (Q.850) that say more than the dial status does.
CAUSE_REJECTED = "21"
CAUSE_ANSWERED_ELSEWHERE = "26"
# Dial statuses (app_dial DIALSTATUS) as the `status` a Finished event reports.
FINISH_STATUS = {
    "ANSWER": "answered",
    "CANCEL": "cancelled",
    "NOANSWER": "no-answer",
    "BUSY": "busy",
    "CONGESTION": "congestion",
    "CHANUNAVAIL": "unavailable",
}
# CDR dispositions (cdr.c) in the same words as FINISH_STATUS.
CDR_STATUS = {
    "ANSWERED": "answered",
    "NO ANSWER": "no-answer",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "congestion",
}


@functools.lru_cache(maxsize=8192)
def _number(raw: str) -> PhoneNumber:
    # The same few numbers recur in every event of a call; normalizing is the
    # costliest step of the whole pipeline, so it is worth remembering.
    return normalize(raw)


def extension_of(channel: str) -> str:
    """ "PJSIP/101-0000002a" → "101"; trunks and Local channels → ""."""
    if channel.startswith(LOCAL_PREFIX):
        return ""
    _, _, resource = channel.partition("/")
    name = resource.rsplit("-", 1)[0]
    return name if _number(name).kind is NumberKind.INTERNAL else ""


def dialled_number(dial_string: str) -> str:
    """The number in a Dial() argument: "trunk/8916…", "8916…@trunk", "101"."""
    target = dial_string.split("&", 1)[0]
    target = target.rsplit("/", 1)[-1].split("@", 1)[0]
    return target.split(",", 1)[0]


def event_time(message: Message, now: datetime) -> datetime:
    """The event's own time (manager.conf `timestampevents=yes`), else `now`."""
    stamp = message.get("Timestamp")
    if stamp:
        try:
            return datetime.fromtimestamp(float(stamp), UTC)
        except (ValueError, OverflowError):
            log.debug("bad AMI Timestamp %r", stamp)
    return now


@dataclass(slots=True)
class Channel:
    uniqueid: str
    linkedid: str
    name: str
    caller_num: str = ""
    exten: str = ""
    context: str = ""
    up: bool = False


@dataclass(slots=True)
class Call:
    """What is known about a whole call (a linkedid) from its first channel."""

    linkedid: str
    incoming: bool
    did: str = ""
    queue: str = ""
    # The extension whose phone forwarded the call (302 / call forwarding).
    forwarded_from: str = ""


@dataclass(slots=True)
class Leg:
    call_id: str
    # The dialled channel followed; differs from call_id only after a pickup.
    channel: str
    linkedid: str
    source: str  # the calling channel's uniqueid
    direction: Direction
    from_: Party
    to: Party
    did: str = ""
    connected: bool = False
    held: bool = False
    dial_status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[["CallTracker", Message, datetime], list[CallEvent]]


class CallTracker:
    """Live channels and legs; `handle` turns one AMI message into call events."""

    def __init__(self, trunk_contexts: Iterable[str] = ()) -> None:
        self._trunk_contexts = frozenset(trunk_contexts)
        self._channels: dict[str, Channel] = {}
        self._calls: dict[str, Call] = {}
        self._legs: dict[str, Leg] = {}

    @property
    def live_legs(self) -> int:
        return len(self._legs)

    @property
    def live_channels(self) -> int:
        return len(self._channels)

    def handle(self, message: Message, now: datetime) -> list[CallEvent]:
        handler = HANDLERS.get(message.event)
        if handler is None:
            return []
        try:
            return handler(self, message, event_time(message, now))
        except ValueError as exc:
            # A pydantic ValidationError is a ValueError: an event too odd to model.
            log.warning("AMI %s skipped: %s", message.event, exc)
            return []

    def resync(self, snapshot: list[Message], now: datetime) -> list[CallEvent]:
        """Reconcile with a CoreShowChannels listing taken after a reconnect.

        Legs whose channel is gone are finished (the call ended while we were
        away; the journal recovers it from the CDR); live channels we never saw
        become legs, so 1C's panels show calls that are still going on.
        """
        live = {m.get("Uniqueid"): m for m in snapshot if m.get("Uniqueid")}
        events = [
            self._finish(leg, now, status="unknown", resynced=True)
            for leg in list(self._legs.values())
            if leg.channel not in live
        ]
        for uid in [u for u in self._channels if u not in live]:
            self._forget_channel(uid)
        for message in live.values():
            events.extend(self._adopt(message, live, now))
        return events

    # -- events ---------------------------------------------------------------

    def _on_newchannel(self, m: Message, now: datetime) -> list[CallEvent]:
        channel = self._channel_from(m)
        self._channels[channel.uniqueid] = channel
        if channel.uniqueid == channel.linkedid or channel.linkedid not in self._calls:
            self._calls[channel.linkedid] = self._call_from(channel)
        return []

    def _on_newstate(self, m: Message, now: datetime) -> list[CallEvent]:
        uid = m.get("Uniqueid")
        channel = self._channels.get(uid)
        if channel is not None:
            channel.up = m.get("ChannelState") == CHANNEL_STATE_UP
        leg = self._legs.get(uid)
        if leg is not None and m.get("ChannelState") == CHANNEL_STATE_UP:
            return self._connect(leg, now)
        return []

    def _on_dial_begin(self, m: Message, now: datetime) -> list[CallEvent]:
        dest_name = m.get("DestChannel")
        if not m.get("DestUniqueid") or dest_name.startswith(LOCAL_PREFIX):
            return []
        source = self._channels.get(m.get("Uniqueid")) or self._channel_from(m)
        call = self._calls.get(source.linkedid)
        if call is None:
            call = self._calls[source.linkedid] = self._call_from(source)
        to = self._party_called(dest_name, m.get("DialString"), m.get("DestExten"))
        leg = Leg(
            call_id=m.get("DestUniqueid"),
            channel=m.get("DestUniqueid"),
            linkedid=source.linkedid,
            source=source.uniqueid,
            direction=_direction(call, to),
            from_=self._party_calling(m.get("Channel"), m.get("CallerIDNum")),
            to=to,
            did=call.did,
        )
        if call.queue:
            leg.extra["queue"] = call.queue
        if call.forwarded_from:
            leg.extra["forwarded_from"] = call.forwarded_from
        self._legs[leg.channel] = leg
        return [self._event(leg, now, CallState.CALLING, CallKind.RINGING)]

    def _on_dial_end(self, m: Message, now: datetime) -> list[CallEvent]:
        leg = self._legs.get(m.get("DestUniqueid"))
        if leg is None:
            return []
        leg.dial_status = m.get("DialStatus")
        if m.get("Forward"):
            leg.extra["forwarded_to"] = m.get("Forward")
            call = self._calls.get(leg.linkedid)
            if call is not None:
                call.forwarded_from = leg.to.extension or leg.to.number
        if leg.dial_status == "ANSWER":
            return self._connect(leg, now)
        return []

    def _on_agent_connect(self, m: Message, now: datetime) -> list[CallEvent]:
        leg = self._legs.get(m.get("DestUniqueid"))
        if leg is None:
            return []
        leg.extra["queue"] = m.get("Queue") or leg.extra.get("queue", "")
        return self._connect(leg, now)

    def _on_bridge_enter(self, m: Message, now: datetime) -> list[CallEvent]:
        leg = self._legs.get(m.get("Uniqueid"))
        return [] if leg is None else self._connect(leg, now)

    def _on_hold(self, m: Message, now: datetime) -> list[CallEvent]:
        return self._set_hold(m.get("Uniqueid"), now, held=True)

    def _on_unhold(self, m: Message, now: datetime) -> list[CallEvent]:
        return self._set_hold(m.get("Uniqueid"), now, held=False)

    def _on_queue_join(self, m: Message, now: datetime) -> list[CallEvent]:
        call = self._calls.get(m.get("Linkedid"))
        if call is not None:
            call.queue = m.get("Queue")
        return []

    def _on_blind_transfer(self, m: Message, now: datetime) -> list[CallEvent]:
        if m.get("Result", "Success") != "Success":
            return []
        transfer = {"type": "blind", "to": m.get("Extension")}
        return [
            self._transferred(leg, now, transfer)
            for leg in self._legs_of(m.get("TransfererUniqueid"))
        ]

    def _on_attended_transfer(self, m: Message, now: datetime) -> list[CallEvent]:
        if m.get("Result", "Success") != "Success":
            return []
        transferer = m.get("OrigTransfererUniqueid")
        consult = self._legs_of(m.get("SecondTransfererUniqueid"))
        target = consult[0] if consult else None
        transfer = {"type": "attended", "to": target.to.extension if target else ""}
        events = []
        for leg in self._legs_of(transferer):
            events.append(self._transferred(leg, now, transfer))
            if target is not None:
                events.append(self._relink(target, leg, transferer, now))
        return events

    def _on_pickup(self, m: Message, now: datetime) -> list[CallEvent]:
        """Another phone answered a ringing one (Pickup(), *8).

        Asterisk moves the picker into the ringing channel, which lives on as the
        picker's side of the call; the picker's own channel hangs up as a zombie.
        So the rung phone's leg finishes as picked-up, and a new leg, named by the
        picker's uniqueid but following the moved channel, is connected.
        """
        ringing = self._legs.get(m.get("TargetUniqueid"))
        picker = m.get("Uniqueid")
        if ringing is None or not picker:
            return []
        extension = extension_of(m.get("Channel"))
        finished = self._finish(
            ringing, now, status="picked-up", picked_up_by=extension
        )
        extra = {k: v for k, v in ringing.extra.items() if k != "status"}
        leg = Leg(
            call_id=picker,
            channel=ringing.channel,
            linkedid=ringing.linkedid,
            source=ringing.source,
            direction=ringing.direction,
            from_=ringing.from_,
            to=Party(number=extension, extension=extension),
            did=ringing.did,
            extra={**extra, "picked_up_from": ringing.to.extension},
        )
        leg.extra.pop("picked_up_by", None)
        self._legs[leg.channel] = leg
        return [finished, *self._connect(leg, now)]

    def _on_hangup(self, m: Message, now: datetime) -> list[CallEvent]:
        uid = m.get("Uniqueid")
        leg = self._legs.get(uid)
        events = []
        if leg is not None:
            status = _finish_status(leg, m.get("Cause"))
            cause = {"cause": m.get("Cause-txt")} if m.get("Cause-txt") else {}
            events.append(self._finish(leg, now, status=status, **cause))
        self._forget_channel(uid)
        return events

    def _on_cdr(self, m: Message, now: datetime) -> list[CallEvent]:
        # A safety net: a leg whose Hangup we missed is closed by its CDR.
        dest = m.get("DestinationChannel")
        status = CDR_STATUS.get(m.get("Disposition"), "unknown")
        return [
            self._finish(leg, now, status=status)
            for leg in list(self._legs.values())
            if dest and self._channel_name(leg.channel) == dest
        ]

    # -- steps ----------------------------------------------------------------

    def _connect(self, leg: Leg, now: datetime) -> list[CallEvent]:
        if leg.connected:
            return []
        leg.connected = True
        return [self._event(leg, now, CallState.CONNECTED, CallKind.ANSWERED)]

    def _set_hold(self, uid: str, now: datetime, *, held: bool) -> list[CallEvent]:
        kind = CallKind.HELD if held else CallKind.RESUMED
        events = []
        for leg in self._legs_of(uid):
            if leg.connected and leg.held != held:
                leg.held = held
                events.append(self._event(leg, now, CallState.CONNECTED, kind))
        return events

    def _transferred(
        self, leg: Leg, now: datetime, transfer: dict[str, str]
    ) -> CallEvent:
        leg.extra["transfer"] = transfer
        return self._event(leg, now, CallState.CONNECTED, CallKind.TRANSFERRED)

    def _relink(
        self, target: Leg, leg: Leg, transferer: str, now: datetime
    ) -> CallEvent:
        """After an attended transfer the consulted party talks to the one who
        stayed: its leg joins the original call, from that party."""
        stayed = leg.from_ if leg.channel == transferer else leg.to
        target.extra["consultation_linkedid"] = target.linkedid
        target.linkedid = leg.linkedid
        target.from_ = stayed
        target.direction = leg.direction
        target.did = leg.did
        target.connected = True
        return self._event(target, now, CallState.CONNECTED, CallKind.TRANSFERRED)

    def _finish(
        self, leg: Leg, now: datetime, *, status: str, **extra: Any
    ) -> CallEvent:
        self._legs.pop(leg.channel, None)
        leg.extra.update(status=status, **extra)
        return self._event(leg, now, CallState.FINISHED, CallKind.HANGUP)

    def _adopt(
        self, m: Message, live: dict[str, Message], now: datetime
    ) -> list[CallEvent]:
        """One CoreShowChannel entry: remember the channel, make it a leg if new."""
        channel = self._channel_from(m)
        channel.up = m.get("ChannelState") == CHANNEL_STATE_UP
        self._channels[channel.uniqueid] = channel
        leg = self._legs.get(channel.uniqueid)
        if leg is not None:
            return self._connect(leg, now) if channel.up else []
        origin = live.get(channel.linkedid)
        if origin is None or origin is m or channel.name.startswith(LOCAL_PREFIX):
            if (
                channel.linkedid not in self._calls
                and channel.uniqueid == channel.linkedid
            ):
                self._calls[channel.linkedid] = self._call_from(channel)
            return []
        source = self._channel_from(origin)
        call = self._calls.get(source.linkedid) or self._call_from(source)
        self._calls[source.linkedid] = call
        to = self._party_called(channel.name, source.exten, "")
        leg = Leg(
            call_id=channel.uniqueid,
            channel=channel.uniqueid,
            linkedid=source.linkedid,
            source=source.uniqueid,
            direction=_direction(call, to),
            from_=self._party_calling(source.name, source.caller_num),
            to=to,
            did=call.did,
            extra={"resynced": True},
        )
        self._legs[leg.channel] = leg
        if channel.up:
            return self._connect(leg, now)
        return [self._event(leg, now, CallState.CALLING, CallKind.RINGING)]

    # -- helpers --------------------------------------------------------------

    def _legs_of(self, uid: str) -> list[Leg]:
        """Live legs that `uid` is a party of, as the called or the calling side."""
        return [leg for leg in self._legs.values() if uid in (leg.channel, leg.source)]

    def _channel_name(self, uid: str) -> str:
        channel = self._channels.get(uid)
        return channel.name if channel else ""

    def _forget_channel(self, uid: str) -> None:
        channel = self._channels.pop(uid, None)
        if channel is None:
            return
        linkedid = channel.linkedid
        if not any(c.linkedid == linkedid for c in self._channels.values()):
            self._calls.pop(linkedid, None)

    def _channel_from(self, m: Message) -> Channel:
        uid = m.get("Uniqueid")
        return Channel(
            uniqueid=uid,
            linkedid=m.get("Linkedid") or uid,
            name=m.get("Channel"),
            caller_num=m.get("CallerIDNum"),
            exten=m.get("Exten"),
            context=m.get("Context"),
        )

    def _call_from(self, origin: Channel) -> Call:
        incoming = (
            origin.context in self._trunk_contexts
            or _number(origin.caller_num).is_external
        )
        did = ""
        if incoming and origin.exten not in ("", "s"):
            number = _number(origin.exten)
            did = number.canonical or origin.exten
        return Call(origin.linkedid, incoming=incoming, did=did)

    def _party_calling(self, channel: str, caller_num: str) -> Party:
        return Party(
            number=_number(caller_num).canonical, extension=extension_of(channel)
        )

    def _party_called(self, channel: str, dial_string: str, exten: str) -> Party:
        extension = extension_of(channel)
        if extension:
            return Party(number=extension, extension=extension)
        number = _number(dialled_number(dial_string) or exten)
        return Party(number=number.canonical)

    def _event(
        self, leg: Leg, now: datetime, state: CallState, kind: CallKind
    ) -> CallEvent:
        return CallEvent.model_validate(
            {
                "call_id": leg.call_id,
                "linkedid": leg.linkedid,
                "time": now,
                "state": state,
                "kind": kind,
                "direction": leg.direction,
                "from": leg.from_,
                "to": leg.to,
                "did": leg.did,
                "extra": dict(leg.extra),
            }
        )


def _direction(call: Call, to: Party) -> Direction:
    if call.incoming:
        return Direction.INCOMING
    if to.extension or _number(to.number).kind is NumberKind.INTERNAL:
        return Direction.INTERNAL
    return Direction.OUTGOING


def _finish_status(leg: Leg, cause: str) -> str:
    if leg.connected:
        return "answered"
    if "forwarded_to" in leg.extra:
        return "forwarded"
    if cause == CAUSE_REJECTED:
        return "rejected"
    if cause == CAUSE_ANSWERED_ELSEWHERE:
        return "answered-elsewhere"
    return FINISH_STATUS.get(leg.dial_status, "ended")


HANDLERS: dict[str, Handler] = {
    "Newchannel": CallTracker._on_newchannel,
    "Newstate": CallTracker._on_newstate,
    "DialBegin": CallTracker._on_dial_begin,
    "DialEnd": CallTracker._on_dial_end,
    "AgentConnect": CallTracker._on_agent_connect,
    "BridgeEnter": CallTracker._on_bridge_enter,
    "Hold": CallTracker._on_hold,
    "Unhold": CallTracker._on_unhold,
    "QueueCallerJoin": CallTracker._on_queue_join,
    "BlindTransfer": CallTracker._on_blind_transfer,
    "AttendedTransfer": CallTracker._on_attended_transfer,
    "Pickup": CallTracker._on_pickup,
    "Hangup": CallTracker._on_hangup,
    "Cdr": CallTracker._on_cdr,
}
