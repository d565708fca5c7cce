"""A journal call as a БСП `ТелефонныйЗвонок` document: the fields 1C gets.

Pure: no I/O. Field names come from `onec.writeback` (an empty name leaves the
field out). What the document has no attribute for (talk time, status, the
employees of a transfer) goes into its description, where users read it.

    Date                  the call's start, in the office's wall time (1C dates
                          have no zone)
    Входящий              incoming or outgoing
    АбонентКакСвязаться   the outside number
    АбонентКонтакт(_Type) the number's owner from the contact index, if known
    АбонентПредставление  the owner's name, else the number
    Тема                  "Входящий звонок: ООО Ромашка", "Пропущенный звонок: …"
    Описание              status, talk time, employees, recordings
    Ответственный_Key     the employee who talked last (who kept the client)
    Автор_Key             the employee who talked first
    Комментарий           the marker the write-back finds its documents by
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, tzinfo
from typing import Any

from bridge.call_events import Direction
from bridge.journal.calls import JournalCall
from bridge.onec import literals
from bridge.onec.config import WriteBack
from bridge.onec.literals import Query
from bridge.onec.web_service import OneCUser

Entity = dict[str, Any]
# How far before the call's start a recovery lookup searches: someone may have
# corrected the document's date in 1C in the meantime.
LOOKUP_SLACK = timedelta(days=1)


def marker(call: JournalCall) -> str:
    """Unique per call; brackets keep "…:12" from matching inside "…:123"."""
    return f"[telebridge:{call.source}:{call.linkedid}]"


def document_fields(
    call: JournalCall,
    config: WriteBack,
    users: Mapping[str, OneCUser],
    zone: tzinfo,
) -> Entity:
    fields: Entity = {
        "Date": _wall_time(call, zone),
        config.incoming_field: call.direction is Direction.INCOMING,
        config.number_field: call.number[:100],
        config.contact_name_field: _counterpart(call)[:1024],
        config.subject_field: subject(call)[:1024],
        config.description_field: description(call, users),
        config.marker_field: marker(call),
    }
    fields.update(_contact(call, config))
    fields.update(_employees(call, config, users))
    fields.pop("", None)  # fields switched off in the config
    return fields


def lookup_query(call: JournalCall, config: WriteBack, zone: tzinfo) -> Query:
    """The document an unconfirmed attempt may have created, by its marker.

    The date bound keeps 1C on its date index instead of scanning every document;
    `substringof` is used because 1C cannot compare unlimited strings with `eq`.
    """
    since = call.started_at.astimezone(zone) - LOOKUP_SLACK
    return Query(
        filter=literals.all_of(
            literals.compare("Date", "ge", literals.date_time(since)),
            literals.substringof(marker(call), config.marker_field),
        ),
        select=["Ref_Key"],
        top=1,
    )


def subject(call: JournalCall) -> str:
    if call.missed:
        kind = "Пропущенный звонок"
    elif call.direction is Direction.INCOMING:
        kind = "Входящий звонок"
    else:
        kind = "Исходящий звонок"
    return f"{kind}: {_counterpart(call)}"


def description(call: JournalCall, users: Mapping[str, OneCUser]) -> str:
    minutes, seconds = divmod(call.talk_seconds, 60)
    hours, minutes = divmod(minutes, 60)
    lines = [
        f"Статус: {call.status}",
        f"Длительность разговора: {hours}:{minutes:02d}:{seconds:02d}",
        f"Номер: {call.number}",
    ]
    if call.employees:
        staff = ", ".join(_employee_name(e, users) for e in call.employees)
        lines.append(f"Сотрудники: {staff}")
    if call.recordings:
        lines.append(f"Записей разговора: {call.recordings}")
    return "\n".join(lines)


def _wall_time(call: JournalCall, zone: tzinfo) -> str:
    local = call.started_at.astimezone(zone)
    return local.replace(tzinfo=None, microsecond=0).isoformat()


def _counterpart(call: JournalCall) -> str:
    owner = call.owner
    return (owner.owner_name if owner and owner.owner_name else "") or call.number


def _contact(call: JournalCall, config: WriteBack) -> Entity:
    owner = call.owner
    if not config.contact_field or owner is None or not owner.owner_entity:
        return {}
    return {
        config.contact_field: owner.owner_ref,
        f"{config.contact_field}_Type": f"StandardODATA.{owner.owner_entity}",
    }


def _employees(
    call: JournalCall, config: WriteBack, users: Mapping[str, OneCUser]
) -> Entity:
    known = [users[e].user_id for e in call.employees if e in users]
    if not known:
        return {}
    return {config.author_field: known[0], config.responsible_field: known[-1]}


def _employee_name(extension: str, users: Mapping[str, OneCUser]) -> str:
    user = users.get(extension)
    return f"{user.name} ({extension})" if user else extension
