"""Who can be offered, and how their names are spoken.

Employee ids are extensions: calls in the journal know extensions, and 1C documents'
users are mapped to extensions when they are read. Names come from 1C's users when
the 1C data feature provides them; without 1C, an employee is spoken by extension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from smart_ivr.menu import Employee

NamesByExtension = Callable[[], Mapping[str, str]]
UNNAMED = "сотрудник с добавочным {extension}"


class ExtensionEmployees:
    """Employees by extension, named from an in-memory map kept fresh elsewhere."""

    def __init__(self, names: NamesByExtension | None = None) -> None:
        self._names = names

    async def lookup(self, ids: Sequence[str]) -> Mapping[str, Employee]:
        names = self._names() if self._names else {}
        return {
            ext: Employee(ext, names.get(ext) or UNNAMED.format(extension=ext), ext)
            for ext in ids
            if ext.isdigit()
        }
