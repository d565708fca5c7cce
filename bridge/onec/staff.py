"""Employees for the smart IVR and the routing table, as 1C lists its users.

Names are spoken in menus; users marked deleted or `Недействителен` in 1C are
dismissed and drop out of every client's ranking, so the next employee takes over.
Refreshed with the contact index; until the first read nobody is dismissed (an
install without 1C ranks whoever answered calls).
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.onec.config import OneCConfig
from bridge.onec.odata import ODataClient
from bridge.onec.users import extension_of, users_query


class Staff:
    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._dismissed: frozenset[str] = frozenset()
        self._extensions: dict[str, str] = {}

    def names(self) -> Mapping[str, str]:
        """Spoken names of active employees, by extension."""
        return self._names

    async def dismissed(self) -> frozenset[str]:
        """Extensions that belonged only to users 1C no longer considers active."""
        return self._dismissed

    def employee_id(self, user_or_extension: str) -> str:
        """The extension of a 1C user reference (1C documents name users), else
        the id as given: routing rankings are kept by extension."""
        return self._extensions.get(user_or_extension, user_or_extension)

    async def refresh(self, client: ODataClient, config: OneCConfig) -> None:
        """Re-read 1C's users; raises `OneCError` (the last list is kept)."""
        active: dict[str, str] = {}
        inactive: set[str] = set()
        extensions: dict[str, str] = {}
        async for page in client.pages(
            config.users.entity, users_query(config), config.page_size
        ):
            for entity in page:
                extension = extension_of(entity, config)
                if not extension:
                    continue
                extensions[str(entity["Ref_Key"])] = extension
                if _is_active(entity, config):
                    active[extension] = str(entity.get(config.users.name_field) or "")
                else:
                    inactive.add(extension)
        self._names = active
        self._extensions = extensions
        # An extension handed on to someone active stays in the menus.
        self._dismissed = frozenset(inactive - active.keys())


def _is_active(entity: Mapping[str, object], config: OneCConfig) -> bool:
    invalid = config.users.invalid_field
    return not entity.get("DeletionMark") and not (invalid and entity.get(invalid))
