"""``s1sr validate``: signatures checked with ``--cert``, rejections in plain words, every file counted.

Issue 13: a signed response whose MessageSuccess was flipped after signing was "valid"; reasons
were Python's ("invalid literal for int() with base 10: 'twelve pounds'", "<class
'elementpath.datatypes.datetime.DateTime10'>", "less than or equal than 3600"); one unreadable
file gave "0 valid, 0 invalid".
"""

from pathlib import Path

import pytest

from s1sr.duis.schema import DuisSchema
from s1sr.validation import validate_files
from tests.conftest import RTDS, s1sr
from tests.duis_rig import make_user


@pytest.fixture
def xsd(duis_schema: DuisSchema) -> str:
    """The official DUIS schema's path."""
    return str(duis_schema.path)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A response of ``s1sr translate`` and the certificate it was signed with."""
    folder = tmp_path_factory.mktemp("signed")
    response, cert = folder / "response.xml", folder / "s1sp.pem"
    done = s1sr(
        "translate",
        str(RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"),
        "--out",
        str(response),
        "--cert-out",
        str(cert),
    )
    assert done.returncode == 0, done.stderr
    return response, cert


def _other_certificate(path: Path) -> Path:
    path.write_bytes(make_user(None, "another S1SP").cert_pem)
    return path


# --- signatures ------------------------------------------------------------------------------


def test_a_response_flipped_after_signing_is_invalid_with_its_certificate(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    response, cert = signed
    flipped = tmp_path / "flipped.xml"
    text = response.read_text()
    assert text.count('MessageSuccess="true"') == 1
    flipped.write_text(text.replace('MessageSuccess="true"', 'MessageSuccess="false"'))
    done = s1sr("validate", "--cert", str(cert), str(response), str(flipped))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        f"valid    {response}",
        "         signature of the SMETS1 Response: verifies",
        f"INVALID  {flipped}",
        "         signature of the SMETS1 Response: INVALID: digest mismatch: the signed content was altered",
    ]
    assert lines[-1].startswith("1 valid, 1 invalid, 0 unreadable (schema: ")
    assert lines[-1].endswith("; signatures checked with 1 certificate(s))")


def test_without_a_certificate_signatures_are_not_checked_and_the_summary_says_so(
    signed: tuple[Path, Path], xsd: str
) -> None:
    response, _ = signed
    report = validate_files([response], xsd)
    assert (report.valid_count, report.items[0].signatures) == (1, [])
    assert (
        report.summary()
        == f"1 valid, 0 invalid, 0 unreadable (schema: {xsd}; signatures not checked: --cert FILE checks them)"
    )


def test_another_key_does_not_verify_and_any_of_several_certificates_may(
    signed: tuple[Path, Path], tmp_path: Path, xsd: str
) -> None:
    response, cert = signed
    other = _other_certificate(tmp_path / "other.pem").read_bytes()
    alone = validate_files([response], xsd, [other]).items[0]
    assert not alone.valid
    assert alone.signatures[0].reason == (
        "signature does not verify: the signature value is not the trusted certificate's signature of this"
        " SignedInfo (another key, or SignedInfo altered)"
    )
    both = validate_files([response], xsd, [other, cert.read_bytes()]).items[0]
    assert both.valid
    assert both.as_dict()["signatures"] == [
        {"signed": "SMETS1 Response", "valid": True, "reason": "ECDSA P-256/SHA-256 signature verifies"}
    ]


def test_a_request_must_carry_its_users_signature(tmp_path: Path, xsd: str) -> None:
    """The RTDS templates hold placeholder signatures: with --cert a request is judged on its own."""
    other = _other_certificate(tmp_path / "user.pem").read_bytes()
    item = validate_files([RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"], xsd, [other]).items[0]
    assert not item.valid
    assert [(s.signed, s.valid) for s in item.signatures] == [("Request (the whole message)", False)]
    unsigned = tmp_path / "unsigned.xml"
    text = (RTDS / "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML").read_text()
    unsigned.write_text(text[: text.index("<ds:Signature")] + "</sr:Request>\n")
    bare = validate_files([unsigned], xsd, [other]).items[0]
    assert bare.problems == [] and not bare.valid
    assert bare.signatures[0].reason == "no ds:Signature on the Request"


def test_a_certificate_that_cannot_be_read_is_one_line_exit_2(signed: tuple[Path, Path], tmp_path: Path) -> None:
    response, _ = signed
    missing = tmp_path / "absent.pem"
    done = s1sr("validate", "--cert", str(missing), str(response))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"s1sr: error: --cert {missing}: no such file; check the path\n"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    done = s1sr("validate", "--cert", str(junk), str(response))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"s1sr: error: --cert {junk}: holds no readable X.509 certificate (")


# --- plain words -----------------------------------------------------------------------------


def _edited(tmp_path: Path, template: str, old: str, new: str) -> Path:
    text = (RTDS / template).read_text()
    assert text.count(old) == 1, old
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.xml"
    path.write_text(text.replace(old, new))
    return path


CASES = [
    (
        "ECS04a_1.5_SUCCESS_REQUEST_DUIS.XML",
        "<sr:AdjustMeterBalance>1200000</sr:AdjustMeterBalance>",
        "<sr:AdjustMeterBalance>twelve pounds</sr:AdjustMeterBalance>",
        "sr:AdjustMeterBalance: 'twelve pounds' is not a whole number;"
        " the schema allows a whole number from -2147483648 to 2147483647",
    ),
    (
        "ECS04a_1.5_SUCCESS_REQUEST_DUIS.XML",
        "<sr:AdjustMeterBalance>1200000</sr:AdjustMeterBalance>",
        "<sr:AdjustMeterBalance>2147483648</sr:AdjustMeterBalance>",
        "sr:AdjustMeterBalance: found '2147483648', above the largest value;"
        " the schema allows a whole number from -2147483648 to 2147483647",
    ),
    (
        "ECS02_1.6_FUTURE_DATED_TWIN_SUCCESS_REQUEST_DUIS.XML",
        "2030-01-15T09:00:00.00Z",
        "tomorrow",
        "sr:ExecutionDateTime: 'tomorrow' is not a date and time such as 2030-01-15T09:00:00Z",
    ),
    (
        "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML",
        "<sr:JoinTimePeriod>90</sr:JoinTimePeriod>",
        "<sr:JoinTimePeriod>3601</sr:JoinTimePeriod>",
        "sr:JoinTimePeriod: found '3601', above the largest value; the schema allows a whole number from 1 to 3600",
    ),
    (
        "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML",
        "<sr:JoinTimePeriod>90</sr:JoinTimePeriod>",
        "<sr:JoinTimePeriod>0</sr:JoinTimePeriod>",
        "sr:JoinTimePeriod: found '0', below the smallest value; the schema allows a whole number from 1 to 3600",
    ),
    (
        "ECS28a_6.4.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
        "<sr:LoadLimitSupplyState>Disable</sr:LoadLimitSupplyState>",
        "<sr:LoadLimitSupplyState>Off</sr:LoadLimitSupplyState>",
        "sr:LoadLimitSupplyState: found 'Off', not one of the values the schema lists;"
        " the schema allows one of Disable, Unchanged",
    ),
    (
        "CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
        "AA758690730934FF0685AA758690730934FF0685657788990011223344556677",
        "AA75",
        "sr:FirmwareHash: found 'AA75', 2 bytes long;"
        " the schema allows hexadecimal (pairs of the digits 0-9, A-F), exactly 32 bytes (64 hex digits)",
    ),
    (
        "CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
        "AA758690730934FF0685AA758690730934FF0685657788990011223344556677",
        "XYZ",
        "sr:FirmwareHash: 'XYZ' is not hexadecimal (pairs of the digits 0-9, A-F);"
        " the schema allows hexadecimal (pairs of the digits 0-9, A-F), exactly 32 bytes (64 hex digits)",
    ),
    (
        "ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML",
        "<sr:SuspendDebtDisabled>true</sr:SuspendDebtDisabled>",
        "<sr:SuspendDebtDisabled>no</sr:SuspendDebtDisabled>",
        "sr:SuspendDebtDisabled: 'no' is not a boolean (true, false, 1 or 0)",
    ),
    (
        "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML",
        "<sr:ServiceReferenceVariant>4.18</sr:ServiceReferenceVariant>",
        "<sr:ServiceReferenceVariant>4.99</sr:ServiceReferenceVariant>",
        "sr:ServiceReferenceVariant: found '4.99', not one of the values the schema lists;"
        " the schema allows one of 1.1.1, 1.1.2, 1.2.1, 1.2.2, 1.5, 1.6, 1.7, 2.1 and 121 more",
    ),
    (
        "ECS82_4.18_SUCCESS_REQUEST_DUIS.XML",
        ":00-DB-12-34-56-78-90-A0:",
        ":00-DB-12-34-56-78-90:",
        "sr:RequestID: found '90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90:1000', not of the form the schema"
        " requires; the schema allows originator:target:counter,"
        " e.g. 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000",
    ),
    (
        "ECS28a_6.4.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
        "<sr:LoadLimitPeriod>",
        "<sr:Unknown/><sr:LoadLimitPeriod>",
        "sr:UpdateDeviceConfigurationLoadLimitingGeneralSettings: found sr:Unknown"
        " where the schema expects sr:LoadLimitPeriod",
    ),
]


@pytest.mark.parametrize(("template", "old", "new", "message"), CASES)
def test_a_rejection_is_explained_in_plain_words(
    template: str, old: str, new: str, message: str, tmp_path: Path, xsd: str
) -> None:
    item = validate_files([_edited(tmp_path, template, old, new)], xsd).items[0]
    assert not item.valid
    assert item.problems[0].split("): ", 1)[1] == message
    for python in ("int()", "<class", "than or equal than", "Tag (", "must be one of ["):
        assert python not in item.problems[0]


def test_a_missing_element_is_named(tmp_path: Path, xsd: str) -> None:
    template = "ECS28a_6.4.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
    text = (RTDS / template).read_text()
    start = text.index("<sr:LoadLimitPeriod>")
    end = text.index("</sr:LoadLimitPeriod>") + len("</sr:LoadLimitPeriod>")
    path = tmp_path / "missing.xml"
    path.write_text(text[:start] + text[end:])
    item = validate_files([path], xsd).items[0]
    assert item.problems[0].split("): ", 1)[1] == (
        "sr:UpdateDeviceConfigurationLoadLimitingGeneralSettings: sr:LoadLimitPeriod is missing before"
        " sr:LoadLimitPowerThreshold"
    )


# --- every file counted ------------------------------------------------------------------------


def test_one_unreadable_file_is_counted(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<sr:Request")
    done = s1sr("validate", str(broken))
    assert done.returncode == 2
    assert done.stdout.splitlines()[-1].startswith("0 valid, 0 invalid, 1 unreadable (schema: ")
    assert done.stderr.startswith(f"s1sr: error: {broken}: not well-formed XML")
    assert len(done.stderr.splitlines()) == 1


def test_valid_invalid_and_unreadable_add_up_to_the_files_given(tmp_path: Path, xsd: str) -> None:
    invalid = _edited(tmp_path, "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML", ">90<", ">3601<")
    unreadable = tmp_path / "empty.xml"
    unreadable.write_text("")
    report = validate_files([RTDS / "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML", invalid, unreadable], xsd)
    assert report.summary().startswith("1 valid, 1 invalid, 1 unreadable (schema: ")
    assert report.as_dict()["unreadable"] == [f"{unreadable}: document is empty; give a DUIS XML document"]
