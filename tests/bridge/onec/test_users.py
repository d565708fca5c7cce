"""Employees read from the fake 1C's Catalog_Пользователи."""

from __future__ import annotations

from bridge.onec.config import OneCConfig, UsersMapping
from bridge.onec.demo.data import USERS
from bridge.onec.users import read_users, user_of
from tests.fakes.onec import RunningOneC

REF = "8d04ce3c-6360-11e9-dd92-fa163e8ba11d"


async def test_users_with_extensions_from_contact_info(onec: RunningOneC):
    first = onec.infobase.sets[USERS][0]
    onec.infobase.change(
        USERS, onec.infobase.sets[USERS][1]["Ref_Key"], Недействителен=True
    )
    config = OneCConfig(odata_url=onec.odata_url, username="odata", page_size=10)
    async with onec.client() as client:
        users = await read_users(client, config)
    by_id = {u.user_id: u for u in users}
    assert len(users) == len(onec.infobase.sets[USERS]) - 1
    assert by_id[first["Ref_Key"]].extension == "201"
    assert by_id[first["Ref_Key"]].name == first["Description"]


def test_extension_from_a_field():
    config = OneCConfig(
        users=UsersMapping(extension_from="field", extension_field="ВнутреннийНомер")
    )
    user = user_of(
        {"Ref_Key": REF, "Description": "Иванов", "ВнутреннийНомер": "305"}, config
    )
    assert user is not None
    assert user.extension == "305"


def test_users_without_an_extension_or_deleted_are_left_out():
    config = OneCConfig()
    mobile_only = {
        "Ref_Key": REF,
        "Description": "x",
        "КонтактнаяИнформация": [
            {"Тип": "Телефон", "НомерТелефона": "+79161234567", "Представление": ""}
        ],
    }
    assert user_of(mobile_only, config) is None
    deleted = {**mobile_only, "DeletionMark": True}
    assert user_of(deleted, config) is None
