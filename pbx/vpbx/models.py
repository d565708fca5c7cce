"""The Integration API's JSON payloads, as far as they are known.

The manual omits field names; these come from public integrations that cite the
admin guide v7.5 (research seed-002 §1.10). Everything is `extra="allow"`: a field
the PBX adds later is kept (and handed on), never a reason to refuse a request.
Numbers may arrive as JSON numbers, so they are read as strings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# `result` of a reply: "0" is success for the API's own replies; for our
# get_number_info reply "0" means "a display name only, route as usual".
RESULT_OK = "0"
RESULT_ROUTE_TO_PIN = "1"


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    def unknown_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CallEventPayload(Payload):
    """`POST <our base>/call_events`: one step of one call."""

    session_id: str = Field(min_length=1, max_length=128)
    state: str = Field(default="", max_length=64)
    type: str = Field(default="", max_length=64)
    # "YYYY-MM-DD HH:MM:SS.fff", the domain's local time.
    timestamp: str = Field(default="", max_length=64)
    # The caller: a number, an extension or a "sip:login@domain" URI.
    from_number: str = Field(default="", max_length=256)
    request_number: str = Field(default="", max_length=256)
    # The domain user's extension («PIN») of this leg.
    request_pin: str = Field(default="", max_length=64)
    is_record: bool | None = None
    disconnect_reason: str | None = Field(default=None, max_length=256)

    @field_validator("is_record", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        """ "true"/"1"/"yes" and the like; an unreadable flag is unknown, not fatal."""
        if isinstance(value, str):
            return _FLAGS.get(value.strip().lower())
        return value


_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class NumberInfoRequest(Payload):
    """`POST <our base>/get_number_info`: who is calling, where to route it."""

    domain: str = Field(default="", max_length=256)
    # Empty for a hidden number: answered with the empty reply, not refused.
    from_number: str = Field(default="", max_length=256)
    request_number: str = Field(default="", max_length=256)


class NumberInfoReply(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    result: str = RESULT_OK
    result_message: str = Field(default="", alias="resultMessage")
    display_name: str = Field(default="", alias="displayName")
    pin: str | None = Field(default=None, alias="PIN")

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class HistoryFileCompleted(Payload):
    """`POST <our base>/history_file_completed`: an export ordered earlier is ready."""

    order_id: str = Field(default="", max_length=128)

    @property
    def export_id(self) -> str:
        """The export's id; public integrations disagree on the field's name."""
        if self.order_id:
            return self.order_id
        extra = self.unknown_fields()
        for name in ("request_id", "id", "file_id"):
            value = extra.get(name)
            if value not in (None, ""):
                return str(value)
        return ""


class Acknowledgement(BaseModel):
    """What we answer to notifications the PBX only needs acknowledged."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    result: str = RESULT_OK
    result_message: str = Field(default="OK", alias="resultMessage")

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class ApiReply(Payload):
    """A reply of the Integration API to one of our calls."""

    result: str = ""
    result_message: str = Field(default="", alias="resultMessage")

    @property
    def ok(self) -> bool:
        return self.result.strip() == RESULT_OK


class RecordLink(ApiReply):
    url: str = ""


class CallInfo(ApiReply):
    info: dict[str, Any] = Field(default_factory=dict)


class HistoryOrder(ApiReply):
    order_id: str = ""
