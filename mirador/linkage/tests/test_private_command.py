"""`mirador link keygen`, `encode` and `match-encoded`: two countries' files linked through
their encodings; the key never shown; bad input refused in one sentence naming the file."""

from __future__ import annotations

import logging
import stat
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mirador.linkage import privacy, privacy_synthetic


def run(*args: str | Path) -> str:
    out = StringIO()
    call_command("link", *[str(a) for a in args], stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, set[tuple[str, str]]]:
    left, right, truth = privacy_synthetic.country_files(500, seed=29)
    left_path, right_path = tmp_path / "hn.csv", tmp_path / "gt.parquet"
    left.to_csv(left_path, index=False)
    right.astype("string").to_parquet(right_path)
    return left_path, right_path, truth


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "agreement.key"
    run("keygen", "--out", path)
    return path


def test_keygen_writes_a_key_only_its_owner_reads_and_never_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "new.key"
    summary = run("keygen", "--out", path)
    key = privacy.key_read(path=path)
    secret = path.read_text().splitlines()[-1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.fingerprint in summary
    assert secret not in summary
    with pytest.raises(CommandError, match="never overwritten"):
        run("keygen", "--out", path)
    assert path.read_text().splitlines()[-1] == secret


def test_two_countries_link_through_their_encodings(
    tmp_path: Path,
    files: tuple[Path, Path, set[tuple[str, str]]],
    key_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    left, right, truth = files
    caplog.set_level(logging.DEBUG)
    run("encode", left, "--key-file", key_file, "--out", tmp_path / "hn.enc.parquet")
    run("encode", right, "--key-file", key_file, "--out", tmp_path / "gt.enc.parquet")
    summary = run(
        "match-encoded",
        tmp_path / "hn.enc.parquet",
        tmp_path / "gt.enc.parquet",
        "--out",
        tmp_path / "out",
    )
    pairs = pd.read_csv(tmp_path / "out" / "pairs.csv", dtype={"record_id_l": str})
    clusters = pd.read_csv(tmp_path / "out" / "clusters.csv")
    found = set(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
    assert len(found & truth) >= 0.9 * len(truth)
    assert len(found & truth) >= 0.97 * len(found)
    assert len(clusters) == len(pd.read_csv(left)) + len(pd.read_parquet(right))
    assert f"{len(pairs)} pairs" in summary
    assert (tmp_path / "out" / "run.json").is_file()
    secret = key_file.read_text().splitlines()[-1]
    assert all(secret not in record.getMessage() for record in caplog.records)


def test_the_key_may_come_from_the_environment(
    tmp_path: Path,
    files: tuple[Path, Path, set[tuple[str, str]]],
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIRADOR_LINKAGE_KEY", key_file.read_text())
    summary = run("encode", files[0], "--out", tmp_path / "a.parquet")
    assert privacy.key_read(path=key_file).fingerprint in summary
    monkeypatch.delenv("MIRADOR_LINKAGE_KEY")
    with pytest.raises(CommandError, match="MIRADOR_LINKAGE_KEY"):
        run("encode", files[0], "--out", tmp_path / "b.parquet")


def test_files_of_different_keys_are_refused(
    tmp_path: Path, files: tuple[Path, Path, set[tuple[str, str]]], key_file: Path
) -> None:
    other = tmp_path / "other.key"
    run("keygen", "--out", other)
    run("encode", files[0], "--key-file", key_file, "--out", tmp_path / "a.parquet")
    run("encode", files[1], "--key-file", other, "--out", tmp_path / "b.parquet")
    with pytest.raises(CommandError, match="different keys"):
        run("match-encoded", tmp_path / "a.parquet", tmp_path / "b.parquet", "--out", tmp_path)
    with pytest.raises(CommandError, match="not encoded with this key"):
        run(
            "match-encoded",
            tmp_path / "a.parquet",
            tmp_path / "a.parquet",
            "--key-file",
            other,
            "--out",
            tmp_path / "out",
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("record_id,given_names\n", "has no records"),
        ("record_id,birth_date\n1,1990\n", "column “given_names” is missing"),
        ("record_id,given_names,birth_date\n1,Ana,3 de marzo\n", "row 1, column birth_date"),
    ],
)
def test_bad_input_is_refused_naming_the_file(
    tmp_path: Path, key_file: Path, content: str, message: str
) -> None:
    path = tmp_path / "input.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message) as refused:
        run("encode", path, "--key-file", key_file, "--out", tmp_path / "x.parquet")
    assert "input.csv" in str(refused.value)
    assert not (tmp_path / "x.parquet").exists()


def test_a_bad_key_file_is_refused(tmp_path: Path, files: tuple[Path, Path, set]) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    with pytest.raises(CommandError, match="not a Mirador linkage key"):
        run("encode", files[0], "--key-file", bad, "--out", tmp_path / "x.parquet")
    with pytest.raises(CommandError, match="cannot be read"):
        run("encode", files[0], "--key-file", tmp_path / "absent.key", "--out", tmp_path / "y")


def test_a_file_that_is_not_encodings_is_refused(
    tmp_path: Path, files: tuple[Path, Path, set], key_file: Path
) -> None:
    run("encode", files[0], "--key-file", key_file, "--out", tmp_path / "a.parquet")
    with pytest.raises(CommandError, match="not a file of encodings"):
        run("match-encoded", tmp_path / "a.parquet", files[1], "--out", tmp_path / "out")
    with pytest.raises(CommandError, match="takes 2 file"):
        run("match-encoded", tmp_path / "a.parquet", "--out", tmp_path / "out")
