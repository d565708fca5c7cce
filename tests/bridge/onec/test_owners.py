from __future__ import annotations

from bridge.onec.config import OneCConfig
from bridge.onec.owners import owner_record

CONFIG = OneCConfig()
INFO = CONFIG.contact_info
REF = "8d04ce3c-6360-11e9-dd92-fa163e8ba11d"
PARENT = "11111111-2222-3333-4444-555555555555"


def phone(presentation: str, full: str = "", kind: str = "Телефон") -> dict[str, str]:
    return {
        "LineNumber": "1",
        "Тип": kind,
        "Представление": presentation,
        "НомерТелефона": full,
    }


def entity(*rows: dict[str, str], **extra: object) -> dict[str, object]:
    return {
        "Ref_Key": REF,
        "DataVersion": "AAAAAQ==",
        "DeletionMark": False,
        "Description": "ООО «Ромашка»",
        "КонтактнаяИнформация": list(rows),
        **extra,
    }


def test_full_number_field_wins_over_presentation():
    record = owner_record(
        entity(phone("+7 (916) 123-45-67", "+79161234567")), CONFIG.counterparties, INFO
    )
    assert record.numbers == ("+79161234567",)
    assert (record.presentation, record.data_version) == ("ООО «Ромашка»", "AAAAAQ==")


def test_presentation_with_several_numbers_and_an_extension():
    record = owner_record(
        entity(phone("8 (495) 123-45-67 доб. 12, +7 916 000-11-22")),
        CONFIG.counterparties,
        INFO,
    )
    assert record.numbers == ("+74951234567", "+79160001122")
    assert record.malformed == 0


def test_malformed_phones_are_counted_and_skipped():
    record = owner_record(
        entity(phone("уточнить у менеджера"), phone("000"), phone("+79161234567")),
        CONFIG.counterparties,
        INFO,
    )
    assert record.numbers == ("+79161234567",)
    assert record.malformed == 2


def test_other_contact_kinds_and_duplicates_are_ignored():
    record = owner_record(
        entity(
            phone("a@b.ru", kind="АдресЭлектроннойПочты"),
            phone("+7 916 123-45-67"),
            phone("89161234567"),
        ),
        CONFIG.counterparties,
        INFO,
    )
    assert record.numbers == ("+79161234567",)


def test_contact_person_keeps_its_counterparty():
    record = owner_record(entity(Owner_Key=PARENT), CONFIG.contact_persons, INFO)
    assert record.parent_ref == PARENT
    assert record.entity == "Catalog_КонтактныеЛица"


def test_empty_reference_means_no_parent():
    record = owner_record(
        entity(Owner_Key="00000000-0000-0000-0000-000000000000"),
        CONFIG.contact_persons,
        INFO,
    )
    assert record.parent_ref == ""


def test_missing_tabular_part_is_an_owner_without_numbers():
    record = owner_record(
        {"Ref_Key": REF, "Description": "x"}, CONFIG.counterparties, INFO
    )
    assert record.numbers == ()
    assert record.deleted is False
