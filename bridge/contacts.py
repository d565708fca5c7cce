"""Who owns a phone number: the contract between the contact index and its users
(getcallerid, the AGI caller-name hook, Rostelecom get_number_info, the journal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ContactOwner:
    # 1C reference (Ref_Key) and entity ("Catalog_Контрагенты", ...).
    ref: str
    entity: str
    presentation: str
    # For a contact person: the counterparty it belongs to.
    parent_ref: str = ""
    parent_presentation: str = ""


@dataclass(frozen=True, slots=True)
class ContactMatch:
    number: str  # the normalized number that matched
    owners: tuple[ContactOwner, ...]

    @property
    def display_name(self) -> str:
        """What a phone screen shows: the first owner, with its company if any."""
        if not self.owners:
            return ""
        first = self.owners[0]
        if first.parent_presentation:
            return f"{first.presentation} ({first.parent_presentation})"
        return first.presentation


class ContactDirectory(Protocol):
    async def lookup(self, number: str) -> ContactMatch | None:
        """Owners of `number` (any format), or None; answers from local data only."""
        ...
