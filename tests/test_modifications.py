"""Modification packs as overlays: what each shipped pack changes, and the packs the harness refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from s1sr.catalogue import CATALOGUE_DIR_ENV, load_catalogue
from s1sr.catalogue.modifications import split_spec, with_modifications
from s1sr.errors import ConfigError
from tests.conftest import REPO, s1sr

SHIPPED = REPO / "s1sr" / "catalogue" / "data"


def test_the_shipped_packs_are_listed_with_status_versions_and_sources() -> None:
    done = s1sr("modifications", "--json")
    assert done.returncode == 0, done.stderr
    packs = {p["id"]: p for p in json.loads(done.stdout)}
    assert sorted(packs) == ["MP162", "MP184", "MP312"]
    assert (packs["MP312"]["status"], packs["MP312"]["applies_to"], packs["MP312"]["tag"]) == (
        "proposed",
        ["4.3"],
        "@mp-312",
    )
    assert packs["MP312"]["sources"][0]["date"] == "2025-12-09"
    assert packs["MP312"]["clauses_added"] == ["MP312.1"]
    assert (packs["MP162"]["status"], packs["MP162"]["applies_to"]) == ("approved", ["4.2", "4.3"])
    assert packs["MP162"]["roles_added"] == ["MDR"]
    assert packs["MP162"]["srv_rules_changed"] == ["4.8.1", "4.8.3", "4.1.1", "4.2"]
    assert packs["MP184"]["srv_rules_changed"] == ["4.2", "4.8.3"]
    table = s1sr("modifications")
    assert table.returncode == 0
    assert all(f"│ {pid} " in table.stdout for pid in ("MP162", "MP184", "MP312")), table.stdout


def test_a_spec_names_a_version_and_its_packs() -> None:
    assert split_spec("4.3+mp312+MP162+MP312") == ("4.3", ("MP312", "MP162"))
    assert with_modifications("4.3", ("mp312",)) == "4.3+MP312"
    assert with_modifications("4.3+MP162", ["MP312", "MP162"]) == "4.3+MP162+MP312"
    for bad in ("", "+MP312", "4.3+", "4.3++MP312"):
        with pytest.raises(ConfigError):
            split_spec(bad)


def test_mp162_gives_the_mdr_user_its_role_and_the_reads_it_may_send() -> None:
    base, packed = load_catalogue("4.3"), load_catalogue("4.3+MP162")
    mdr = "90-B3-D5-1F-30-01-00-09"
    assert base.eligibility.user(mdr).roles == ()  # type: ignore[union-attr]
    assert packed.eligibility.user(mdr).roles == ("MDR",)  # type: ignore[union-attr]
    assert packed.eligibility.rule("4.8.1").roles == ("IS", "GS", "ED", "GT", "OU", "MDR")  # type: ignore[union-attr]
    assert packed.eligibility.rule("4.2").roles == ("ES", "ED", "MDR")  # type: ignore[union-attr]
    assert base.eligibility.rule("4.2").dcc_scheduled is False  # type: ignore[union-attr]
    assert packed.eligibility.rule("4.2").dcc_scheduled is True  # type: ignore[union-attr]
    assert packed.eligibility.rule("1.5").roles == ("IS", "GS")  # type: ignore[union-attr]
    assert [c.id for c in packed.clauses if c.source == "MP162"] == ["MP162.1", "MP162.2"]
    assert packed.spec == "4.3+MP162" and packed.version == "4.3"
    assert base.clause("MP162.1") is None


def test_mp184_excludes_twin_element_models_from_the_export_reads() -> None:
    packed = load_catalogue("4.3+MP184")
    assert packed.eligibility.rule("4.2").excluded_traits == ("twin-element",)  # type: ignore[union-attr]
    assert packed.eligibility.rule("4.8.3").excluded_traits == ("twin-element",)  # type: ignore[union-attr]
    assert load_catalogue("4.3").eligibility.rule("4.2").excluded_traits == ()  # type: ignore[union-attr]


def test_two_packs_changing_one_rule_keep_both_changes_and_both_sources() -> None:
    rule = load_catalogue("4.3+MP162+MP184").eligibility.rule("4.2")
    assert rule is not None
    assert (rule.roles, rule.excluded_traits) == (("ES", "ED", "MDR"), ("twin-element",))
    assert rule.changed_by == "MP162, MP184"
    assert "MP162: adds MDR" in rule.source and "MP184: under MP184" in rule.source


def test_a_pack_for_another_version_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = s1sr("run", "--s1sr-version", "4.2", "--modification", "MP312", "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "s1sr: error: --modification: MP312 does not apply to S1SR 4.2; MP312 applies to S1SR 4.3"
    )
    assert not (tmp_path / "r").exists()


def test_an_unknown_pack_is_one_line_and_exit_2() -> None:
    done = s1sr("clauses", "--modification", "MP999")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "s1sr: error: --modification: no modification pack 'MP999'; known: MP162, MP184, MP312 (s1sr modifications)"
    )


def _catalogue_with(tmp_path: Path, packs: dict[str, str]) -> Path:
    folder = tmp_path / "catalogue"
    folder.mkdir()
    for name in ("s1sr-4.2.toml", "s1sr-4.3.toml"):
        shutil.copy(SHIPPED / name, folder / name)
    (folder / "modifications").mkdir()
    for name, text in packs.items():
        (folder / "modifications" / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


PACK = """
id = "{id}"
title = "A test pack"
status = "proposed"
applies_to = ["4.3"]
summary = "For a test."
{head}
[[source]]
title = "nowhere"
date = "2026-11-26"
note = "test"
"""


def test_two_packs_that_contradict_each_other_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = PACK.format(id="MP901", head="") + '[[srv]]\nvariant = "4.10"\nadd_roles = ["ES"]\nsource = "x"\n'
    second = PACK.format(id="MP902", head="") + '[[srv]]\nvariant = "4.10"\nremove_roles = ["ES"]\nsource = "y"\n'
    folder = _catalogue_with(tmp_path, {"MP901": first, "MP902": second})
    done = s1sr("clauses", "--catalogue", str(folder), "--modification", "MP901", "--modification", "MP902")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "s1sr: error: --modification: MP901 and MP902 contradict each other on role 4.10 ES; "
        "run them separately, or correct one pack"
    )
    monkeypatch.setenv(CATALOGUE_DIR_ENV, str(folder))
    assert load_catalogue("4.3+MP901").eligibility.rule("4.10").roles == ("IS", "GS", "ED", "GT", "ES")  # type: ignore[union-attr]


def test_two_packs_touching_one_clause_contradict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = PACK.format(id="MP901", head="") + '[[clause_change]]\nid = "18.3"\ntitle = "Renamed"\n'
    second = PACK.format(id="MP902", head="") + '[[clause_withdrawn]]\nid = "18.3"\n'
    monkeypatch.setenv(CATALOGUE_DIR_ENV, str(_catalogue_with(tmp_path, {"MP901": first, "MP902": second})))
    with pytest.raises(ConfigError, match=r"MP901 and MP902 contradict each other on clause 18\.3"):
        load_catalogue("4.3+MP901+MP902")
    changed = load_catalogue("4.3+MP901").clause("18.3")
    assert changed is not None and (changed.title, changed.source) == ("Renamed", "MP901")
    assert load_catalogue("4.3+MP902").clause("18.3") is None


def test_a_pack_that_says_it_conflicts_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = PACK.format(id="MP901", head='conflicts_with = ["MP902"]')
    second = PACK.format(id="MP902", head="")
    monkeypatch.setenv(CATALOGUE_DIR_ENV, str(_catalogue_with(tmp_path, {"MP901": first, "MP902": second})))
    with pytest.raises(ConfigError, match="MP901 and MP902 contradict each other"):
        load_catalogue("4.3+MP902+MP901")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (PACK.format(id="MP901", head="").replace('"proposed"', '"rumoured"'), "status must be one of"),
        (PACK.format(id="MP901", head="").replace('applies_to = ["4.3"]', "applies_to = []"), "names no version"),
        (PACK.format(id="MP999", head=""), "is not its file name"),
        (PACK.format(id="MP901", head="colour = 1"), "unknown key 'colour'"),
        (PACK.format(id="MP901", head="") + '[[clause_change]]\nid = "18.3"\nsize = 2\n', "clause field 'size'"),
        (PACK.format(id="MP901", head="") + '[[clause_change]]\nid = "99.9"\ntitle = "x"\n', "does not have"),
        (PACK.format(id="MP901", head="") + '[[clause]]\nid = "18.3"\n', "clause 18.3 provenance must be one of"),
        (
            PACK.format(id="MP901", head="")
            + '[[clause]]\nid = "MP901.1"\nprovenance = "modification"\ndetail_provenance = "modification"\n',
            "catalogue entry has no 'title'",
        ),
        (PACK.format(id="MP901", head="") + '[[srv]]\nvariant = "4.10"\nadd_roles = ["XX"]\n', "unknown role XX"),
    ],
)
def test_a_broken_pack_is_a_one_line_error(tmp_path: Path, text: str, what: str) -> None:
    folder = _catalogue_with(tmp_path, {"MP901": text})
    done = s1sr("clauses", "--catalogue", str(folder), "--modification", "MP901")
    assert done.returncode == 2
    assert what in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def _padded(text: str, size: int) -> bytes:
    """``text`` followed by a TOML comment line, ``size`` bytes in all."""
    data = text.encode("utf-8") + b"#"
    return data + b"x" * (size - len(data) - 1) + b"\n"


@pytest.mark.parametrize(
    ("file", "content", "what"),
    [
        ("s1sr-4.3.toml", b"\xff\xfe", "s1sr-4.3.toml: catalogue file is not UTF-8 text (byte 8164); save it as UTF-8"),
        (
            "modifications/MP901.toml",
            _padded(PACK.format(id="MP901", head=""), 1_000_001),
            "MP901.toml: catalogue file is over 1,000,000 bytes; name the catalogue's own file",
        ),
        ("device-models.toml", None, "device-models.toml: catalogue file is a folder; name a TOML file"),
    ],
    ids=["not-utf8", "over-the-bound", "a-folder"],
)
def test_an_unreadable_catalogue_file_is_one_line_and_exit_2(
    tmp_path: Path, file: str, content: bytes | None, what: str
) -> None:
    folder = _catalogue_with(tmp_path, {"MP901": PACK.format(id="MP901", head="")})
    target = folder / file
    if content is None:
        target.mkdir()
    elif file.startswith("s1sr-"):
        target.write_bytes((SHIPPED / file).read_bytes()[:8164] + content)
    else:
        target.write_bytes(content)
    done = s1sr("clauses", "--catalogue", str(folder), "--modification", "MP901")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("s1sr: error: ") and done.stderr.rstrip("\n").endswith(what), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_catalogue_file_at_the_bound_is_read(tmp_path: Path) -> None:
    pack = _padded(PACK.format(id="MP901", head=""), 1_000_000)
    assert len(pack) == 1_000_000
    folder = _catalogue_with(tmp_path, {})
    (folder / "modifications" / "MP901.toml").write_bytes(pack)
    done = s1sr("modifications", "--catalogue", str(folder), "--json")
    assert done.returncode == 0, done.stderr
    assert [p["id"] for p in json.loads(done.stdout)] == ["MP901"]


def test_clauses_say_where_each_clause_comes_from() -> None:
    done = s1sr("clauses", "--modification", "MP312", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)}
    assert (rows["18.3"]["source"], rows["MP312.1"]["source"]) == ("4.3", "MP312")
    assert rows["MP312.1"]["provenance"] == "modification"
    plain = {r["id"] for r in json.loads(s1sr("clauses", "--json").stdout)}
    assert "MP312.1" not in plain
