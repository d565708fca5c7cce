"""Employees from 1C's users: names for menus, dismissed users out of the ranking.

1C is the fake publication (`bridge.onec.demo`), built from 1C's OData docs.
"""

from __future__ import annotations

from bridge.config import Config
from bridge.onec.staff import Staff
from bridge.onec.users import extension_of
from tests.fakes.onec import RunningOneC


async def test_names_of_active_users_and_dismissed_extensions(
    onec: RunningOneC,
) -> None:
    config = Config().onec
    users = onec.infobase.sets["Catalog_Пользователи"]
    with_phone = [u for u in users if extension_of(u, config)]
    assert len(with_phone) >= 3
    leaver, deleted, stayer = with_phone[0], with_phone[1], with_phone[2]
    leaver["Недействителен"] = True
    deleted["DeletionMark"] = True
    staff = Staff()
    assert await staff.dismissed() == frozenset()  # nobody, until 1C was read
    async with onec.client() as client:
        await staff.refresh(client, config)
    names = staff.names()
    assert names[extension_of(stayer, config)] == stayer["Description"]
    dismissed = await staff.dismissed()
    for gone in (leaver, deleted):
        assert extension_of(gone, config) in dismissed
        assert extension_of(gone, config) not in names
