"""Demo infobase contents, generated deterministically from a seed.

Shapes follow the standard OData interface of a БСП-based configuration (УТ 11
excerpt in the reference): every object has `Ref_Key`, `DataVersion`,
`DeletionMark`; contact information is the `КонтактнаяИнформация` tabular part,
rows keyed by `LineNumber`; references appear as `<Name>_Key`. Phone rows come in
the formats met in real bases, including a few malformed ones.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Entity = dict[str, Any]

COUNTERPARTIES = "Catalog_Контрагенты"
CONTACT_PERSONS = "Catalog_КонтактныеЛица"
PARTNERS = "Catalog_Партнеры"
USERS = "Catalog_Пользователи"
PHONE_CALLS = "Document_ТелефонныйЗвонок"
CONTACT_INFO = "КонтактнаяИнформация"
PHONE_TYPE = "Телефон"
EMAIL_TYPE = "АдресЭлектроннойПочты"

# name -> (properties as (name, Edm type), tabular parts as (name, row properties))
Property = tuple[str, str]
_OBJECT = [
    ("Ref_Key", "Edm.Guid"),
    ("DataVersion", "Edm.String"),
    ("DeletionMark", "Edm.Boolean"),
]
_CATALOG = [*_OBJECT, ("Code", "Edm.String"), ("Description", "Edm.String")]
_CONTACT_ROW = [
    ("LineNumber", "Edm.Int64"),
    ("Тип", "Edm.String"),
    ("Вид_Key", "Edm.Guid"),
    ("Представление", "Edm.String"),
    ("НомерТелефона", "Edm.String"),
    ("НомерТелефонаБезКодов", "Edm.String"),
    ("АдресЭП", "Edm.String"),
    ("Значение", "Edm.String"),
]
SCHEMA: dict[str, tuple[list[Property], list[tuple[str, list[Property]]]]] = {
    COUNTERPARTIES: (
        [*_CATALOG, ("НаименованиеПолное", "Edm.String"), ("ИНН", "Edm.String")],
        [(CONTACT_INFO, _CONTACT_ROW)],
    ),
    CONTACT_PERSONS: (
        [*_CATALOG, ("Owner_Key", "Edm.Guid"), ("Должность", "Edm.String")],
        [(CONTACT_INFO, _CONTACT_ROW)],
    ),
    PARTNERS: ([*_CATALOG], [(CONTACT_INFO, _CONTACT_ROW)]),
    USERS: (
        [*_CATALOG, ("Недействителен", "Edm.Boolean"), ("Служебный", "Edm.Boolean")],
        [(CONTACT_INFO, _CONTACT_ROW)],
    ),
    PHONE_CALLS: (
        [
            *_OBJECT,
            ("Number", "Edm.String"),
            ("Date", "Edm.DateTime"),
            ("Posted", "Edm.Boolean"),
            ("АбонентКакСвязаться", "Edm.String"),
            ("АбонентКонтакт", "Edm.String"),
            ("АбонентКонтакт_Type", "Edm.String"),
            ("АбонентПредставление", "Edm.String"),
            ("Входящий", "Edm.Boolean"),
            ("Ответственный_Key", "Edm.Guid"),
            ("Автор_Key", "Edm.Guid"),
            ("Важность", "Edm.String"),
            ("Тема", "Edm.String"),
            ("Описание", "Edm.String"),
            ("Комментарий", "Edm.String"),
        ],
        [],
    ),
}

_PREFIXES = ["ООО", "АО", "ИП", "ПАО", "ЗАО"]
_WORDS = [
    "Ромашка",
    "Вектор",
    "Сигма",
    "Альфа",
    "Техносервис",
    "СтройМир",
    "Меридиан",
    "Восток",
    "Гранит",
    "Импульс",
    "Поток",
    "Кедр",
    "Орион",
    "Радуга",
    "Прогресс",
]
_FIRST = ["Иван", "Пётр", "Анна", "Мария", "Олег", "Елена", "Сергей", "Ольга"]
_LAST = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Волков"]
_CODES = ["916", "925", "903", "495", "499", "812", "343", "800"]
PHONE_KIND = "00000000-0000-0000-0000-00000000f001"
EMAIL_KIND = "00000000-0000-0000-0000-00000000f002"
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
MALFORMED = ("уточнить у менеджера", "доб.", "000")


@dataclass
class Infobase:
    """Entity sets by name; each object is the JSON 1C would return for it."""

    sets: dict[str, list[Entity]] = field(default_factory=dict)
    _version: int = 0

    @property
    def version(self) -> int:
        """Grows with every change: lets the server cache what it derived."""
        return self._version

    def next_version(self) -> str:
        self._version += 1
        return base64.b64encode(self._version.to_bytes(8, "big")).decode()

    def find(self, entity_set: str, ref: str) -> Entity | None:
        return next(
            (e for e in self.sets.get(entity_set, []) if e["Ref_Key"] == ref), None
        )

    def change(self, entity_set: str, ref: str, **values: Any) -> Entity:
        """Edit an object as a 1C user would: its DataVersion changes."""
        entity = self.find(entity_set, ref)
        if entity is None:
            raise KeyError(ref)
        entity.update(values)
        entity["DataVersion"] = self.next_version()
        return entity


def generate(
    seed: int = 1,
    *,
    counterparties: int = 300,
    users: int = 20,
    calls: int = 400,
    start: datetime = datetime(2026, 1, 1, 9, 0),
) -> Infobase:
    rnd = random.Random(seed)  # noqa: S311 - demo data, not security
    base = Infobase()
    base.sets = {name: [] for name in SCHEMA}
    for i in range(counterparties):
        company = _counterparty(base, rnd, i)
        base.sets[COUNTERPARTIES].append(company)
        for _ in range(rnd.choice((0, 0, 1, 2))):
            base.sets[CONTACT_PERSONS].append(_person(base, rnd, company["Ref_Key"]))
    for i in range(users):
        base.sets[USERS].append(_user(base, rnd, i))
    for i in range(calls):
        base.sets[PHONE_CALLS].append(_call(base, rnd, i, start))
    return base


def _ref(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _catalog(base: Infobase, rnd: random.Random, code: int, name: str) -> Entity:
    return {
        "Ref_Key": _ref(rnd),
        "DataVersion": base.next_version(),
        "DeletionMark": rnd.random() < 0.02,
        "Code": f"{code:09d}",
        "Description": name,
    }


def _counterparty(base: Infobase, rnd: random.Random, i: int) -> Entity:
    name = f"{rnd.choice(_PREFIXES)} «{rnd.choice(_WORDS)}-{i}»"
    entity = _catalog(base, rnd, i + 1, name)
    entity["НаименованиеПолное"] = name
    entity["ИНН"] = "".join(rnd.choice("0123456789") for _ in range(10))
    entity[CONTACT_INFO] = _contact_rows(rnd, rnd.choice((1, 1, 2, 3)))
    return entity


def _person(base: Infobase, rnd: random.Random, owner: str) -> Entity:
    name = f"{rnd.choice(_LAST)} {rnd.choice(_FIRST)}"
    entity = _catalog(base, rnd, rnd.randrange(10**6), name)
    entity["Owner_Key"] = owner
    entity["Должность"] = rnd.choice(["директор", "бухгалтер", "менеджер"])
    entity[CONTACT_INFO] = _contact_rows(rnd, 1)
    return entity


def _user(base: Infobase, rnd: random.Random, i: int) -> Entity:
    name = f"{rnd.choice(_LAST)} {rnd.choice(_FIRST)} (менеджер {i + 1})"
    entity = _catalog(base, rnd, i + 1, name)
    entity["Недействителен"] = False
    entity["Служебный"] = False
    extension = str(201 + i)
    mobile = _phone_digits(rnd)
    entity[CONTACT_INFO] = [
        _row(1, extension, extension, extension),
        _row(
            2,
            f"+7 ({mobile[1:4]}) {mobile[4:7]}-{mobile[7:9]}-{mobile[9:]}",
            mobile,
            mobile[1:],
        ),
    ]
    return entity


def _call(base: Infobase, rnd: random.Random, i: int, start: datetime) -> Entity:
    company = (
        rnd.choice(base.sets[COUNTERPARTIES]) if base.sets[COUNTERPARTIES] else None
    )
    user = rnd.choice(base.sets[USERS]) if base.sets[USERS] else None
    phones = company[CONTACT_INFO] if company else []
    number = next((r["НомерТелефона"] for r in phones if r["НомерТелефона"]), "")
    return {
        "Ref_Key": _ref(rnd),
        "DataVersion": base.next_version(),
        "DeletionMark": False,
        "Number": f"ТЗ-{i + 1:06d}",
        "Date": (start + timedelta(minutes=37 * i)).isoformat(),
        "Posted": False,
        "АбонентКакСвязаться": number,
        "АбонентКонтакт": company["Ref_Key"] if company else EMPTY_REF,
        "АбонентКонтакт_Type": f"StandardODATA.{COUNTERPARTIES}"
        if company
        else "StandardODATA.Undefined",
        "АбонентПредставление": company["Description"] if company else "",
        "Входящий": rnd.random() < 0.6,
        "Ответственный_Key": user["Ref_Key"] if user else EMPTY_REF,
        "Автор_Key": user["Ref_Key"] if user else EMPTY_REF,
        "Важность": "Обычная",
        "Тема": rnd.choice(["Заказ", "Доставка", "Оплата", "Рекламация"]),
        "Описание": "",
        "Комментарий": "",
    }


def _phone_digits(rnd: random.Random) -> str:
    return (
        "7" + rnd.choice(_CODES) + "".join(rnd.choice("0123456789") for _ in range(7))
    )


def _contact_rows(rnd: random.Random, phones: int) -> list[Entity]:
    rows = [_phone_row(rnd, n + 1) for n in range(phones)]
    if rnd.random() < 0.3:
        email = f"info{rnd.randrange(10**6)}@example.ru"
        rows.append(
            {
                **_row(len(rows) + 1, email, "", ""),
                "Тип": EMAIL_TYPE,
                "Вид_Key": EMAIL_KIND,
                "АдресЭП": email,
            }
        )
    return rows


def _phone_row(rnd: random.Random, line: int) -> Entity:
    """One phone row in one of the formats real bases hold."""
    d = _phone_digits(rnd)
    style = rnd.randrange(10)
    if style == 0:  # older БСП: only the presentation, sometimes two numbers in it
        d2 = _phone_digits(rnd)
        return _row(line, f"8 ({d[1:4]}) {d[4:]}, +{d2}", "", "")
    if style == 1:  # malformed: 1C lets users type anything
        return _row(line, rnd.choice(MALFORMED), "", "")
    pretty = f"+7 ({d[1:4]}) {d[4:7]}-{d[7:9]}-{d[9:]}"
    if style == 2:
        pretty += " доб. 123"
    return _row(line, pretty, "+" + d, d[1:])


def _row(line: int, presentation: str, full: str, local: str) -> Entity:
    return {
        "LineNumber": str(line),
        "Тип": PHONE_TYPE,
        "Вид_Key": PHONE_KIND,
        "Представление": presentation,
        "НомерТелефона": full,
        "НомерТелефонаБезКодов": local,
        "АдресЭП": "",
        "Значение": "",
    }
