"""Typed DUIS Service Requests for the Service Reference Variants the Secure clauses touch.

``parse_request`` turns a DUIS ``sr:Request`` document into a :class:`ServiceRequest`;
``build_request`` does the reverse from typed values (no string templates), so
steps and tools write requests the same way the S1SP reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Literal

from lxml import etree
from lxml.builder import ElementMaker

from s1sr.duis.namespaces import NSMAP, SCHEMA_VERSION, SR, sr
from s1sr.duis.safe_xml import shorten
from s1sr.errors import InputError, UnsupportedRequest

EUI64 = re.compile(r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}")
MAX_COUNTER = 2**64 - 1
_COUNTER = re.compile(r"[0-9]{1,20}")
#: The whitespace XML Schema collapses (``xs:token``, numbers, booleans, dates), and no other:
#: a no-break space around a number makes it invalid to the schema, so to the harness too.
XML_SPACE = " \t\r\n"

Fuel = Literal["electricity", "gas"]


def normalise_eui(text: str, where: str = "EUI-64", *, strip: bool = True) -> str:
    """Check an EUI-64 in DUIS form (``00-DB-12-34-56-78-90-A0``) and return it upper-cased.

    ``strip`` drops XML whitespace around it, as the schema's ``xs:token`` does.
    """
    value = text.strip(XML_SPACE) if strip else text
    if not EUI64.fullmatch(value):
        raise InputError(f"'{shorten(value)}' is not an EUI-64 (eight hex pairs joined by '-')", where)
    return value.upper()


@dataclass(frozen=True)
class RequestId:
    """A DUIS RequestID: business originator, business target and originator counter."""

    originator: str
    target: str
    counter: int

    @classmethod
    def parse(cls, text: str, where: str = "sr:Header/sr:RequestID") -> RequestId:
        """Split ``originator:target:counter``, checking each part (an ``xs:token``: outer whitespace goes)."""
        value = text.strip(XML_SPACE)
        parts = value.split(":")
        if len(parts) != 3:
            raise InputError(f"RequestID '{shorten(value)}' does not have the form originator:target:counter", where)
        originator = normalise_eui(parts[0], f"{where}: RequestID business originator")
        target = normalise_eui(parts[1], f"{where}: RequestID business target")
        if not _COUNTER.fullmatch(parts[2]) or int(parts[2]) > MAX_COUNTER:
            counter = shorten(parts[2])
            raise InputError(f"RequestID counter '{counter}' is not an integer from 0 to {MAX_COUNTER}", where)
        return cls(originator, target, int(parts[2]))

    def __str__(self) -> str:
        return f"{self.originator}:{self.target}:{self.counter}"


# --- xs:dateTime, as the schema reads it ------------------------------------------------

# The lexical form of xs:dateTime (XML Schema 1.0): a year of four or more digits (more than four
# without a leading zero, never 0000), an optional minus, any number of fraction digits, 24:00:00
# for the end of a day, and an optional zone of at most 14 hours.
_XS_DATETIME = re.compile(
    r"(?P<year>-?(?:[1-9][0-9]{4,}|[0-9]{4}))-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?"
)
#: Digits of a year the reference S1SP reads: far beyond any device's clock, and bounded.
MAX_YEAR_DIGITS = 20
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date, any year (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01: the inverse of the above."""
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + (3 if shifted_month < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


@dataclass(frozen=True)
class XsDateTime:
    """An ``xs:dateTime`` read exactly as the DUIS schema reads it, as an instant on UTC's time line.

    ``utc_seconds`` are whole seconds since 1970-01-01T00:00:00Z (the floor of the instant),
    ``fraction`` the digits of the fraction of a second with trailing zeros dropped (any number:
    nothing is rounded), ``offset_minutes`` the zone as written (None when none is: DUIS times are
    UTC, so this project reads a date-time without a zone as UTC; interpretation). Two date-times
    are compared by :meth:`key`, the instant; ``==`` also compares the zone they were written in.
    """

    utc_seconds: int
    fraction: str = ""
    offset_minutes: int | None = 0

    @classmethod
    def parse(cls, text: str, what: str = "xs:dateTime", where: str = "") -> XsDateTime:
        """Read ``text`` (XML whitespace around it dropped: the schema collapses it); InputError if not a date-time."""
        value = text.strip(XML_SPACE)
        match = _XS_DATETIME.fullmatch(value)
        problem = "is not a date-time (YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm])"
        if match is not None:
            found = cls._from_match(match)
            if isinstance(found, XsDateTime):
                return found
            problem = found
        raise InputError(f"{what} '{shorten(value)}' {problem}", where)

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> XsDateTime | str:
        """The instant of a lexically well-formed date-time, or why its values are not one."""
        digits = match["year"].lstrip("-")
        if len(digits) > MAX_YEAR_DIGITS:
            return f"has a year of {len(digits)} digits, more than the {MAX_YEAR_DIGITS} read"
        year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
        hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
        fraction = (match["fraction"] or "").rstrip("0")
        if year == 0:
            return "has the year 0000, which XML Schema does not have"
        if not 1 <= month <= 12:
            return f"has no month {month:02d}"
        last_day = 29 if month == 2 and _leap(year) else _DAYS_IN_MONTH[month - 1]
        if not 1 <= day <= last_day:
            return f"has no day {day:02d} in month {month:02d} of year {match['year']}"
        if hour == 24 and (minute, second, fraction) != (0, 0, ""):
            return "has hour 24 with minutes, seconds or a fraction: only 24:00:00 (the end of a day) is a time"
        if hour > 24 or minute > 59 or second > 59:
            return f"has no time {match['hour']}:{match['minute']}:{match['second']}"
        offset: int | None = None
        zone = match["zone"]
        if zone is not None:
            offset = 0
            if zone != "Z":
                zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
                if zone_minutes > 59 or zone_hours > 14 or (zone_hours == 14 and zone_minutes):
                    return f"has the zone {zone}, beyond the -14:00..+14:00 of XML Schema"
                offset = (zone_hours * 60 + zone_minutes) * (-1 if zone[0] == "-" else 1)
        local = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
        return cls(local - (offset or 0) * 60, fraction, offset)

    def key(self) -> tuple[int, str]:
        """The instant, for ordering: fraction digits without trailing zeros compare as their numbers do."""
        return self.utc_seconds, self.fraction

    def ceiling_seconds(self) -> int:
        """The first whole second (since 1970, UTC) at or after the instant."""
        return self.utc_seconds + (1 if self.fraction else 0)

    def text(self) -> str:
        """The lexical form, in the zone it was written in (24:00:00 as the next day's 00:00:00)."""
        offset = self.offset_minutes or 0
        days, seconds = divmod(self.utc_seconds + offset * 60, 86400)
        year, month, day = _civil_from_days(days)
        year_text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
        clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        fraction = f".{self.fraction}" if self.fraction else ""
        if self.offset_minutes is None:
            zone = ""
        elif self.offset_minutes == 0:
            zone = "Z"
        else:
            sign = "-" if self.offset_minutes < 0 else "+"
            zone = f"{sign}{abs(self.offset_minutes) // 60:02d}:{abs(self.offset_minutes) % 60:02d}"
        return f"{year_text}-{month:02d}-{day:02d}T{clock}{fraction}{zone}"

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class ReadLogPeriod:
    """A DUIS ``ReadLogPeriod``: the log entries a read asks for, from ``start`` to ``end``.

    Which entries fall in it is the S1SP's and the device's reading (:mod:`s1sr.s1sp.reads`):
    the request only carries the two instants. An end before the start is refused when a request
    is read (:func:`parse_request`); building one is allowed, so a test can send it.
    """

    start: XsDateTime
    end: XsDateTime

    @classmethod
    def of(cls, start: str, end: str) -> ReadLogPeriod:
        """A period from two date-times as DUIS writes them (``2026-11-01T00:00:00Z``)."""
        return cls(XsDateTime.parse(start, "StartDateTime"), XsDateTime.parse(end, "EndDateTime"))


# --- Bodies, one per request element -------------------------------------------------


@dataclass(frozen=True)
class UpdateMeterBalance:
    """SRV 1.5: adjust (``adjust`` in DUIS money units) or reset (``adjust`` is None) the meter balance."""

    mode: Literal["PrepaymentMode", "CreditMode"]
    adjust: int | None

    element = "UpdateMeterBalance"


@dataclass(frozen=True)
class UpdatePaymentMode:
    """SRV 1.6: change to credit, or to prepayment with its three parameters."""

    to: Literal["Credit", "Prepayment"]
    suspend_debt_disabled: bool = False
    suspend_debt_emergency: bool = False
    disablement_threshold: int = 0
    execution_datetime: datetime | None = None

    element = "UpdatePaymentMode"


@dataclass(frozen=True)
class UpdatePrepayConfiguration:
    """SRV 2.1: prepayment thresholds, money values in DUIS units.

    The non-disablement calendar is carried through as an opaque subtree: no S1SR
    clause in scope reads it, but a request without one is not DUIS.
    """

    fuel: Fuel
    debt_recovery_rate_cap: int
    emergency_credit_limit: int
    emergency_credit_threshold: int
    low_credit_threshold: int
    max_meter_balance: int
    max_credit_threshold: int
    calendar: etree._Element | None = field(default=None, compare=False, repr=False)
    execution_datetime: datetime | None = None

    element = "UpdatePrepayConfiguration"


@dataclass(frozen=True)
class ActivateEmergencyCredit:
    """SRV 2.5: activate emergency credit."""

    element = "ActivateEmergencyCredit"


@dataclass(frozen=True)
class ReadInstantaneousPrepayValues:
    """SRV 4.3: read emergency credit balance, debt registers and meter balance."""

    element = "ReadInstantaneousPrepayValues"


@dataclass(frozen=True)
class ReadPrepaymentConfiguration:
    """SRV 4.13: read the stored prepayment configuration."""

    element = "ReadPrepaymentConfiguration"


@dataclass(frozen=True)
class ReadMeterBalance:
    """SRV 4.18: read the meter balance."""

    element = "ReadMeterBalance"


@dataclass(frozen=True)
class ReadInstantaneousImportRegisters:
    """SRV 4.1.1: read the import register (an ESME's active import, a GSME's consumption)."""

    execution_datetime: datetime | None = None

    element = "ReadInstantaneousImportRegisters"


@dataclass(frozen=True)
class ReadInstantaneousExportRegisters:
    """SRV 4.2: read an ESME's export register."""

    execution_datetime: datetime | None = None

    element = "ReadInstantaneousExportRegisters"


@dataclass(frozen=True)
class ReadActiveImportProfileData:
    """SRV 4.8.1: the half-hour import values in ``period``.

    ``ka_credentials`` is the optional KAPublicSecurityCredentials (base64), kept as read.
    """

    period: ReadLogPeriod
    execution_datetime: datetime | None = None
    ka_credentials: str | None = None

    element = "ReadActiveImportProfileData"


@dataclass(frozen=True)
class ReadExportProfileData:
    """SRV 4.8.3: an ESME's half-hour export values in ``period``."""

    period: ReadLogPeriod
    execution_datetime: datetime | None = None

    element = "ReadExportProfileData"


@dataclass(frozen=True)
class ReadNetworkData:
    """SRV 4.10: the network data logged in ``period`` (an ESME's RMS voltages, a GSME's network data log)."""

    period: ReadLogPeriod
    execution_datetime: datetime | None = None
    ka_credentials: str | None = None

    element = "ReadNetworkData"


@dataclass(frozen=True)
class RetrieveDailyConsumptionLog:
    """SRV 4.17: the daily consumption values in ``period``."""

    period: ReadLogPeriod
    execution_datetime: datetime | None = None
    ka_credentials: str | None = None

    element = "RetrieveDailyConsumptionLog"


#: The bodies of the reads that carry a ReadLogPeriod.
LogRead = ReadActiveImportProfileData | ReadExportProfileData | ReadNetworkData | RetrieveDailyConsumptionLog


@dataclass(frozen=True)
class UpdateLoadLimitSettings:
    """SRV 6.4.1: load limiting general settings (threshold in watts, periods in seconds)."""

    period: int
    power_threshold: int
    restoration_period: int
    supply_state: Literal["Disable", "Unchanged"]
    execution_datetime: datetime | None = None

    element = "UpdateDeviceConfigurationLoadLimitingGeneralSettings"


@dataclass(frozen=True)
class UpdateHANDeviceLog:
    """SRV 8.11: add a device to (with a join window in seconds) or remove it from the CH whitelist."""

    device_id: str
    request_type: Literal["Add", "Remove"]
    join_time_period: int | None = None
    install_code: str | None = None
    import_mpxn: str | None = None
    secondary_import_mpan: str | None = None
    export_mpan: str | None = None
    execution_datetime: datetime | None = None

    element = "UpdateHANDeviceLog"


@dataclass(frozen=True)
class UpdateFirmware:
    """SRV 11.1: distribute a firmware image to the listed devices."""

    firmware_image: str
    firmware_version: str
    device_ids: tuple[str, ...]

    element = "UpdateFirmware"


@dataclass(frozen=True)
class ActivateFirmware:
    """SRV 11.3: activate the firmware image with this hash (64 hex digits)."""

    firmware_hash: str
    execution_datetime: datetime | None = None

    element = "ActivateFirmware"


RequestBody = (
    UpdateMeterBalance
    | UpdatePaymentMode
    | UpdatePrepayConfiguration
    | ActivateEmergencyCredit
    | ReadInstantaneousPrepayValues
    | ReadPrepaymentConfiguration
    | ReadMeterBalance
    | ReadInstantaneousImportRegisters
    | ReadInstantaneousExportRegisters
    | ReadActiveImportProfileData
    | ReadExportProfileData
    | ReadNetworkData
    | RetrieveDailyConsumptionLog
    | UpdateLoadLimitSettings
    | UpdateHANDeviceLog
    | UpdateFirmware
    | ActivateFirmware
)

#: Service Reference Variant -> (Service Reference, body type).
SRV_BODIES: dict[str, tuple[str, type[RequestBody]]] = {
    "1.5": ("1.5", UpdateMeterBalance),
    "1.6": ("1.6", UpdatePaymentMode),
    "2.1": ("2.1", UpdatePrepayConfiguration),
    "2.5": ("2.5", ActivateEmergencyCredit),
    "4.1.1": ("4.1", ReadInstantaneousImportRegisters),
    "4.2": ("4.2", ReadInstantaneousExportRegisters),
    "4.3": ("4.3", ReadInstantaneousPrepayValues),
    "4.8.1": ("4.8", ReadActiveImportProfileData),
    "4.8.3": ("4.8", ReadExportProfileData),
    "4.10": ("4.10", ReadNetworkData),
    "4.13": ("4.13", ReadPrepaymentConfiguration),
    "4.17": ("4.17", RetrieveDailyConsumptionLog),
    "4.18": ("4.18", ReadMeterBalance),
    "6.4.1": ("6.4", UpdateLoadLimitSettings),
    "8.11": ("8.11", UpdateHANDeviceLog),
    "11.1": ("11.1", UpdateFirmware),
    "11.3": ("11.3", ActivateFirmware),
}


#: Critical Service Reference Variants among those the reference S1SP handles (DCC's ``duis-parser``,
#: ``src/duis-request-matrix.json``): sent with Command Variant 4, on the Transform Service.
CRITICAL_SRVS = frozenset({"1.5", "1.6", "2.1", "2.5", "6.4.1", "11.3"})
#: Non-device Service Reference Variants among those the reference S1SP handles (the same matrix):
#: Command Variant 8, on the Non-Device Service.
NON_DEVICE_SRVS = frozenset({"11.1"})


def command_variant_for(srv: str) -> int:
    """The Command Variant DUIS expects for a Service Reference Variant the reference S1SP handles.

    8 for a non-device request, 4 for a critical one (the Transform Service), 1 otherwise
    (non-critical, to a device over the SM WAN).
    """
    if srv in NON_DEVICE_SRVS:
        return 8
    return 4 if srv in CRITICAL_SRVS else 1


@dataclass(frozen=True)
class ServiceRequest:
    """A DUIS Service Request: header fields and one typed body.

    ``command_variant`` 0 (the default) stands for the one DUIS expects for the SRV
    (:func:`command_variant_for`), so a DUIS endpoint routes the request to the web service
    DUIS names for it.
    """

    request_id: RequestId
    srv: str
    body: RequestBody
    command_variant: int = 0
    service_reference: str = ""

    def __post_init__(self) -> None:
        if not self.service_reference:
            object.__setattr__(self, "service_reference", SRV_BODIES[self.srv][0])
        if not self.command_variant:
            object.__setattr__(self, "command_variant", command_variant_for(self.srv))

    @property
    def target(self) -> str:
        """The business target: the device (or, for 11.1, the DCC) the request is addressed to."""
        return self.request_id.target


# --- Parsing -----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _clark(path: str) -> str:
    """``sr:Name`` in Clark notation, ``{namespace}Name``."""
    prefix, _, local = path.partition(":")
    return f"{{{NSMAP[prefix]}}}{local}"


def _child(parent: etree._Element, path: str) -> etree._Element | None:
    """The first child element ``path`` (one step, ``sr:Name``) of ``parent``, or None.

    What ``find`` gives, without its path engine (a several times dearer lookup, on every value read).
    """
    return next(parent.iterchildren(_clark(path)), None)


def _string_value(node: etree._Element, path: str, where: str) -> str:
    """All the text of a leaf, however comments or processing instructions split it, as the schema reads it.

    :func:`~s1sr.duis.safe_xml.parse_xml` already drops both; this reader does not rely on it.
    An element or an entity reference inside a value is refused: a DUIS value is text alone.
    """
    if not len(node):  # no element, comment, PI or entity inside: the text is the whole value
        return node.text or ""
    for child in node:
        if isinstance(child.tag, str):
            inner = shorten(etree.QName(child).localname)
            raise InputError(f"{path} holds an element ({inner}) where DUIS has a value", where)
        if child.tag is etree.Entity:
            raise InputError(f"{path} holds an entity reference; DUIS values are plain text", where)
    return "".join(text for text in node.itertext() if isinstance(text, str))


def _text(parent: etree._Element, path: str, where: str, *, preserve: bool = False) -> str:
    """The whole string value at ``path``, as the schema reads it.

    Types that collapse whitespace (numbers, booleans, dates, ``xs:token``) lose leading and
    trailing XML whitespace and no other; ``xs:string`` values (``preserve``) are read exactly
    as written.
    """
    node = _child(parent, path)
    if node is None:
        raise InputError(f"missing {path}", where, "the DUIS schema requires it")
    text = _string_value(node, path, where)
    value = text if preserve else text.strip(XML_SPACE)
    if not value:
        raise InputError(f"{path} is empty", where, "the DUIS schema requires a value")
    return value


def _opt_text(parent: etree._Element, path: str, where: str, *, preserve: bool = False) -> str | None:
    """Like :func:`_text` for an optional element: None when absent, refused when present but empty."""
    if _child(parent, path) is None:
        return None
    return _text(parent, path, where, preserve=preserve)


_INTEGER = re.compile(r"([+-]?)0*([0-9]+)")


def _int(parent: etree._Element, path: str, where: str, lo: int, hi: int) -> int:
    raw = _text(parent, path, where)
    match = _INTEGER.fullmatch(raw)
    if match is None:
        raise InputError(f"{path} '{shorten(raw)}' is not an integer", where)
    sign, digits = match.groups()
    if len(digits) > 20:  # beyond every DUIS range, and int() refuses over 4,300 digits
        raise InputError(f"{path} {sign}{shorten(digits)} is outside its DUIS range {lo}..{hi}", where)
    value = int(sign + digits)
    if not lo <= value <= hi:
        raise InputError(f"{path} {value} is outside its DUIS range {lo}..{hi}", where)
    return value


def _bool(parent: etree._Element, path: str, where: str) -> bool:
    raw = _text(parent, path, where)
    if raw not in ("true", "false", "1", "0"):
        raise InputError(f"{path} '{shorten(raw)}' is not a boolean", where)
    return raw in ("true", "1")


def _choice(parent: etree._Element, path: str, where: str, allowed: tuple[str, ...]) -> str:
    """An ``xs:string`` enumeration: exactly one of ``allowed``, whitespace included (the schema preserves it)."""
    raw = _text(parent, path, where, preserve=True)
    if raw not in allowed:
        raise InputError(f"{path.removeprefix('sr:')} '{shorten(raw)}' is not {' or '.join(allowed)}", where)
    return raw


# xs:dateTime as far as Python's datetime holds it: hours 00-23, years 0001-9999, microseconds.
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)


def _datetime(parent: etree._Element, where: str) -> datetime | None:
    raw = _opt_text(parent, "sr:ExecutionDateTime", where)
    if raw is None:
        return None
    if _DATETIME.fullmatch(raw):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:  # a month 13, a 30 February: the form is right, the date is not
            pass
    raise InputError(
        f"ExecutionDateTime '{shorten(raw)}' is not a date-time (YYYY-MM-DDThh:mm:ss[.ffffff][Z|+hh:mm])", where
    )


def _period(parent: etree._Element, where: str) -> ReadLogPeriod:
    """``sr:ReadLogPeriod``, its two xs:dateTime read as the schema reads them; an end before the start is refused."""
    node = _child(parent, "sr:ReadLogPeriod")
    if node is None:
        raise InputError("missing sr:ReadLogPeriod", where, "the DUIS schema requires it")
    start = XsDateTime.parse(_text(node, "sr:StartDateTime", where), "ReadLogPeriod/StartDateTime", where)
    end = XsDateTime.parse(_text(node, "sr:EndDateTime", where), "ReadLogPeriod/EndDateTime", where)
    if end.key() < start.key():
        raise InputError(
            f"ReadLogPeriod ends ({end}) before it starts ({start})",
            where,
            "give an EndDateTime at or after the StartDateTime",
        )
    return ReadLogPeriod(start, end)


#: The characters of xs:base64Binary, with the whitespace the schema collapses between groups.
_BASE64 = re.compile(r"[A-Za-z0-9+/= \t\r\n]*")


def _credentials(parent: etree._Element, where: str) -> str | None:
    """The optional ``sr:KAPublicSecurityCredentials`` (an xs:base64Binary certificate), as written."""
    value = _opt_text(parent, "sr:KAPublicSecurityCredentials", where)
    if value is not None and not _BASE64.fullmatch(value):
        raise InputError(f"KAPublicSecurityCredentials '{shorten(value)}' is not base64", where)
    return value


INT32 = (-(2**31), 2**31 - 1)
UINT32 = (0, 2**32 - 1)
UINT16 = (0, 2**16 - 1)


def _body(srv: str, element: etree._Element, where: str) -> RequestBody:
    if srv == "1.5":
        modes = [e for e in element if isinstance(e.tag, str) and e.tag in (sr("PrepaymentMode"), sr("CreditMode"))]
        if len(modes) != 1:
            raise InputError("UpdateMeterBalance needs one PrepaymentMode or CreditMode", where)
        mode_el = modes[0]
        mode = etree.QName(mode_el).localname
        if _child(mode_el, "sr:ResetMeterBalance") is not None:
            return UpdateMeterBalance(mode, None)  # type: ignore[arg-type]
        return UpdateMeterBalance(mode, _int(mode_el, "sr:AdjustMeterBalance", where, *INT32))  # type: ignore[arg-type]
    if srv == "1.6":
        when = _datetime(element, where)
        prepay = _child(element, "sr:Prepayment")
        if prepay is None:
            if _child(element, "sr:Credit") is None:
                raise InputError("UpdatePaymentMode needs Credit or Prepayment", where)
            return UpdatePaymentMode("Credit", execution_datetime=when)
        return UpdatePaymentMode(
            "Prepayment",
            _bool(prepay, "sr:SuspendDebtDisabled", where),
            _bool(prepay, "sr:SuspendDebtEmergency", where),
            _int(prepay, "sr:DisablementThreshold", where, *INT32),
            when,
        )
    if srv == "2.1":
        elec = _child(element, "sr:UpdatePrepayConfigElectricity")
        cfg = elec if elec is not None else _child(element, "sr:UpdatePrepayConfigGas")
        if cfg is None:
            raise InputError("UpdatePrepayConfiguration needs an electricity or gas configuration", where)
        money = INT32 if elec is not None else UINT32
        calendar_name = "ElectricityNonDisablementCalendar" if elec is not None else "GasNonDisablementCalendar"
        return UpdatePrepayConfiguration(
            fuel="electricity" if elec is not None else "gas",
            debt_recovery_rate_cap=_int(cfg, "sr:DebtRecoveryRateCap", where, *(UINT16 if elec is not None else INT32)),
            emergency_credit_limit=_int(cfg, "sr:EmergencyCreditLimit", where, *money),
            emergency_credit_threshold=_int(cfg, "sr:EmergencyCreditThreshold", where, *money),
            low_credit_threshold=_int(cfg, "sr:LowCreditThreshold", where, *money),
            max_meter_balance=_int(cfg, "sr:MaxMeterBalance", where, *money),
            max_credit_threshold=_int(cfg, "sr:MaxCreditThreshold", where, *money),
            calendar=_child(cfg, f"sr:{calendar_name}"),
            execution_datetime=_datetime(element, where),
        )
    if srv == "2.5":
        return ActivateEmergencyCredit()
    if srv == "4.3":
        return ReadInstantaneousPrepayValues()
    if srv == "4.1.1":
        return ReadInstantaneousImportRegisters(_datetime(element, where))
    if srv == "4.2":
        return ReadInstantaneousExportRegisters(_datetime(element, where))
    if srv == "4.8.1":
        return ReadActiveImportProfileData(
            _period(element, where), _datetime(element, where), _credentials(element, where)
        )
    if srv == "4.8.3":
        return ReadExportProfileData(_period(element, where), _datetime(element, where))
    if srv == "4.10":
        return ReadNetworkData(_period(element, where), _datetime(element, where), _credentials(element, where))
    if srv == "4.17":
        return RetrieveDailyConsumptionLog(
            _period(element, where), _datetime(element, where), _credentials(element, where)
        )
    if srv == "4.13":
        return ReadPrepaymentConfiguration()
    if srv == "4.18":
        return ReadMeterBalance()
    if srv == "6.4.1":
        state = _choice(element, "sr:LoadLimitSupplyState", where, ("Disable", "Unchanged"))
        return UpdateLoadLimitSettings(
            _int(element, "sr:LoadLimitPeriod", where, *UINT32),
            _int(element, "sr:LoadLimitPowerThreshold", where, *UINT32),
            _int(element, "sr:LoadLimitRestorationPeriod", where, *UINT32),
            state,  # type: ignore[arg-type]
            _datetime(element, where),
        )
    if srv == "8.11":
        request_type = _choice(element, "sr:RequestType", where, ("Add", "Remove"))
        device_id = normalise_eui(_text(element, "sr:DeviceID", where), f"{where}/DeviceID")
        add = _child(element, "sr:AddDeviceToCHFWhitelist")
        if request_type == "Add" and add is None:
            raise InputError("RequestType Add needs AddDeviceToCHFWhitelist", where)
        if add is None:
            return UpdateHANDeviceLog(device_id, "Remove", execution_datetime=_datetime(element, where))
        return UpdateHANDeviceLog(
            device_id,
            request_type,  # type: ignore[arg-type]
            join_time_period=_int(add, "sr:JoinTimePeriod", where, 1, 3600),
            install_code=_text(add, "sr:InstallCode", where),
            import_mpxn=_opt_text(add, "sr:ImportMPxN", where, preserve=True),
            secondary_import_mpan=_opt_text(add, "sr:SecondaryImportMPAN", where, preserve=True),
            export_mpan=_opt_text(add, "sr:ExportMPAN", where, preserve=True),
            execution_datetime=_datetime(element, where),
        )
    if srv == "11.1":
        image = _text(element, "sr:FirmwareImage", where)
        if len(image) > 10_240_000:
            raise InputError(
                f"FirmwareImage has {len(image):,} base64 characters, over the DUIS maximum of 10,240,000",
                where,
            )
        ids = _text(element, "sr:DeviceIDList", where, preserve=True)
        return UpdateFirmware(
            image,
            _text(element, "sr:FirmwareVersion", where, preserve=True),
            # xs:string with a pattern: no whitespace anywhere, so none is stripped from a part.
            tuple(normalise_eui(part, f"{where}/DeviceIDList", strip=False) for part in ids.split(",")),
        )
    if srv == "11.3":
        digest = _text(element, "sr:FirmwareHash", where)
        if not re.fullmatch(r"[0-9A-Fa-f]{64}", digest):
            raise InputError("FirmwareHash is not 32 bytes of hex", where)
        return ActivateFirmware(digest.upper(), _datetime(element, where))
    raise UnsupportedRequest(f"SRV {srv} is not handled", where)


def parse_request(root: etree._Element, where: str = "<request>") -> ServiceRequest:
    """Read a parsed ``sr:Request`` into a :class:`ServiceRequest`.

    Raises :class:`InputError` when the document is not a DUIS request, and
    :class:`UnsupportedRequest` for a Service Reference Variant outside scope.
    """
    if root.tag != sr("Request"):
        qname = etree.QName(root)
        raise InputError(
            f"root element is {{{qname.namespace or ''}}}{qname.localname}, not a DUIS sr:Request ({{{SR}}}Request)",
            where,
            "give a DUIS Service Request",
        )
    header = _child(root, "sr:Header")
    if header is None:
        raise InputError("missing sr:Header", where)
    in_header = f"{where}: sr:Header"
    request_id = RequestId.parse(_text(header, "sr:RequestID", in_header), f"{where}: sr:Header/sr:RequestID")
    # xs:string enumerations: read as written, so ' 1.5' is no more 1.5 here than to the schema.
    srv = _text(header, "sr:ServiceReferenceVariant", in_header, preserve=True)
    service_reference = _text(header, "sr:ServiceReference", in_header, preserve=True)
    variant = _int(header, "sr:CommandVariant", in_header, 1, 9)  # the DUIS range; '01' is 1
    if variant > 8:
        raise InputError(f"CommandVariant '{variant}' is not 1..8", in_header)
    if srv not in SRV_BODIES:
        raise UnsupportedRequest(
            f"not supported by the reference S1SP: SRV {shorten(srv)} (it handles {', '.join(SRV_BODIES)})",
            where,
        )
    body_parent = _child(root, "sr:Body")
    expected = SRV_BODIES[srv][1].element
    element = _child(body_parent, f"sr:{expected}") if body_parent is not None else None
    if element is None:
        raise InputError(f"SRV {srv} needs sr:Body/sr:{expected}", where)
    body = _body(srv, element, f"{where}: sr:Body/sr:{expected}")
    return ServiceRequest(request_id, srv, body, variant, service_reference)


# --- Building ---------------------------------------------------------------------------

E = ElementMaker(namespace=SR, nsmap={"sr": SR})


def _dt(value: datetime | None) -> list[etree._Element]:
    return [E.ExecutionDateTime(value.isoformat().replace("+00:00", "Z"))] if value else []


def _b(value: bool) -> str:
    return "true" if value else "false"


def _build_body(body: RequestBody) -> etree._Element:
    match body:
        case UpdateMeterBalance(mode, adjust):
            inner = E.ResetMeterBalance() if adjust is None else E.AdjustMeterBalance(str(adjust))
            return E.UpdateMeterBalance(E(mode, inner))
        case UpdatePaymentMode():
            if body.to == "Credit":
                return E.UpdatePaymentMode(*_dt(body.execution_datetime), E.Credit())
            return E.UpdatePaymentMode(
                *_dt(body.execution_datetime),
                E.Prepayment(
                    E.SuspendDebtDisabled(_b(body.suspend_debt_disabled)),
                    E.SuspendDebtEmergency(_b(body.suspend_debt_emergency)),
                    E.DisablementThreshold(str(body.disablement_threshold)),
                ),
            )
        case UpdatePrepayConfiguration():
            from s1sr.duis.calendars import default_calendar

            calendar = body.calendar if body.calendar is not None else default_calendar(body.fuel)
            wrapper = "UpdatePrepayConfigElectricity" if body.fuel == "electricity" else "UpdatePrepayConfigGas"
            return E.UpdatePrepayConfiguration(
                *_dt(body.execution_datetime),
                E(
                    wrapper,
                    E.DebtRecoveryRateCap(str(body.debt_recovery_rate_cap)),
                    E.EmergencyCreditLimit(str(body.emergency_credit_limit)),
                    E.EmergencyCreditThreshold(str(body.emergency_credit_threshold)),
                    E.LowCreditThreshold(str(body.low_credit_threshold)),
                    calendar,
                    E.MaxMeterBalance(str(body.max_meter_balance)),
                    E.MaxCreditThreshold(str(body.max_credit_threshold)),
                ),
            )
        case UpdateLoadLimitSettings():
            return E.UpdateDeviceConfigurationLoadLimitingGeneralSettings(
                *_dt(body.execution_datetime),
                E.LoadLimitPeriod(str(body.period)),
                E.LoadLimitPowerThreshold(str(body.power_threshold)),
                E.LoadLimitRestorationPeriod(str(body.restoration_period)),
                E.LoadLimitSupplyState(body.supply_state),
            )
        case UpdateHANDeviceLog():
            children = [E.DeviceID(body.device_id), E.RequestType(body.request_type)]
            if body.request_type == "Add":
                add = [E.JoinTimePeriod(str(body.join_time_period)), E.InstallCode(body.install_code or "")]
                for name, value in (
                    ("ImportMPxN", body.import_mpxn),
                    ("SecondaryImportMPAN", body.secondary_import_mpan),
                    ("ExportMPAN", body.export_mpan),
                ):
                    if value is not None:
                        add.append(E(name, value))
                children.append(E.AddDeviceToCHFWhitelist(*add))
            return E.UpdateHANDeviceLog(*_dt(body.execution_datetime), *children)
        case UpdateFirmware():
            return E.UpdateFirmware(
                E.FirmwareImage(body.firmware_image),
                E.FirmwareVersion(body.firmware_version),
                E.DeviceIDList(",".join(body.device_ids)),
            )
        case ActivateFirmware():
            return E.ActivateFirmware(*_dt(body.execution_datetime), E.FirmwareHash(body.firmware_hash))
        case ReadInstantaneousImportRegisters() | ReadInstantaneousExportRegisters():
            return E(body.element, *_dt(body.execution_datetime))
        case (
            ReadActiveImportProfileData() | ReadExportProfileData() | ReadNetworkData() | RetrieveDailyConsumptionLog()
        ):
            credentials = getattr(body, "ka_credentials", None)
            return E(
                body.element,
                *_dt(body.execution_datetime),
                E.ReadLogPeriod(E.StartDateTime(body.period.start.text()), E.EndDateTime(body.period.end.text())),
                *([E.KAPublicSecurityCredentials(credentials)] if credentials is not None else []),
            )
        case _:
            return E(body.element)


def build_request(request: ServiceRequest) -> bytes:
    """Serialise a :class:`ServiceRequest` as a DUIS ``sr:Request`` document (UTF-8 bytes)."""
    root = E.Request(
        E.Header(
            E.RequestID(str(request.request_id)),
            E.CommandVariant(str(request.command_variant)),
            E.ServiceReference(request.service_reference),
            E.ServiceReferenceVariant(request.srv),
        ),
        E.Body(_build_body(request.body)),
        schemaVersion=SCHEMA_VERSION,
    )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
