"""``s1sr translate`` on one estate: several requests in order, a starting state, exit codes, full device IDs.

Issue 13: one file at a time (11.1 then 11.3 could not be tried in sequence); the success
templates CS06_11.3_IMMEDIATE and ECS09_2.5 answered "FAILURE" with exit 0 and no way to give
the estate the state they presume; at 80 columns device IDs were cut, so A0 and B0 looked alike.
"""

import json
import os
from pathlib import Path

import pytest

from s1sr.duis.request import parse_request
from s1sr.duis.safe_xml import parse_xml, read_document
from s1sr.duis.schema import DuisSchema
from s1sr.errors import InputError, UnsupportedRequest
from s1sr.estate_state import load_state
from s1sr.translate import translate_files
from tests.conftest import REPO, RTDS, s1sr

RTDS_11_3_HASH = "AA758690730934FF0685AA758690730934FF0685657788990011223344556677"
#: SHA-256 of the image in the RTDS 11.1 template (base64-decoded).
RTDS_11_1_IMAGE_HASH = "C47FB1A43BF0765F74C42C857A22FC52E63512F977C661BE14D4CB2F582901F0"
FIRMWARE_11_1 = str(RTDS / "11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML")
ACTIVATE_11_3 = str(RTDS / "CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")


@pytest.fixture
def xsd(duis_schema: DuisSchema) -> str:
    """The official DUIS schema's path."""
    return str(duis_schema.path)


def _activation_of_the_11_1_image(tmp_path: Path) -> Path:
    path = tmp_path / "activate-11.1-image.xml"
    path.write_text(Path(ACTIVATE_11_3).read_text().replace(RTDS_11_3_HASH, RTDS_11_1_IMAGE_HASH))
    assert RTDS_11_1_IMAGE_HASH in path.read_text()
    return path


# --- several requests, in order, on one estate ---------------------------------------------


def test_11_1_then_11_3_of_that_image_both_succeed(tmp_path: Path, xsd: str) -> None:
    run = translate_files([Path(FIRMWARE_11_1), _activation_of_the_11_1_image(tmp_path)], None, "4.3", xsd)
    assert [t.response.success for t in run.translations] == [True, True]
    assert run.translations[1].response.values == {"FirmwareVersion": "00000000"}
    assert run.exit_code == 0


def test_order_matters_11_3_before_11_1_finds_no_image(tmp_path: Path, xsd: str) -> None:
    run = translate_files([_activation_of_the_11_1_image(tmp_path), Path(FIRMWARE_11_1)], None, "4.3", xsd)
    assert [t.response.success for t in run.translations] == [False, True]
    assert [o.text for o in run.translations[0].response.outcomes] == [
        "device rejected the command: no firmware image held for this device"
    ]
    assert run.exit_code == 1


def test_the_rtds_11_3_after_the_rtds_11_1_names_another_image_and_fails_with_exit_1() -> None:
    done = s1sr("translate", FIRMWARE_11_1, ACTIVATE_11_3)
    assert done.returncode == 1, done.stderr
    assert "outcome 2 at 1: device rejected the command: FirmwareHash does not match the image held" in done.stdout
    assert done.stdout.splitlines()[-1] == "2 requests on secure-esme: 1 success, 1 failure"


def test_json_of_several_requests_is_an_array_in_their_order(tmp_path: Path) -> None:
    done = s1sr("translate", FIRMWARE_11_1, str(_activation_of_the_11_1_image(tmp_path)), "--json")
    assert done.returncode == 0, done.stderr
    documents = json.loads(done.stdout)
    assert [(d["srv"], d["success"]) for d in documents] == [("11.1", True), ("11.3", True)]
    assert documents[1]["dmc_reason"] == "00-DB-12-34-56-78-90-A0 is the ESME of the RTDS test estate: electricity"
    assert documents[1]["starting_state"] == {}


def test_out_dir_holds_one_response_per_request_and_out_takes_only_one(tmp_path: Path) -> None:
    second = str(RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
    refused = s1sr("translate", FIRMWARE_11_1, second, "--out", str(tmp_path / "r.xml"))
    assert refused.returncode == 2
    assert refused.stderr == (
        "s1sr: error: --out: names one response file, and 2 requests were given; use --out-dir DIR\n"
    )
    assert list(tmp_path.iterdir()) == []
    done = s1sr("translate", FIRMWARE_11_1, second, "--out-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "01-11.1_UPDATE_FIRMWARE_REQUEST_DUIS.response.xml",
        "02-ECS82_4.18_SUCCESS_REQUEST_DUIS.response.xml",
    ]


# --- the starting state ------------------------------------------------------------------

#: The state each RTDS success template presumes beyond a fresh estate (README, "s1sr translate").
STATES = {
    "2.5": ["payment_mode=prepayment", "emergency_credit_limit_pence=500"],
    "11.3": [f"firmware_hash={RTDS_11_3_HASH}", "firmware_version=0002012F"],
}


def _on_demand_templates() -> list[Path]:
    found = []
    for path in sorted(RTDS.glob("*.XML")):
        try:
            request = parse_request(parse_xml(read_document(path)), str(path))
        except (UnsupportedRequest, InputError):
            continue
        if getattr(request.body, "execution_datetime", None) is None:
            found.append(path)
    return found


def test_every_rtds_success_template_of_a_handled_srv_succeeds_given_its_state(xsd: str) -> None:
    templates = _on_demand_templates()
    assert len(templates) == 48  # the 67 in scope less 19 future-dated or cancelling ones
    failed = {}
    for path in templates:
        srv = parse_request(parse_xml(read_document(path))).srv
        run = translate_files([path], None, "4.3", xsd, load_state(None, STATES.get(srv, [])))
        if run.exit_code != 0:
            failed[path.name] = [o.text for o in run.translations[0].response.outcomes]
    assert failed == {}


def test_without_the_state_a_template_reports_failure_with_exit_1() -> None:
    done = s1sr("translate", str(RTDS / "ECS09_2.5_SUCCESS_REQUEST_DUIS.XML"))
    assert done.returncode == 1
    assert "Response I0: FAILURE" in done.stdout
    assert "device rejected the command: emergency credit is not available in credit mode" in done.stdout


def test_the_state_file_of_the_readme_makes_2_5_and_11_3_succeed(tmp_path: Path) -> None:
    state = tmp_path / "estate.toml"
    state.write_text(
        'payment_mode = "prepayment"\n'
        "emergency_credit_limit_pence = 500\n"
        f'firmware_hash = "{RTDS_11_3_HASH}"\n'
        'firmware_version = "0002012F"\n'
    )
    done = s1sr("translate", "--state", str(state), str(RTDS / "ECS09_2.5_SUCCESS_REQUEST_DUIS.XML"), ACTIVATE_11_3)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == (
        'Starting state of 00-DB-12-34-56-78-90-A0: payment_mode="prepayment", emergency_credit_limit_pence=500,'
        f' firmware_hash="{RTDS_11_3_HASH}", firmware_version="0002012F"'
    )
    assert "  FirmwareVersion = 0002012F" in done.stdout
    assert done.stdout.splitlines()[-1] == "2 requests on secure-esme: 2 success, 0 failure"


def test_a_set_wins_over_the_file(tmp_path: Path) -> None:
    state = tmp_path / "estate.toml"
    state.write_text("meter_balance_pence = 100\n")
    assert load_state(state, ["meter_balance_pence=-250"]).values == {"meter_balance_pence": -250}
    assert load_state(state, []).values == {"meter_balance_pence": 100}


def test_the_balance_set_is_the_balance_read(xsd: str) -> None:
    read = RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"
    run = translate_files([read], None, "4.3", xsd, load_state(None, ["meter_balance_pence=-2147483"]))
    assert run.translations[0].response.values == {"MeterBalance": -2147483000}


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        ("meter_balance_pence=2147483", None),  # the largest DUIS can carry: 2,147,483,000 units
        (
            "meter_balance_pence=2147484",
            "--set meter_balance_pence=2147484: 2147484 is outside -2147483..2147483;"
            " give a whole number from -2147483 to 2147483",
        ),
        ("debt_recovery_per_payment_percent=100", None),
        (
            "debt_recovery_per_payment_percent=101",
            "--set debt_recovery_per_payment_percent=101: 101 is outside 0..100; give a whole number from 0 to 100",
        ),
        ("emergency_credit_limit_pence=0", None),
        (
            "emergency_credit_limit_pence=-1",
            "--set emergency_credit_limit_pence=-1: -1 is outside 0..2147483; give a whole number from 0 to 2147483",
        ),
        (
            "emergency_credit_limit_pence=5.00",
            "--set emergency_credit_limit_pence=5.00: '5.00' is not a whole number;"
            " give a whole number from 0 to 2147483",
        ),
        (
            "payment_mode=prepay",
            '--set payment_mode=prepay: \'prepay\' is not a payment mode; give "credit" or "prepayment"',
        ),
        (
            "emergency_credit_limt_pence=5",
            "--set emergency_credit_limt_pence=5: unknown key 'emergency_credit_limt_pence';"
            " did you mean emergency_credit_limit_pence?",
        ),
        ("payment_mode", "--set payment_mode: is not KEY=VALUE; e.g. --set payment_mode=prepayment"),
        (
            "emergency_credit_auto_activation=yes",
            "--set emergency_credit_auto_activation=yes: 'yes' is not true or false",
        ),
    ],
)
def test_a_setting_is_checked_with_its_boundaries(setting: str, line: str | None) -> None:
    if line is None:
        load_state(None, [setting])
        return
    with pytest.raises(InputError) as caught:
        load_state(None, [setting])
    assert caught.value.line() == line


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (["firmware_version=12345678", f"firmware_hash={RTDS_11_3_HASH}"], None),
        (
            ["firmware_version=123456789", f"firmware_hash={RTDS_11_3_HASH}"],
            "--set firmware_version=123456789: '123456789' has 9 characters;"
            " give 1 to 8 characters (a DUIS FirmwareVersion)",
        ),
        (
            ["firmware_version=1", f"firmware_hash={RTDS_11_3_HASH[:63]}"],
            f"--set firmware_hash={RTDS_11_3_HASH[:63]}: '{RTDS_11_3_HASH[:60]}' is not 64 hex digits;"
            " give 64 hex digits (the SHA-256 FirmwareHash that SRV 11.3 names)",
        ),
        (
            [f"firmware_hash={RTDS_11_3_HASH}"],
            "--state/--set: firmware_hash and firmware_version go together; give both: the image held and its version",
        ),
        (
            ["disablement_threshold_pence=10"],
            '--state/--set: disablement_threshold_pence is a prepayment setting; add payment_mode = "prepayment"',
        ),
        (["disablement_threshold_pence=10", "payment_mode=prepayment"], None),
    ],
)
def test_settings_that_go_together(settings: list[str], line: str | None) -> None:
    if line is None:
        load_state(None, settings)
        return
    with pytest.raises(InputError) as caught:
        load_state(None, settings)
    assert caught.value.line() == line


def test_a_state_file_that_is_not_toml_or_has_a_wrong_type_is_one_line(tmp_path: Path) -> None:
    state = tmp_path / "estate.toml"
    state.write_text("payment_mode = prepayment\n")
    with pytest.raises(InputError) as caught:
        load_state(state, [])
    assert caught.value.line().startswith(f"--state {state}: is not TOML (")
    state.write_text('emergency_credit_limit_pence = "500"\n')
    with pytest.raises(InputError) as caught:
        load_state(state, [])
    assert caught.value.line() == (
        f"--state {state}: emergency_credit_limit_pence: '500' is not a whole number;"
        " give a whole number from 0 to 2147483"
    )
    state.write_text("suspend_debt_disabled = 1\n")
    with pytest.raises(InputError) as caught:
        load_state(state, [])
    assert caught.value.line() == f"--state {state}: suspend_debt_disabled: 1 is not true or false"
    done = s1sr("translate", "--state", str(tmp_path / "absent.toml"), ACTIVATE_11_3)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"s1sr: error: --state {tmp_path / 'absent.toml'}: no such file; check the path\n"


def test_a_state_the_device_cannot_hold_is_refused_before_any_request() -> None:
    done = s1sr(
        "translate",
        "--dmc",
        "secure-esme-credit",
        "--set",
        "emergency_credit_limit_pence=500",
        str(RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"),
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "s1sr: error: the starting state (--state, --set): 00-DB-12-34-56-78-90-A0 refused SetPrepayConfiguration"
        " (secure-esme-credit has no prepayment functions); give a state this device model can hold\n"
    )


# --- device IDs are never cut --------------------------------------------------------------


@pytest.mark.parametrize("columns", ["80", "60"])
def test_device_ids_are_whole_at_narrow_widths(columns: str) -> None:
    env = {**os.environ, "COLUMNS": columns}
    done = s1sr("translate", str(RTDS / "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML"), env=env)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if "AddToJoinWhitelist" in line]
    assert len(rows) == 1
    assert "00-DB-12-34-56-78-90-A2" in rows[0]  # the hub the command goes to, whole
    assert "…" not in done.stdout
    assert "00-DB-12-34-56-78-90-A0" in done.stdout.replace("\n", "")  # the joining device, possibly folded


def test_a0_and_b0_are_told_apart_at_80_columns(tmp_path: Path) -> None:
    both = tmp_path / "firmware-a0-b0.xml"
    both.write_text(
        Path(FIRMWARE_11_1)
        .read_text()
        .replace(
            "<sr:DeviceIDList>00-DB-12-34-56-78-90-A0</sr:DeviceIDList>",
            "<sr:DeviceIDList>00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-B0</sr:DeviceIDList>",
        )
    )
    done = s1sr("translate", str(both), env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    rows = [line.split()[:2] for line in done.stdout.splitlines() if "TransferFirmware" in line]
    assert rows == [
        ["TransferFirmware", "00-DB-12-34-56-78-90-A0"],
        ["TransferFirmware", "00-DB-12-34-56-78-90-B0"],
    ]
    assert all(len(line) <= 80 for line in done.stdout.splitlines() if "TransferFirmware" in line)


def test_the_state_goes_to_the_meter_addressed_on_han_b(tmp_path: Path, xsd: str) -> None:
    read_b0 = tmp_path / "read-b0.xml"
    read_b0.write_text(
        (RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
        .read_text()
        .replace(":00-DB-12-34-56-78-90-A0:", ":00-DB-12-34-56-78-90-B0:")
    )
    run = translate_files([read_b0], None, "4.3", xsd, load_state(None, ["meter_balance_pence=7"]))
    assert run.meters == ("00-DB-12-34-56-78-90-B0",)
    assert run.translations[0].response.values == {"MeterBalance": 7000}
    assert run.translations[0].dmc_reason == (
        "00-DB-12-34-56-78-90-B0 is not a device of the RTDS test estate: electricity assumed"
        " (--dmc secure-gsme for a gas meter)"
    )


def test_the_readme_shows_the_starting_state() -> None:
    readme = (REPO / "README.md").read_text()
    assert "--set payment_mode=prepayment --set emergency_credit_limit_pence=500" in readme
    assert f'firmware_hash = "{RTDS_11_3_HASH}"' in readme
