"""Wire protocol v1 of the device endpoint: every call and answer, its shape and its bounds, in one place.

The server (:mod:`s1sr.devices.server`) reads calls with the ``read_*_call`` functions
and the client (:mod:`s1sr.devices.remote`) reads answers with the ``read_*_answer``
functions; both build what they send with the functions named after it. A shape that
breaks the protocol raises :class:`WireError`, whose text names the member and the
problem. :func:`openapi_document` describes the same shapes for a lab that implements
an endpoint (published as ``docs/device-protocol.openapi.json``; regenerate it with
``python -m s1sr.devices.wire > docs/device-protocol.openapi.json``).

The rules, in short: bodies are JSON objects (UTF-8, no ``NaN``/``Infinity``); a call
carries only the members listed here, a command only the fields that
:data:`s1sr.devices.commands.ALL_COMMANDS` gives its name (the S1SP's commands and the harness's,
which record data on a device before a test), each of the JSON type
:data:`FIELD_TYPES` gives it, integers within 64 bits and strings within their length;
``timeout_s`` is a number of seconds more than 0 and at most :data:`MAX_TIMEOUT_S`.
Answers may carry members a client does not know; it ignores them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceInfo
from s1sr.devices.commands import ALL_COMMANDS, HARNESS_COMMANDS, DeviceCommand, DeviceReply

VERSION = 1
#: Largest call body a server reads (a TransferFirmware carries up to 10,240,000 base64 characters).
MAX_CALL_BYTES = 16 * 1024 * 1024
#: Largest answer body a client reads (a snapshot of a large estate).
MAX_ANSWER_BYTES = 32 * 1024 * 1024
#: Largest ``timeout_s`` a call may give: ten minutes.
MAX_TIMEOUT_S = 600.0
#: Longest ordinary string field, and longest ``defaults`` provenance text.
MAX_TEXT = 256
#: Longest firmware image, in base64 characters (the DUIS maximum of FirmwareImage).
MAX_FIRMWARE_IMAGE = 10_240_000
#: Integers are what a device register can hold: signed 64-bit.
INT_RANGE = (-(2**63), 2**63 - 1)
#: An EUI-64 as DUIS writes it.
EUI64 = re.compile(r"^[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}$")
#: Longest message, reason or echoed value put into an error line.
MESSAGE_CHARS = 300
#: Most log entries one command carries: a year and a month of half hours (the largest DUIS log read) and more.
MAX_LOG_ENTRIES = 20_000
#: Longest time a log entry names (``2026-11-01T00:30:00Z`` has 20 characters).
MAX_TIME_TEXT = 32

PATHS = {"devices": "/v1/devices", "reset": "/v1/reset", "execute": "/v1/execute", "snapshot": "/v1/snapshot"}
ErrorKind = Literal["bad-request", "unauthorized", "forbidden", "timeout", "fault"]


class WireError(ValueError):
    """A call or an answer that breaks wire protocol v1: ``where`` is the member, ``problem`` what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where} {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class FieldType:
    """The JSON type of one command field, its bound, and what it means (for the OpenAPI document)."""

    json_type: Literal["integer", "boolean", "string", "array"]
    description: str
    max_length: int = MAX_TEXT
    eui64: bool = False


def _pence(what: str) -> FieldType:
    return FieldType("integer", f"{what}, in whole pence")


#: The JSON type of every command field of :data:`COMMANDS` (device units: pence, minutes, watts, seconds).
FIELD_TYPES: dict[str, FieldType] = {
    "amount_pence": _pence("signed adjustment of the meter balance"),
    "mode": FieldType("string", '"credit" or "prepayment"'),
    "disablement_threshold_pence": _pence("DisablementThreshold"),
    "suspend_debt_disabled": FieldType("boolean", "SuspendDebtDisabled"),
    "suspend_debt_emergency": FieldType("boolean", "SuspendDebtEmergency"),
    "debt_recovery_per_payment_percent": FieldType("integer", "debt recovery per payment, in percent"),
    "debt_recovery_rate_cap": FieldType("integer", "DebtRecoveryRateCap, unchanged from DUIS"),
    "emergency_credit_limit_pence": _pence("EmergencyCreditLimit"),
    "emergency_credit_threshold_pence": _pence("EmergencyCreditThreshold"),
    "low_credit_threshold_pence": _pence("LowCreditThreshold"),
    "max_meter_balance_pence": _pence("MaxMeterBalance"),
    "max_credit_threshold_pence": _pence("MaxCreditThreshold"),
    "emergency_credit_auto_activation": FieldType("boolean", "emergency credit activates by itself"),
    "power_threshold_w": FieldType("integer", "LoadLimitPowerThreshold, in watts"),
    "period_s": FieldType("integer", "LoadLimitPeriod, in seconds"),
    "restoration_period_s": FieldType("integer", "LoadLimitRestorationPeriod, in seconds"),
    "supply_state": FieldType("string", 'LoadLimitSupplyState: "Disable" or "Unchanged"'),
    "joining_device": FieldType("string", "EUI-64 of the device to join or remove", eui64=True),
    "join_minutes": FieldType("integer", "join window, in whole minutes"),
    "install_code": FieldType("string", "InstallCode, hex"),
    "join_method": FieldType("string", 'how the device joins, e.g. "install-code"'),
    "firmware_version": FieldType("string", "FirmwareVersion of the image"),
    "image_hash": FieldType("string", "SHA-256 of the image, 64 upper-case hex digits"),
    "image_base64": FieldType("string", "the firmware image, base64", max_length=MAX_FIRMWARE_IMAGE),
    "activation": FieldType("string", 'when the image activates, e.g. "await-11.3"'),
    "profile": FieldType("string", '"active-import" (SRV 4.8.1) or "export" (SRV 4.8.3)'),
    "start": FieldType(
        "string", "first instant of the period read, UTC: YYYY-MM-DDThh:mm:ssZ", max_length=MAX_TIME_TEXT
    ),
    "end": FieldType(
        "string", "instant the period read ends before, UTC: YYYY-MM-DDThh:mm:ssZ", max_length=MAX_TIME_TEXT
    ),
    "register": FieldType("string", '"import" or "export"'),
    "unit": FieldType("string", '"Wh" (ESME energy), "dm3" (GSME gas volume) or "dV" (ESME RMS voltage)'),
    "value": FieldType("integer", "a register's value, in unit"),
    "entries": FieldType(
        "array",
        "log entries, each the start of the period it covers (UTC, YYYY-MM-DDThh:mm:ssZ) and its value in unit",
        max_length=MAX_LOG_ENTRIES,
    ),
    "over_voltage_count": FieldType("integer", "RMS over-voltage events counted"),
    "under_voltage_count": FieldType("integer", "RMS under-voltage events counted"),
}


@dataclass(frozen=True)
class ExecuteCall:
    """``POST /v1/execute``: one command and the seconds the device has to answer it."""

    command: DeviceCommand
    timeout_s: float


# --- JSON in and out -------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes, where: str) -> Any:
    """Strict JSON (UTF-8, no NaN or Infinity), or :class:`WireError` naming ``where``."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise WireError(where, "is not UTF-8") from None
    except RecursionError:
        raise WireError(where, "nests too deeply to be read") from None
    except ValueError as exc:
        raise WireError(where, f"is not JSON ({cut(str(exc))})") from None


def encode(payload: Any) -> bytes:
    """A body as sent: compact JSON, UTF-8; ValueError for NaN or infinity, TypeError for a non-JSON value."""
    return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode("utf-8")


def cut(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` on one line and at most ``limit`` characters, for a message someone reads."""
    flat = "".join(c if c.isprintable() else " " for c in text)
    return flat if len(flat) <= limit else f"{flat[: limit - 20]}... ({len(flat):,} characters)"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number" if math.isfinite(value) else "a number too large to hold"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireError(where, f"is {_kind(value)}, not an object")
    return value


def _only(value: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in value:
        if key not in allowed:
            known = ", ".join(allowed) or "none"
            raise WireError(where, f"has a member {cut(repr(key), 60)} that protocol v1 does not know ({known})")


def _string(value: Any, where: str, max_length: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise WireError(where, f"is {_kind(value)}, not a string")
    if len(value) > max_length:
        raise WireError(where, f"has {len(value):,} characters, over the {max_length:,} allowed")
    return value


def _eui64(value: Any, where: str) -> str:
    text = _string(value, where)
    if not EUI64.fullmatch(text):  # fullmatch: "$" would let a trailing newline through
        raise WireError(where, f"is {cut(repr(text), 60)}, not an EUI-64 (eight hex pairs joined by '-')")
    return text


def _integer(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise WireError(where, f"is {_kind(value)}, not an integer")
    lo, hi = INT_RANGE
    if not lo <= value <= hi:
        raise WireError(where, "is outside the signed 64-bit range")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise WireError(where, f"is {_kind(value)}, not a boolean")
    return value


def check_timeout(value: Any, where: str = "timeout_s") -> float:
    """A ``timeout_s``: a finite number of seconds, more than 0 and at most :data:`MAX_TIMEOUT_S`."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise WireError(where, f"is {_kind(value)}, not a number of seconds")
    seconds = float(value)
    if not math.isfinite(seconds):
        raise WireError(where, "is not a finite number of seconds")
    if not 0 < seconds <= MAX_TIMEOUT_S:
        raise WireError(where, f"is {seconds:g} s, outside more than 0 and at most {MAX_TIMEOUT_S:g} s")
    return seconds


def check_token(token: str) -> str:
    """A shared token as sent in ``Authorization: Bearer TOKEN``: 16 to 512 visible ASCII characters, no spaces."""
    if not 16 <= len(token) <= 512:
        raise WireError("the token", f"has {len(token)} characters; give 16 to 512")
    if not all("!" <= c <= "~" for c in token):
        raise WireError("the token", "may hold only visible ASCII characters, without spaces")
    return token


def _entries(value: Any, where: str, max_items: int) -> list[dict[str, Any]]:
    """A list of log entries: objects of exactly ``start`` (a string) and ``value`` (an integer)."""
    if not isinstance(value, list):
        raise WireError(where, f"is {_kind(value)}, not a list")
    if len(value) > max_items:
        raise WireError(where, f"has {len(value):,} entries, over the {max_items:,} allowed")
    found = []
    for index, raw in enumerate(value):
        item = _object(raw, f"{where}[{index}]")
        _only(item, ("start", "value"), f"{where}[{index}]")
        for member in ("start", "value"):
            if member not in item:
                raise WireError(f"{where}[{index}]", f"has no member '{member}'")
        found.append(
            {
                "start": _string(item["start"], f"{where}[{index}].start", MAX_TIME_TEXT),
                "value": _integer(item["value"], f"{where}[{index}].value"),
            }
        )
    return found


def _field(name: str, value: Any, where: str) -> Any:
    kind = FIELD_TYPES[name]
    if kind.json_type == "integer":
        return _integer(value, where)
    if kind.json_type == "boolean":
        return _boolean(value, where)
    if kind.json_type == "array":
        return _entries(value, where, kind.max_length)
    return _eui64(value, where) if kind.eui64 else _string(value, where, kind.max_length)


# --- calls (read by the server) ------------------------------------------------------


def execute_call(command: DeviceCommand, timeout_s: float) -> dict[str, Any]:
    """The body of ``POST /v1/execute``."""
    return {
        "command": {
            "name": command.name,
            "device_id": command.device_id,
            "fields": command.fields,
            "defaults": command.defaults,
        },
        "timeout_s": timeout_s,
    }


def read_execute_call(body: Any) -> ExecuteCall:
    """Check a ``POST /v1/execute`` body: the command's name, device, every field and the timeout."""
    call = _object(body, "the body")
    _only(call, ("command", "timeout_s"), "the body")
    if "command" not in call:
        raise WireError("the body", "has no member 'command'")
    raw = _object(call["command"], "command")
    _only(raw, ("name", "device_id", "fields", "defaults"), "command")
    name = _string(raw.get("name"), "command.name", 64)
    if name not in ALL_COMMANDS:
        raise WireError("command.name", f"{cut(repr(name), 60)} is not a device command of protocol v1")
    device_id = _eui64(raw.get("device_id"), "command.device_id")
    expected = ALL_COMMANDS[name]
    given = _object(raw.get("fields", {}), "command.fields")
    _only(given, expected, f"command.fields of {name}")
    fields = {}
    for key in expected:
        if key not in given:
            raise WireError(f"command.fields.{key}", f"is missing: {name} needs it")
        fields[key] = _field(key, given[key], f"command.fields.{key}")
    raw_defaults = _object(raw.get("defaults", {}), "command.defaults")
    _only(raw_defaults, expected, f"command.defaults of {name}")
    defaults = {key: _string(text, f"command.defaults.{key}") for key, text in raw_defaults.items()}
    timeout_s = check_timeout(call.get("timeout_s", DEFAULT_TIMEOUT_S))
    return ExecuteCall(DeviceCommand(name, device_id, fields, defaults), timeout_s)


def read_reset_call(body: Any) -> None:
    """Check a ``POST /v1/reset`` body: an empty object."""
    _only(_object(body, "the body"), (), "the body")


# --- answers (built by the server, read by the client) ---------------------------------


def devices_answer(devices: list[DeviceInfo]) -> dict[str, Any]:
    """The answer to ``GET /v1/devices``."""
    return {"devices": [asdict(d) for d in devices]}


def read_devices_answer(answer: Any) -> list[DeviceInfo]:
    """The devices of a ``GET /v1/devices`` answer."""
    listed = _object(answer, "the answer").get("devices")
    if not isinstance(listed, list):
        raise WireError("devices", f"is {_kind(listed)}, not a list")
    found = []
    for index, raw in enumerate(listed):
        where = f"devices[{index}]"
        item = _object(raw, where)
        text = {
            key: _string(item.get(key), f"{where}.{key}") for key in ("device_id", "device_model", "device_type", "han")
        }
        found.append(DeviceInfo(text["device_id"], text["device_model"], text["device_type"], text["han"]))
    return found


def snapshot_answer(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The answer to ``GET /v1/snapshot``."""
    return {"snapshot": dict(snapshot)}


def read_snapshot_answer(answer: Any) -> dict[str, Any]:
    """The snapshot of a ``GET /v1/snapshot`` answer: each device's EUI-64 to an object of its state."""
    snapshot = _object(_object(answer, "the answer").get("snapshot"), "snapshot")
    for device_id, state in snapshot.items():
        _object(state, f"snapshot[{cut(repr(device_id), 60)}]")
    return snapshot


def execute_answer(reply: DeviceReply) -> dict[str, Any]:
    """The answer to ``POST /v1/execute``: the reply whole (evidence's :meth:`DeviceReply.as_dict` shortens it)."""
    return {"reply": {"accepted": reply.accepted, "values": dict(reply.values), "reason": reply.reason}}


def read_execute_answer(answer: Any) -> DeviceReply:
    """The device's reply in a ``POST /v1/execute`` answer (``values`` and ``reason`` may be left out)."""
    reply = _object(_object(answer, "the answer").get("reply"), "reply")
    accepted = _boolean(reply.get("accepted"), "reply.accepted")
    values = _object(reply.get("values", {}), "reply.values")
    reason = reply.get("reason", "")
    if not isinstance(reason, str):
        raise WireError("reply.reason", f"is {_kind(reason)}, not a string")
    return DeviceReply(accepted, values, reason)


def read_reset_answer(answer: Any) -> None:
    """Check a ``POST /v1/reset`` answer: an object."""
    _object(answer, "the answer")


def error_answer(kind: ErrorKind, message: str) -> dict[str, Any]:
    """The body of every answer that is not 200."""
    return {"error": {"kind": kind, "message": message}}


def read_error_answer(answer: Any) -> tuple[str, str] | None:
    """``(kind, message)`` of an error answer, cut to a readable length; None if it has not that shape."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if (
        not isinstance(error, dict)
        or not isinstance(error.get("kind"), str)
        or not isinstance(error.get("message"), str)
    ):
        return None
    return cut(error["kind"], 40), cut(error["message"])


# --- the OpenAPI document ------------------------------------------------------------


def _field_schema(name: str) -> dict[str, Any]:
    kind = FIELD_TYPES[name]
    schema: dict[str, Any] = {"type": kind.json_type, "description": kind.description}
    if kind.json_type == "integer":
        schema.update(format="int64", minimum=INT_RANGE[0], maximum=INT_RANGE[1])
    elif kind.json_type == "array":
        schema.update(maxItems=kind.max_length, items={"$ref": "#/components/schemas/LogEntry"})
    elif kind.eui64:
        schema["$ref"] = "#/components/schemas/EUI64"
        del schema["type"]
    elif kind.json_type == "string":
        schema["maxLength"] = kind.max_length
    return schema


def _command_schema(name: str) -> dict[str, Any]:
    fields = ALL_COMMANDS[name]
    described = (
        {"description": "the harness's, not an S1SP's: records data on the device before a test"}
        if name in HARNESS_COMMANDS
        else {}
    )
    return {
        **described,
        "type": "object",
        "required": ["name", "device_id", "fields"],
        "additionalProperties": False,
        "properties": {
            "name": {"const": name},
            "device_id": {"$ref": "#/components/schemas/EUI64"},
            "fields": {
                "type": "object",
                "required": list(fields),
                "additionalProperties": False,
                "properties": {field: _field_schema(field) for field in fields},
            },
            "defaults": {
                "type": "object",
                "description": "where each field the DUIS request did not carry came from (evidence only)",
                "additionalProperties": False,
                "properties": {field: {"type": "string", "maxLength": MAX_TEXT} for field in fields},
            },
        },
    }


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {
        400: "a malformed call: the message names the member and the problem",
        401: "a token is required (Authorization: Bearer TOKEN) and was missing or wrong",
        403: "a call from a browser page or another host name (Origin, Sec-Fetch-Site or Host)",
        404: "no such path",
        408: "the call did not arrive in time",
        413: "the body is over the size limit",
        415: "the body is not declared as application/json",
        500: "the adapter failed (a bug): the message says how",
        502: "the device, the adapter or the link reported a fault",
        503: "the endpoint is at its connection limit, or stopping",
        504: "the device did not answer within timeout_s (or the devices were busy that long)",
    }
    return {str(s): {"description": meaning[s], "content": _json("Error")} for s in statuses}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of wire protocol v1, built from the same tables that check the calls."""
    common = (401, 403, 500, 502, 503, 504)
    with_body = (400, 401, 403, 408, 413, 415, 500, 502, 503, 504)
    command_names = sorted(ALL_COMMANDS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "s1sr device endpoint",
            "version": str(VERSION),
            "description": (
                "Wire protocol v1 between the s1sr remote adapter and a device endpoint (a lab rig, or "
                "`s1sr serve-device`). Calls carry only the members described here; answers may carry more, "
                "which clients ignore. Bodies are UTF-8 JSON without NaN or Infinity; a call body is at most "
                f"{MAX_CALL_BYTES} bytes, an answer body at most {MAX_ANSWER_BYTES} bytes. Every answer that "
                "is not 200 carries an Error body. When the endpoint is given a token, every call but "
                "GET /openapi.json sends it as `Authorization: Bearer TOKEN`."
            ),
        },
        "security": [{}, {"token": []}],
        "paths": {
            PATHS["devices"]: {
                "get": {
                    "operationId": "devices",
                    "summary": "The devices of the estate",
                    "responses": {"200": {"description": "the estate", "content": _json("DevicesAnswer")}}
                    | _errors(*common),
                }
            },
            PATHS["reset"]: {
                "post": {
                    "operationId": "reset",
                    "summary": "Return every device to its starting state",
                    "requestBody": {"required": False, "content": _json("ResetCall")},
                    "responses": {"200": {"description": "done", "content": _json("ResetAnswer")}}
                    | _errors(*with_body),
                }
            },
            PATHS["execute"]: {
                "post": {
                    "operationId": "execute",
                    "summary": "Send one command to one device and return its reply",
                    "requestBody": {"required": True, "content": _json("ExecuteCall")},
                    "responses": {"200": {"description": "the device's reply", "content": _json("ExecuteAnswer")}}
                    | _errors(*with_body),
                }
            },
            PATHS["snapshot"]: {
                "get": {
                    "operationId": "snapshot",
                    "summary": "The state of every device, by EUI-64 (meters include payment_mode)",
                    "responses": {"200": {"description": "the state", "content": _json("SnapshotAnswer")}}
                    | _errors(*common),
                }
            },
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "EUI64": {"type": "string", "pattern": EUI64.pattern, "examples": ["00-DB-12-34-56-78-90-A0"]},
                "LogEntry": {
                    "type": "object",
                    "required": ["start", "value"],
                    "additionalProperties": False,
                    "properties": {
                        "start": {
                            "type": "string",
                            "maxLength": MAX_TIME_TEXT,
                            "description": "start of the period the entry covers, UTC: YYYY-MM-DDThh:mm:ssZ",
                        },
                        "value": {
                            "type": "integer",
                            "format": "int64",
                            "minimum": INT_RANGE[0],
                            "maximum": INT_RANGE[1],
                        },
                    },
                },
                "DeviceInfo": {
                    "type": "object",
                    "required": ["device_id", "device_model", "device_type", "han"],
                    "properties": {
                        "device_id": {"type": "string", "maxLength": MAX_TEXT, "description": "EUI-64"},
                        "device_model": {"type": "string", "maxLength": MAX_TEXT, "description": "catalogue id"},
                        "device_type": {"type": "string", "maxLength": MAX_TEXT, "description": "ESME, GSME, CHF"},
                        "han": {"type": "string", "maxLength": MAX_TEXT, "description": "the HAN it is on"},
                    },
                },
                "DevicesAnswer": {
                    "type": "object",
                    "required": ["devices"],
                    "properties": {"devices": {"type": "array", "items": {"$ref": "#/components/schemas/DeviceInfo"}}},
                },
                "ResetCall": {"type": "object", "additionalProperties": False, "properties": {}},
                "ResetAnswer": {"type": "object"},
                "ExecuteCall": {
                    "type": "object",
                    "required": ["command"],
                    "additionalProperties": False,
                    "properties": {
                        "command": {"oneOf": [{"$ref": f"#/components/schemas/{n}Command"} for n in command_names]},
                        "timeout_s": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "maximum": MAX_TIMEOUT_S,
                            "default": DEFAULT_TIMEOUT_S,
                            "description": "seconds the device has to answer; 504 when it does not",
                        },
                    },
                },
                **{f"{name}Command": _command_schema(name) for name in command_names},
                "Reply": {
                    "type": "object",
                    "required": ["accepted"],
                    "properties": {
                        "accepted": {"type": "boolean"},
                        "values": {"type": "object", "description": "values read, in device units"},
                        "reason": {"type": "string", "description": "why the device refused"},
                    },
                },
                "ExecuteAnswer": {
                    "type": "object",
                    "required": ["reply"],
                    "properties": {"reply": {"$ref": "#/components/schemas/Reply"}},
                },
                "SnapshotAnswer": {
                    "type": "object",
                    "required": ["snapshot"],
                    "properties": {
                        "snapshot": {
                            "type": "object",
                            "description": "each device's state, by its EUI-64",
                            "additionalProperties": {"type": "object"},
                        }
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["kind", "message"],
                            "properties": {
                                "kind": {"enum": ["bad-request", "unauthorized", "forbidden", "timeout", "fault"]},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
        },
    }


def openapi_json() -> str:
    """:func:`openapi_document` as the text published in the docs."""
    return json.dumps(openapi_document(), indent=2) + "\n"


if __name__ == "__main__":
    print(openapi_json(), end="")
