"""``s1sr run --shard K/N``: N jobs each run a part; their journals merged give the record of one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s1sr.plugin.selection import shard_out
from s1sr.report.results import ScenarioResult
from tests.conftest import s1sr

VARYING = ("duration_s", "evidence")


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return data


def _comparable(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k not in VARYING} for s in results["scenarios"]]


def _journal_ids(path: Path) -> list[str]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line["id"] for line in lines if line["kind"] == "scenario"]


def test_two_shards_merged_are_one_run(tmp_path: Path) -> None:
    one = s1sr("run", "--report-dir", str(tmp_path / "one"))
    assert one.returncode in (0, 1, 3), one.stdout + one.stderr  # the verdict is compared, not assumed
    for part in ("1/2", "2/2"):
        name = part.replace("/", "-of-")
        done = s1sr("run", "--shard", part, "--journal", str(tmp_path / f"{name}.jsonl"))
        assert done.returncode in (0, 1, 3), done.stdout + done.stderr
    first, second = _journal_ids(tmp_path / "1-of-2.jsonl"), _journal_ids(tmp_path / "2-of-2.jsonl")
    whole = _results(tmp_path / "one")
    assert not set(first) & set(second)
    assert abs(len(first) - len(second)) <= 1 and len(first) + len(second) == len(whole["scenarios"])
    # by DMC first: with two DMCs of equal size, each shard is one DMC
    assert {i.rpartition("[")[2] for i in first} == {"secure-esme]"}
    assert {i.rpartition("[")[2] for i in second} == {"secure-gsme]"}

    merged = s1sr("report", str(tmp_path / "2-of-2.jsonl"), str(tmp_path / "1-of-2.jsonl"),
                  "--report-dir", str(tmp_path / "merged"))  # fmt: skip
    assert merged.returncode == one.returncode, merged.stdout + merged.stderr
    together = _results(tmp_path / "merged")
    assert {s["id"]: s["outcome"] for s in together["scenarios"]} == {s["id"]: s["outcome"] for s in whole["scenarios"]}
    assert _comparable(together) == _comparable(whole)  # unique names and order as one run gives them
    for key in ("verdict", "exit_code", "summary", "schema", "dmc", "s1sr_version", "adapter", "s1sp"):
        assert together[key] == whole[key], key


def test_a_shard_on_workers_runs_the_same_part(tmp_path: Path) -> None:
    serial = s1sr("run", "--clause", "18.3", "--shard", "2/3", "--journal", str(tmp_path / "serial.jsonl"))
    assert serial.returncode in (0, 1, 3), serial.stdout + serial.stderr
    parallel = s1sr("run", "--clause", "18.3", "--shard", "2/3", "--workers", "2",
                    "--journal", str(tmp_path / "parallel.jsonl"))  # fmt: skip
    assert parallel.returncode == serial.returncode, parallel.stdout + parallel.stderr
    ids = _journal_ids(tmp_path / "serial.jsonl")
    assert len(ids) >= 10  # a third of the 32 or more scenario examples of 18.3 on two DMCs
    assert sorted(_journal_ids(tmp_path / "parallel.jsonl")) == sorted(ids)


@pytest.mark.parametrize("shard", ["0/2", "3/2", "1/0", "2", "a/b", "-1/2"])
def test_a_shard_that_is_not_k_of_n_is_refused(shard: str) -> None:
    done = s1sr("run", "--clause", "18.62", "--shard", shard)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"s1sr: error: --shard: '{shard}' is not a shard: give K/N, part K of N, with 1 <= K <= N; "
        "for example --shard 1/2 in one job and --shard 2/2 in another\n"
    )


def _example(dmc: str, feature: str, line: int, row: int) -> ScenarioResult:
    return ScenarioResult(
        name=f"{feature} {line} {row}",
        feature="F",
        feature_file=f"features/{feature}.feature",
        clauses=[],
        srvs=[],
        dmc=dmc,
        id=f"features/{feature}.feature:{line}:{line + 5}#{row}[{dmc}]",
    )


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 36, 40])
def test_shards_cover_every_scenario_once_in_nearly_equal_parts_whatever_the_order(parts: int) -> None:
    dmcs = ["secure-gsme", "secure-esme"]
    results = [
        _example(dmc, feature, line, row)
        for dmc in ("secure-esme", "secure-gsme")
        for feature in ("18.10-b", "18.02-a", "18.3-c")
        for line in (9, 30)
        for row in (1, 2, 10)
    ]  # 36 examples
    items: list[Any] = [object() for _ in results]
    kept: list[list[str]] = []
    for part in range(1, parts + 1):
        outside = {id(i) for i in shard_out(items, results, (part, parts), dmcs)}
        kept.append([r.id for i, r in zip(items, results, strict=True) if id(i) not in outside])
        shuffled = list(zip(items, results, strict=True))[::-1]  # another collection order: the same part
        again = {id(i) for i in shard_out([i for i, _ in shuffled], [r for _, r in shuffled], (part, parts), dmcs)}
        assert again == outside
    assert sorted(i for part in kept for i in part) == sorted(r.id for r in results)
    sizes = [len(part) for part in kept]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 36
    if parts == 36:  # the run's DMC order first, then feature file, then place in the file (numbers, not text)
        assert [part[0] for part in kept] == [
            f"features/{f}.feature:{line}:{line + 5}#{row}[{dmc}]"
            for dmc in dmcs
            for f in ("18.02-a", "18.10-b", "18.3-c")
            for line in (9, 30)
            for row in (1, 2, 10)
        ]
