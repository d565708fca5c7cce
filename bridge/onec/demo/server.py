"""An aiohttp server that answers like a 1C publication (`/<base>/odata/`, `/ws/`).

What it reproduces, from the platform documentation (17.4) and the incumbent's SOAP
contract: `$metadata` (EDMX v3, namespace `StandardODATA`, container `EnterpriseV8`),
JSON collections `{"odata.metadata", "value"}` with tabular parts as collections,
the `$filter`/`$select`/`$orderby`/`$top`/`$skip` options (`$skip` before `$top`),
creating objects by POST to an entity set (`writes`: 201 with the created entity
and its `Location`), `odata.error` bodies with 1C's internal codes, HTTP Basic
auth, and the `miko_crm_api` web service with 1C's session cookie (`ibsession`,
`IBSession: start`). Faults are switchable for tests (`down`, `fail_next`,
`lose_answers`, `expire_sessions`). Not reproduced: the Atom format (JSON only),
`$expand`, updates, deletes, posting.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import re
import secrets
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from aiohttp import web

from bridge.onec.demo import data
from bridge.onec.demo.filters import FilterError, parse
from bridge.onec.demo.writes import CODE_BAD_REQUEST, WriteError, new_object

Entity = dict[str, Any]
PUBLICATION = "demo"
ODATA_ROOT = f"/{PUBLICATION}/odata/standard.odata/"
WS_PATH = f"/{PUBLICATION}/ws/miko_crm_api.1cws"
CRM_NS = "http://wiki.miko.ru/uniphone:crmapi"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SESSION_COOKIE = "ibsession"
NO_SESSION = "Не указан заголовок управления сеансами или куки с идентификатором сеанса"
# 1C's internal OData error codes (reference 17.4.10).
CODE_FORMAT = "3"
CODE_BAD_URL = "6"
CODE_TYPE_NOT_FOUND = "8"
CODE_NOT_FOUND = "9"
CODE_OPTIONS = "14"
_REF_EQ = re.compile(r"Ref_Key eq guid'([0-9a-fA-F-]{36})'")


@dataclass
class Faults:
    down: bool = False
    # Statuses to answer, one per request, before serving normally again.
    fail_next: list[int] = field(default_factory=list)
    # SOAP needs a 1C session: a cookie, or `IBSession: start` to open one.
    require_session: bool = True
    bom: bool = False
    # While set and not yet released, requests hang (a 1C stuck in a long lock).
    hang: asyncio.Event | None = None
    # Creates to write and then drop the connection on, unanswered: the client
    # cannot tell whether the object exists (a timeout or a proxy reset does this).
    lose_answers: int = 0


@dataclass
class DemoOneC:
    infobase: data.Infobase
    username: str = "odata"
    password: str = "secret"  # noqa: S105 - the demo's own credentials
    faults: Faults = field(default_factory=Faults)
    requests: int = 0
    sessions: set[str] = field(default_factory=set)
    events: list[tuple[str, str]] = field(default_factory=list)
    event_arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ordered: dict[tuple[str, str, str, int], list[Entity]] = field(
        default_factory=dict, repr=False
    )

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get(ODATA_ROOT + "$metadata", self._metadata)
        app.router.add_get(ODATA_ROOT + "{resource}", self._collection)
        app.router.add_post(ODATA_ROOT + "{resource}", self._create)
        app.router.add_get(WS_PATH, self._wsdl)
        app.router.add_post(WS_PATH, self._soap)
        return app

    def expire_sessions(self) -> None:
        """What a 1C server restart does to the web service's sessions."""
        self.sessions.clear()

    async def wait_events(self, count: int) -> list[tuple[str, str]]:
        async with self.event_arrived:
            await self.event_arrived.wait_for(lambda: len(self.events) >= count)
        return list(self.events)

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests += 1
        if self.faults.hang is not None:
            await self.faults.hang.wait()
        if self.faults.down:
            return web.Response(status=503, text="Сервис недоступен")
        if self.faults.fail_next:
            status = self.faults.fail_next.pop(0)
            return _odata_error(status, "0", "injected failure")
        if not self._authorized(request.headers.get("Authorization", "")):
            return web.Response(
                status=401, headers={"WWW-Authenticate": 'Basic realm="1C:Enterprise"'}
            )
        response: web.StreamResponse = await handler(request)
        return response

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded, validate=True)
        except ValueError:
            return False
        expected = f"{self.username}:{self.password}".encode()
        return secrets.compare_digest(given, expected)

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.Response(
            text=metadata_document(), content_type="application/xml", charset="utf-8"
        )

    async def _collection(self, request: web.Request) -> web.Response:
        if not _wants_json(request):
            return _odata_error(
                400, CODE_FORMAT, "Запрошенный тип представления не поддерживается"
            )
        resource = request.match_info["resource"]
        name, key = _split_key(resource)
        rows = self._rows(name)
        if rows is None:
            return _odata_error(
                404, CODE_TYPE_NOT_FOUND, f"Тип сущности не найден: {name}"
            )
        if key is not None:
            found = [r for r in rows if r["Ref_Key"] == key]
            if not found:
                return _odata_error(404, CODE_NOT_FOUND, "Экземпляр сущности не найден")
            return self._json(request, name + "/@Element", _project(found[0], request))
        try:
            selected = self._query(name, rows, request)
        except FilterError as exc:
            return _odata_error(
                400, CODE_OPTIONS, f"Ошибка разбора опций запроса: {exc}"
            )
        return self._json(request, name, {"value": selected})

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if not _wants_json(request):
            return _odata_error(
                400, CODE_FORMAT, "Запрошенный тип представления не поддерживается"
            )
        name = request.match_info["resource"]
        if name not in self.infobase.sets:
            return _odata_error(
                404, CODE_TYPE_NOT_FOUND, f"Тип сущности не найден: {name}"
            )
        try:
            entity = new_object(self.infobase, name, await _json_body(request))
        except WriteError as exc:
            return _odata_error(400, exc.code, exc.message)
        self.infobase.sets[name].append(entity)
        if self.faults.lose_answers:
            self.faults.lose_answers -= 1
            # Closed before answering: aiohttp drops the answer on a closed transport.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=201)
        response = self._json(request, name + "/@Element", entity)
        response.set_status(201)
        response.headers["Location"] = str(
            request.url.with_query(None).with_path(
                f"{ODATA_ROOT}{name}(guid'{entity['Ref_Key']}')"
            )
        )
        return response

    def _query(
        self, name: str, rows: list[Entity], request: web.Request
    ) -> list[Entity]:
        q = request.query
        skip, top = _int_option(q, "$skip"), _int_option(q, "$top")
        # Clients page through one ordering; sorting once per version of the data
        # keeps a 100,000-object demo base quick to page.
        key = (name, q.get("$filter", ""), q.get("$orderby", ""), self.infobase.version)
        if key not in self._ordered:
            self._ordered.clear()
            self._ordered[key] = _filtered_sorted(rows, key[1], key[2])
        window = self._ordered[key][skip or 0 :]
        if top is not None:
            window = window[:top]
        return [_project(r, request) for r in window]

    def _rows(self, name: str) -> list[Entity] | None:
        sets = self.infobase.sets
        if name in sets:
            return sets[name]
        owner, _, part = name.rpartition("_")
        if owner in sets and any(p == part for p, _ in data.SCHEMA[owner][1]):
            return [
                {"Ref_Key": e["Ref_Key"], **row}
                for e in sets[owner]
                for row in e.get(part, [])
            ]
        return None

    def _json(
        self, request: web.Request, fragment: str, body: dict[str, Any]
    ) -> web.Response:
        base = str(request.url.with_path(ODATA_ROOT).with_query(None))
        payload = {"odata.metadata": f"{base}$metadata#{fragment}", **body}
        raw = json.dumps(payload, ensure_ascii=False).encode()
        if self.faults.bom:
            raw = b"\xef\xbb\xbf" + raw
        return web.Response(body=raw, content_type="application/json", charset="utf-8")

    async def _wsdl(self, request: web.Request) -> web.Response:
        if "wsdl" not in request.query:
            return web.Response(status=400, text="wsdl only")
        session = self._session(request)
        if session is None:
            return web.Response(status=400, text=NO_SESSION)
        address = str(request.url.with_query(None))
        text = (
            resources.files(__package__)
            .joinpath("miko_crm_api.wsdl")
            .read_text("utf-8")
        )
        response = web.Response(
            text=text.replace("{address}", escape(address)), content_type="text/xml"
        )
        _set_session(response, session)
        return response

    async def _soap(self, request: web.Request) -> web.Response:
        session = self._session(request)
        if session is None:
            return web.Response(status=500, text=NO_SESSION)
        try:
            operation, params = _read_envelope(await request.read())
        except ValueError as exc:
            return _soap_fault("soap:Client", str(exc))
        if operation == "call_event":
            result = await self._call_event(params)
        elif operation == "user_list":
            result = json.dumps(self._user_list(), ensure_ascii=False)
        else:
            return _soap_fault("soap:Client", f"Операция {operation} не найдена")
        response = _soap_response(operation, result, bom=self.faults.bom)
        _set_session(response, session)
        return response

    def _session(self, request: web.Request) -> str | None:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if cookie in self.sessions or not self.faults.require_session:
            return cookie or secrets.token_hex(8)
        if request.headers.get("IBSession", "").lower() == "start":
            session = secrets.token_hex(8)
            self.sessions.add(session)
            return session
        return None

    async def _call_event(self, params: dict[str, str]) -> str:
        async with self.event_arrived:
            self.events.append((params.get("Subject", ""), params.get("Data", "")))
            self.event_arrived.notify_all()
        return ""

    def _user_list(self) -> list[dict[str, str]]:
        users = []
        for user in self.infobase.sets.get(data.USERS, []):
            numbers = [r["НомерТелефона"] for r in user.get(data.CONTACT_INFO, [])]
            extension = next((n for n in numbers if 0 < len(n) <= 6), "")
            mobile = next((n for n in numbers if len(n) > 6), "")
            users.append(
                {
                    "id": user["Ref_Key"],
                    "name": user["Description"],
                    "extension": extension,
                    "mobile": mobile,
                }
            )
        return users


EDMX_NS = "http://schemas.microsoft.com/ado/2007/06/edmx"
EDM_NS = "http://schemas.microsoft.com/ado/2009/11/edm"
META_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"


def metadata_document() -> str:
    """`$metadata` of the demo base, in the shape of 1C's (see the УТ 11 excerpt)."""
    types: list[str] = []
    sets: list[str] = []
    for name, (props, parts) in data.SCHEMA.items():
        body = [_prop(p, t, nullable=p != "Ref_Key") for p, t in props]
        for part, row in parts:
            row_type = f"{name}_{part}_RowType"
            body.append(_prop(part, f"Collection(StandardODATA.{row_type})"))
            row_props = "".join(_prop(p, t) for p, t in row)
            types.append(f'<ComplexType Name="{row_type}">{row_props}</ComplexType>')
            keys = _key("Ref_Key", "LineNumber")
            keyed = _prop("Ref_Key", "Edm.Guid", nullable=False) + row_props
            types.append(_entity_type(f"{name}_{part}", keys + keyed))
            sets.append(_entity_set(f"{name}_{part}"))
        types.append(_entity_type(name, _key("Ref_Key") + "".join(body)))
        sets.append(_entity_set(name))
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f'<edmx:Edmx xmlns:edmx="{EDMX_NS}" Version="1.0">'
        f'<edmx:DataServices xmlns:m="{META_NS}" '
        'm:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">'
        f'<Schema xmlns="{EDM_NS}" Namespace="StandardODATA">'
        + "".join(types)
        + '<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">'
        + "".join(sets)
        + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )


def _prop(name: str, edm_type: str, *, nullable: bool = True) -> str:
    flag = "true" if nullable else "false"
    return f'<Property Name="{name}" Type="{edm_type}" Nullable="{flag}"/>'


def _key(*names: str) -> str:
    refs = "".join(f'<PropertyRef Name="{n}"/>' for n in names)
    return f"<Key>{refs}</Key>"


def _entity_type(name: str, body: str) -> str:
    return f'<EntityType Name="{name}">{body}</EntityType>'


def _entity_set(name: str) -> str:
    return f'<EntitySet Name="{name}" EntityType="StandardODATA.{name}"/>'


def _wants_json(request: web.Request) -> bool:
    fmt = request.query.get("$format", "")
    return fmt.startswith("json") or "application/json" in request.headers.get(
        "Accept", ""
    )


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError:
        raise WriteError(CODE_BAD_REQUEST, "Неверный формат запроса") from None


def _split_key(resource: str) -> tuple[str, str | None]:
    """`Catalog_X(guid'…')` -> ("Catalog_X", "…")."""
    if not resource.endswith(")") or "(" not in resource:
        return resource, None
    name, _, key = resource[:-1].partition("(")
    key = key.removeprefix("Ref_Key=")
    if key.startswith("guid'") and key.endswith("'"):
        return name, key[5:-1].lower()
    return name, ""


def _filtered_sorted(rows: list[Entity], text: str, order: str) -> list[Entity]:
    refs = _refs_only(text)
    if refs is not None:
        # 1C answers a filter on the key from its primary-key index, not a scan.
        wanted = set(refs)
        rows = [r for r in rows if r["Ref_Key"] in wanted]
    elif text:
        predicate = parse(text)
        rows = [r for r in rows if predicate(r)]
    for key, descending in reversed(_orderby(order)):
        rows = sorted(
            rows, key=functools.partial(_sort_key, name=key), reverse=descending
        )
    return rows


def _refs_only(text: str) -> list[str] | None:
    """The references of a `Ref_Key eq guid'…' or …` filter, else None."""
    if not text:
        return None
    parts = [p.strip().strip("()") for p in text.split(" or ")]
    matches = [_REF_EQ.fullmatch(p) for p in parts]
    if not all(matches):
        return None
    return [m.group(1).lower() for m in matches if m]


def _orderby(text: str) -> list[tuple[str, bool]]:
    order = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, _, direction = item.partition(" ")
        if direction.strip() not in ("", "asc", "desc"):
            raise FilterError(f"bad $orderby direction {direction!r}")
        order.append((name, direction.strip() == "desc"))
    return order


def _sort_key(row: Entity, name: str) -> tuple[bool, Any]:
    if name not in row:
        raise FilterError(f"no property {name}")
    value = row[name]
    return (value is not None, value if value is not None else "")


def _int_option(query: Any, name: str) -> int | None:
    if name not in query:
        return None
    try:
        value = int(query[name])
    except ValueError:
        raise FilterError(f"{name} is not a number") from None
    if value < 0:
        raise FilterError(f"{name} is negative")
    return value


def _project(row: Entity, request: web.Request) -> Entity:
    select = request.query.get("$select", "")
    if not select or select == "*":
        return row
    if select == "**":
        return {k: v for k, v in row.items() if not isinstance(v, list)}
    out: Entity = {}
    for name in (s.strip() for s in select.split(",")):
        head, _, sub = name.partition("/")
        if head not in row:
            raise FilterError(f"no property {head}")
        if sub and isinstance(row[head], list):
            previous = out.get(head) or [{} for _ in row[head]]
            out[head] = [
                {**p, "LineNumber": r["LineNumber"], sub: r.get(sub)}
                for p, r in zip(previous, row[head], strict=True)
            ]
        else:
            out[head] = row[head]
    return out


def _odata_error(status: int, code: str, message: str) -> web.Response:
    body = {"odata.error": {"code": code, "message": {"lang": "ru", "value": message}}}
    return web.json_response(
        body, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False)
    )


def _set_session(response: web.Response, session: str) -> None:
    response.set_cookie(SESSION_COOKIE, session, httponly=True)


def _read_envelope(raw: bytes) -> tuple[str, dict[str, str]]:
    try:
        root = ET.fromstring(raw)  # noqa: S314 - input is from our own client in tests
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    body = root.find(f"{{{SOAP_NS}}}Body")
    if body is None or len(body) == 0:
        raise ValueError("no SOAP body")
    op = body[0]
    params = {child.tag.rpartition("}")[2]: child.text or "" for child in op}
    return op.tag.rpartition("}")[2], params


def _soap_response(operation: str, result: str, *, bom: bool) -> web.Response:
    text = (
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Header/><soap:Body>'
        f'<m:{operation}Response xmlns:m="{CRM_NS}">'
        f'<m:return xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{escape(result)}</m:return>'
        f"</m:{operation}Response></soap:Body></soap:Envelope>"
    )
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    return web.Response(body=raw, content_type="text/xml", charset="utf-8")


def _soap_fault(code: str, message: str) -> web.Response:
    text = (
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><soap:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    )
    return web.Response(status=500, text=text, content_type="text/xml")
