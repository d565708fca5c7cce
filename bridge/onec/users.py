"""Employees as 1C knows them (`Catalog_Пользователи`), read over OData.

Where the extension lives differs between configurations, so the mapping says:
"contact_info" takes the first short (internal) number among the user's phones,
"field" reads an attribute. Deleted, invalid (`Недействителен`) users and users
without an extension are left out; a malformed phone is skipped, never fatal.
"""

from __future__ import annotations

from typing import Any

from bridge.onec.config import OneCConfig
from bridge.onec.literals import Query
from bridge.onec.odata import ODataClient
from bridge.onec.web_service import OneCUser
from bridge.phone_numbers import NumberKind, normalize

Entity = dict[str, Any]


def users_query(config: OneCConfig) -> Query:
    users = config.users
    select = ["Ref_Key", "DeletionMark", users.name_field]
    if users.invalid_field:
        select.append(users.invalid_field)
    if users.extension_from == "field":
        select.append(users.extension_field)
    else:
        select.append(config.contact_info.tabular_part)
    return Query(select=select, orderby=["Ref_Key"])


async def read_users(client: ODataClient, config: OneCConfig) -> list[OneCUser]:
    """Active users with an extension; raises `OneCError`."""
    found: list[OneCUser] = []
    async for page in client.pages(
        config.users.entity, users_query(config), config.page_size
    ):
        found.extend(u for u in (user_of(e, config) for e in page) if u is not None)
    return found


def user_of(entity: Entity, config: OneCConfig) -> OneCUser | None:
    users = config.users
    if entity.get("DeletionMark") or (
        users.invalid_field and entity.get(users.invalid_field)
    ):
        return None
    extension = extension_of(entity, config)
    if not extension:
        return None
    name = str(entity.get(users.name_field) or "")
    return OneCUser(str(entity["Ref_Key"]), name, extension)


def extension_of(entity: Entity, config: OneCConfig) -> str:
    """The user's extension, from a field or their contact information; "" if none."""
    if config.users.extension_from == "field":
        return _internal(str(entity.get(config.users.extension_field) or ""))
    return _extension_from_contact_info(entity, config)


def _extension_from_contact_info(entity: Entity, config: OneCConfig) -> str:
    info = config.contact_info
    for row in entity.get(info.tabular_part) or []:
        if row.get(info.type_field) != info.phone_type:
            continue
        for field in (info.number_field, info.presentation_field):
            extension = _internal(str(row.get(field) or ""))
            if extension:
                return extension
    return ""


def _internal(text: str) -> str:
    number = normalize(text)
    return number.canonical if number.kind is NumberKind.INTERNAL else ""
