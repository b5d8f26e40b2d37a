"""``s1sr translate`` picks the DMC from the request's target device, says why, and refuses future-dated requests.

Issue 13: gas requests ran on secure-esme (only SRV 2.1 was recognised as gas), and the
future-dated ECS02_1.6 (ExecutionDateTime 2030-01-15) ran at once and answered success.
"""

from pathlib import Path

import pytest

from s1sr.dmc_choice import choose_dmc
from s1sr.duis.namespaces import NSMAP
from s1sr.duis.request import SRV_BODIES, RequestId, ServiceRequest, UpdatePrepayConfiguration, parse_request
from s1sr.duis.safe_xml import parse_xml, read_document
from s1sr.duis.schema import DuisSchema
from s1sr.errors import InputError
from s1sr.translate import translate_file
from tests.conftest import RTDS, s1sr

USER = "90-B3-D5-1F-30-01-00-00"


@pytest.fixture
def xsd(duis_schema: DuisSchema) -> str:
    """The official DUIS schema's path: every request and response of these tests is checked against it."""
    return str(duis_schema.path)


@pytest.mark.parametrize(
    ("name", "dmc", "reason"),
    [
        (
            "GCS03_1.6_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
            "secure-gsme",
            "00-DB-12-34-56-78-90-A1 is the GSME of the RTDS test estate: gas",
        ),
        (
            "GCS60_4.18_SUCCESS_REQUEST_DUIS.XML",
            "secure-gsme",
            "00-DB-12-34-56-78-90-A1 is the GSME of the RTDS test estate: gas",
        ),
        (
            "GCS14_4.3_SUCCESS_RELIABLE_GPF_REQUEST_DUIS.XML",
            "secure-gsme",
            "00-DB-12-34-56-78-90-A3 is the GPF of the RTDS test estate: gas",
        ),
        (
            "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML",
            "secure-esme",
            "00-DB-12-34-56-78-90-A0 is the ESME of the RTDS test estate: electricity",
        ),
        (  # 8.11 is addressed to the hub: the device to be joined decides
            "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML",
            "secure-esme",
            "00-DB-12-34-56-78-90-A0 is the ESME of the RTDS test estate: electricity",
        ),
        (  # 11.1 is addressed to the DCC: the listed device decides
            "11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML",
            "secure-esme",
            "00-DB-12-34-56-78-90-A0 is the ESME of the RTDS test estate: electricity",
        ),
    ],
)
def test_the_target_device_decides_the_dmc(name: str, dmc: str, reason: str, xsd: str) -> None:
    result = translate_file(RTDS / name, None, "4.3", xsd)
    assert (result.dmc, result.dmc_reason) == (dmc, reason)


def test_every_on_demand_gcs_template_runs_on_a_gas_dmc(xsd: str) -> None:
    names = [
        "GCS02_1.6_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
        "GCS03_1.6_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
        "GCS05_2.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
        "GCS06_2.5_SUCCESS_REQUEST_DUIS.XML",
        "GCS13a_4.1.1_SUCCESS_RELIABLE_GPF_REQUEST_DUIS.XML",
        "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_REQUEST_DUIS.XML",
        "GCS13a_4.1.1_SUCCESS_UNRELIABLE_REQUEST_DUIS.XML",
        "GCS14_4.3_SUCCESS_RELIABLE_GPF_REQUEST_DUIS.XML",
        "GCS14_4.3_SUCCESS_RELIABLE_GSME_REQUEST_DUIS.XML",
        "GCS14_4.3_SUCCESS_UNRELIABLE_REQUEST_DUIS.XML",
        "GCS17_4.8.1_SUCCESS_REQUEST_DUIS.XML",
        "GCS18_4.10_SUCCESS_REQUEST_DUIS.XML",
        "GCS21b_4.13_SUCCESS_REQUEST_DUIS.XML",
        "GCS40a_1.5_SUCCESS_REQUEST_DUIS.XML",
        "GCS40b_1.5_SUCCESS_REQUEST_DUIS.XML",
        "GCS40c_1.5_SUCCESS_REQUEST_DUIS.XML",
        "GCS40d_1.5_SUCCESS_REQUEST_DUIS.XML",
        "GCS60_4.18_SUCCESS_REQUEST_DUIS.XML",
        "GCS60a_4.18_SUCCESS_RELIABLE_GPF_REQUEST_DUIS.XML",
        "GCS60a_4.18_SUCCESS_RELIABLE_GSME_REQUEST_DUIS.XML",
        "GCS60a_4.18_SUCCESS_UNRELIABLE_GSME_REQUEST_DUIS.XML",
        "GCS61_4.17_SUCCESS_REQUEST_DUIS.XML",
    ]
    assert sorted(p.name for p in RTDS.glob("GCS*.XML") if _on_demand_in_scope(p)) == names
    assert {translate_file(RTDS / name, None, "4.3", xsd).dmc for name in names} == {"secure-gsme"}


def _on_demand_in_scope(path: Path) -> bool:
    from s1sr.duis.request import parse_request
    from s1sr.errors import UnsupportedRequest

    try:
        request = parse_request(parse_xml(read_document(path)), str(path))
    except UnsupportedRequest:
        return False
    return getattr(request.body, "execution_datetime", None) is None


def test_dmc_named_by_the_user_wins(xsd: str) -> None:
    result = translate_file(RTDS / "GCS60_4.18_SUCCESS_REQUEST_DUIS.XML", "secure-esme", "4.3", xsd)
    assert (result.dmc, result.dmc_reason) == ("secure-esme", "named by --dmc")


def _prepay_configuration(target: str, fuel: str) -> ServiceRequest:
    body = UpdatePrepayConfiguration(fuel, 0, 0, 0, 0, 0, 0)  # type: ignore[arg-type]
    return ServiceRequest(RequestId(USER, target, 1), "2.1", body)


def test_a_device_outside_the_rtds_estate_is_electricity_unless_the_body_says_gas() -> None:
    unknown = "00-DB-12-34-56-78-90-C0"
    assert choose_dmc(_prepay_configuration(unknown, "electricity")).reason == (
        "00-DB-12-34-56-78-90-C0 is not a device of the RTDS test estate: electricity assumed"
        " (--dmc secure-gsme for a gas meter)"
    )
    assert choose_dmc(_prepay_configuration(unknown, "electricity")).dmc == "secure-esme"
    gas = choose_dmc(_prepay_configuration(unknown, "gas"))
    assert (gas.dmc, gas.reason) == (
        "secure-gsme",
        "the request carries a gas prepayment configuration (UpdatePrepayConfigGas)",
    )
    # The hub (A2) is a device of the estate but not a meter.
    hub = choose_dmc(_prepay_configuration("00-DB-12-34-56-78-90-A2", "electricity"))
    assert hub.reason.startswith("00-DB-12-34-56-78-90-A2 is not a meter of the RTDS test estate")


def test_the_console_says_which_dmc_and_why() -> None:
    done = s1sr("translate", str(RTDS / "GCS03_1.6_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "SRV 1.6  90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A1:1004  on secure-gsme"
        " (00-DB-12-34-56-78-90-A1 is the GSME of the RTDS test estate: gas)"
    )


def test_requests_of_both_fuels_need_one_dmc_named(tmp_path: Path) -> None:
    gas = str(RTDS / "GCS60_4.18_SUCCESS_REQUEST_DUIS.XML")
    electricity = str(RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
    done = s1sr("translate", electricity, gas)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "s1sr: error: translate: ECS82_4.18_SUCCESS_REQUEST_DUIS.XML runs on secure-esme (00-DB-12-34-56-78-90-A0"
        " is the ESME of the RTDS test estate: electricity) but GCS60_4.18_SUCCESS_REQUEST_DUIS.XML on secure-gsme"
        " (00-DB-12-34-56-78-90-A1 is the GSME of the RTDS test estate: gas); one estate is one DMC;"
        " translate them separately, or name one DMC with --dmc\n"
    )
    named = s1sr("translate", electricity, gas, "--dmc", "secure-gsme")
    assert named.returncode == 0, named.stderr


# --- future-dated requests ---------------------------------------------------------------


def test_a_future_dated_request_is_refused_in_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "response.xml"
    name = "ECS02_1.6_FUTURE_DATED_TWIN_SUCCESS_REQUEST_DUIS.XML"
    done = s1sr("translate", str(RTDS / name), "--out", str(out))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"s1sr: error: {RTDS / name}: ExecutionDateTime 2030-01-15T09:00:00Z makes this a future-dated SRV 1.6"
        " request; translate executes requests on demand and does not hold or schedule them;"
        " remove sr:ExecutionDateTime to execute it now\n"
    )
    assert not out.exists()


def test_a_cancellation_without_a_zone_says_it_cancels(tmp_path: Path, xsd: str) -> None:
    template = (RTDS / "ECS28a_6.4.1_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML").read_text()
    path = tmp_path / "cancel.xml"
    path.write_text(template.replace("2030-01-15T09:00:00.00Z", "3000-12-31T00:00:00"))
    with pytest.raises(InputError) as caught:
        translate_file(path, None, "4.3", xsd)
    assert caught.value.what.startswith("ExecutionDateTime 3000-12-31T00:00:00 cancels a future-dated SRV 6.4.1")


def test_a_cancellation_says_it_cancels(xsd: str) -> None:
    path = RTDS / "CS06_11.3_CANCELLATION_SUCCESS_REQUEST_DUIS.XML"
    with pytest.raises(InputError) as caught:
        translate_file(path, None, "4.3", xsd)
    assert caught.value.what == (
        "ExecutionDateTime 3000-12-31T00:00:00Z cancels a future-dated SRV 11.3 command;"
        " translate executes requests on demand and does not hold or schedule them"
    )


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [
        ("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),  # a date in the past is still a dated request
        ("3000-12-31T00:00:01Z", "3000-12-31T00:00:01Z"),  # one second past the cancellation date: dated
        ("3000-12-31T00:00:00+01:00", "3000-12-31T00:00:00+01:00"),  # the cancellation date in another zone: dated
    ],
)
def test_any_execution_date_is_refused(tmp_path: Path, stamp: str, shown: str, xsd: str) -> None:
    template = (RTDS / "ECS28a_6.4.1_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML").read_text()
    path = tmp_path / "dated.xml"
    path.write_text(template.replace("2030-01-15T09:00:00.00Z", stamp))
    assert stamp in path.read_text()
    with pytest.raises(InputError) as caught:
        translate_file(path, None, "4.3", xsd)
    assert caught.value.what.startswith(f"ExecutionDateTime {shown} makes this a future-dated SRV 6.4.1 request;")


def test_a_future_dated_request_among_several_stops_all_before_any_is_sent() -> None:
    done = s1sr(
        "translate",
        str(RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"),
        str(RTDS / "GCS03_1.6_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML"),
        "--dmc",
        "secure-gsme",
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "GCS03_1.6_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML: ExecutionDateTime 2030-01-15T00:00:00Z" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_every_gcs_template_of_a_handled_srv_is_about_gas_dated_or_not() -> None:
    # The choice is made from the target device alone, so the future-dated templates (which translate then
    # refuses, having no clock) are gas too: every GCS template of an SRV the reference S1SP handles.
    chosen: dict[str, str] = {}
    for path in sorted(RTDS.glob("GCS*.XML")):
        root = parse_xml(read_document(path), str(path))
        if root.findtext("sr:Header/sr:ServiceReferenceVariant", None, NSMAP) not in SRV_BODIES:
            continue
        chosen[path.name] = choose_dmc(parse_request(root, str(path))).dmc
    assert len(chosen) == 28
    assert sum("FUTURE" in name or "CANCEL" in name for name in chosen) == 6
    assert set(chosen.values()) == {"secure-gsme"}
