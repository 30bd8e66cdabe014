"""`mirador link`: results and a summary on good files; one line naming the file, row and
column on bad ones; nothing dropped without being counted."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mirador.linkage import synthetic
from mirador.linkage.models import LinkageModel

pytestmark = pytest.mark.django_db


def run(*args: str | Path) -> str:
    out = StringIO()
    call_command("link", *[str(a) for a in args], stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def records_csv(tmp_path: Path, returnees: pd.DataFrame) -> Path:
    path = tmp_path / "returnees.csv"
    returnees.drop(columns=["person_key"]).head(600).to_csv(path, index=False)
    return path


def test_dedupe_writes_pairs_clusters_and_a_summary(tmp_path: Path, records_csv: Path) -> None:
    out = tmp_path / "out"
    summary = run("dedupe", records_csv, "--out", out, "--save-model", "returnees")
    pairs = pd.read_csv(out / "pairs.csv")
    clusters = pd.read_csv(out / "clusters.csv")
    assert len(clusters) == 600
    assert len(pairs) > 0
    assert {"weight_surnames", "weight_birth_date"} <= set(pairs.columns)
    assert "600 rows read, 0 skipped" in summary
    assert f"{len(pairs)} pairs" in summary
    assert "returnees v1" in summary
    assert json.loads((out / "run.json").read_text())["model"] == "returnees v1"
    assert LinkageModel.objects.get(name="returnees").version == 1


def test_a_saved_model_scores_a_parquet_file_and_names_its_version(
    tmp_path: Path, records_csv: Path
) -> None:
    run("dedupe", records_csv, "--out", tmp_path / "first", "--save-model", "returnees")
    parquet = tmp_path / "returnees.parquet"
    pd.read_csv(records_csv, dtype=str).to_parquet(parquet)
    summary = run("dedupe", parquet, "--out", tmp_path / "second", "--model", "returnees:1")
    assert "returnees v1" in summary
    first = pd.read_csv(tmp_path / "first" / "pairs.csv")
    second = pd.read_parquet(tmp_path / "second" / "pairs.parquet")
    assert len(first) == len(second)


def test_pairs_links_two_files(tmp_path: Path, returnees: pd.DataFrame) -> None:
    left, right = tmp_path / "left.csv", tmp_path / "right.csv"
    frame = returnees.drop(columns=["person_key"])
    frame.head(300).to_csv(left, index=False)
    frame.head(300).to_csv(right, index=False)
    run("pairs", left, right, "--out", tmp_path / "out")
    pairs = pd.read_csv(tmp_path / "out" / "pairs.csv")
    same = pairs[pairs["record_id_l"] == pairs["record_id_r"]]
    assert len(same) >= 295
    assert set(pairs["source_l"]) | set(pairs["source_r"]) == {"left.csv", "right.csv"}


def write(tmp_path: Path, text: str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"no such file"),
        ("", r"the file is empty"),
        ("record_id,given_names,first_surname\n", r"the file has no records"),
        ("record_id,birth_year\n1,1990\n", r"column “given_names” is missing"),
        (
            "record_id,given_names,birth_year\n1,Ana,1990\n2,Rosa,19x0\n",
            r"row 2, column birth_year: “19x0”",
        ),
        (
            "record_id,given_names,birth_date\n1,Ana,1990-02-03\n2,Rosa,3 de marzo\n",
            r"row 2, column birth_date: “3 de marzo”",
        ),
        ("record_id,given_names\n1,Ana\n1,Rosa\n", r"row 2, column record_id: the id “1”"),
        ("record_id,given_names\n1,Ana\n,Rosa\n", r"row 2, column record_id: the record has no id"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "input.csv" if content is None else write(tmp_path, content)
    with pytest.raises(CommandError, match=message) as error:
        run("dedupe", path, "--out", tmp_path / "out")
    assert "\n" not in str(error.value)
    assert str(path) in str(error.value)


def test_blank_lines_are_counted_as_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "record_id,given_names,first_surname\n1,Ana,Paz\n,,\n2,Rosa,Paz\n")
    summary = run("dedupe", path, "--out", tmp_path / "out")
    assert "3 rows read, 1 skipped" in summary
    assert len(pd.read_csv(tmp_path / "out" / "clusters.csv")) == 2


def test_many_identical_rows_without_ids_are_one_cluster(tmp_path: Path) -> None:
    rows = "given_names,first_surname,second_surname,birth_date\n" + (
        "Juan,Pérez,López,1990-01-02\n" * 20_000
    )
    path = write(tmp_path, rows)
    summary = run("dedupe", path, "--out", tmp_path / "out")
    clusters = pd.read_csv(tmp_path / "out" / "clusters.csv")
    assert len(clusters) == 20_000
    assert clusters["cluster_id"].nunique() == 1
    assert "20000 rows read, 0 skipped" in summary


def test_a_run_over_the_pair_limit_is_refused_with_the_projected_count(
    tmp_path: Path, records_csv: Path
) -> None:
    with pytest.raises(
        CommandError, match=r"about [\d,]+ pairs of records, more than the limit of 10"
    ):
        run("dedupe", records_csv, "--out", tmp_path / "out", "--max-pairs", "10")
    assert not (tmp_path / "out").exists()


def test_an_unknown_model_is_one_line(tmp_path: Path, records_csv: Path) -> None:
    with pytest.raises(CommandError, match="no linkage model named “nothing”"):
        run("dedupe", records_csv, "--out", tmp_path / "out", "--model", "nothing")


def test_generated_errors_are_what_the_generator_says(returnees: pd.DataFrame) -> None:
    # The test data itself: repeat returns exist and some carry errors.
    truth = synthetic.true_pairs(returnees)
    assert len(truth) > 200
