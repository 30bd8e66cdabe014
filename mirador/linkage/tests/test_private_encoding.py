"""Private linkage, encoding: what leaves a country holds no name, date, key or unkeyed hash of
them; the file reads back as written; the hardening flattens what frequency attacks count."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirador.linkage import engine, privacy, privacy_synthetic


@pytest.fixture(scope="module")
def countries() -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]:
    return privacy_synthetic.country_files(700, seed=13)


@pytest.fixture(scope="module")
def key() -> privacy.LinkageKey:
    return privacy.key_parse(privacy.key_generate())


def clear_values(records: pd.DataFrame) -> set[str]:
    """Names, surnames, documents and dates as written and as the engine normalises them."""
    prepared = engine.prepare(records)
    values: set[str] = set()
    for column in ("given_names", "first_surname", "second_surname", "document_number"):
        values.update(str(v) for v in records[column].dropna() if len(str(v)) >= 4)
        values.update(str(v) for v in prepared[column].dropna() if len(str(v)) >= 4)
    full = prepared.dropna(subset=["birth_year", "birth_month", "birth_day"])
    for year, month, day in zip(
        full["birth_year"], full["birth_month"], full["birth_day"], strict=True
    ):
        values.add(f"{year}-{month:02d}-{day:02d}")
        values.add(f"{year}{month:02d}{day:02d}")
        values.add(f"{day:02d}/{month:02d}/{year}")
    return values


def test_the_encoded_file_holds_no_name_date_key_or_unkeyed_hash_of_them(
    tmp_path: Path, countries: tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]
) -> None:
    records = countries[0]
    secret = privacy.key_generate()
    encoded = privacy.encode(records, key=privacy.key_parse(secret))
    path = tmp_path / "hn.parquet"
    privacy.write_encoded(path, encoded)
    content = path.read_bytes()
    values = clear_values(records)
    assert len(values) > 500
    for value in values:
        text = value.encode()
        assert text not in content
        assert text.lower() not in content
        for algorithm in ("md5", "sha1", "sha256", "blake2b"):
            digest = hashlib.new(algorithm, text)
            assert digest.digest() not in content
            assert digest.hexdigest().encode() not in content
    assert bytes.fromhex(secret) not in content
    assert secret.encode() not in content


def unkeyed_filters(
    prepared: pd.DataFrame, schema: privacy.EncodingSchema
) -> dict[str, np.ndarray]:
    """Each record's encoding as an unkeyed hash of its tokens would make it (no salt)."""
    offsets = schema.field_offsets()
    hashes = dict(schema.hashes)
    filters = {}
    for row in prepared.to_dict("records"):
        positions: list[int] = []
        for field_name, token in privacy.record_tokens(row):
            digest = hashlib.blake2b(f"0\x1f{field_name}\x1f{token}".encode()).digest()
            start, bits = offsets[field_name]
            found = np.frombuffer(digest, dtype="<u2")[: hashes[field_name]] & (bits - 1)
            positions.extend((start + found.astype(np.int64)).tolist())
        rows = np.zeros(len(positions), dtype=np.int64)
        filters[str(row["record_id"])] = privacy.pack(
            rows, np.array(positions, dtype=np.int64), 1, schema.filter_bits
        )[0]
    return filters


def test_an_encoding_is_not_the_unkeyed_hash_of_its_tokens(
    countries: tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]], key: privacy.LinkageKey
) -> None:
    prepared = engine.prepare(countries[0].head(200))
    schema = privacy.EncodingSchema(salted=False)
    encoded = privacy.encode(prepared, key=key, schema=schema, prepared=True)
    unkeyed = unkeyed_filters(prepared, schema)
    plain = np.stack([unkeyed[record_id] for record_id in encoded.record_ids])
    same = np.bitwise_count(plain & encoded.bits).sum(axis=1)
    total = np.bitwise_count(plain).sum(axis=1) + privacy.popcounts(encoded.bits)
    dice = 2 * same / total
    # Unrelated filters of this fill share bits only by chance (Dice far below the 1.0 of equal
    # filters).
    assert dice.max() < 0.6


def test_the_key_shows_only_its_fingerprint(key: privacy.LinkageKey) -> None:
    secret = key.derived("encoding").hex()
    assert key.fingerprint in repr(key)
    assert secret not in repr(key) and secret not in str(key)
    assert len(key.fingerprint) == 16
    assert privacy.key_parse(privacy.key_generate()).fingerprint != key.fingerprint


def test_the_file_reads_back_as_written(
    tmp_path: Path,
    countries: tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]],
    key: privacy.LinkageKey,
) -> None:
    encoded = privacy.encode(countries[1], key=key)
    path = tmp_path / "gt.parquet"
    privacy.write_encoded(path, encoded, source="gt.csv")
    read = privacy.read_encoded(path)
    assert read.schema == encoded.schema
    assert read.fingerprint == key.fingerprint
    assert read.records == len(countries[1])
    assert list(read.record_ids) == list(encoded.record_ids)
    assert np.array_equal(read.blocks, encoded.blocks)
    assert np.array_equal(read.bits, encoded.bits)
    assert set(read.record_ids) == set(countries[1]["record_id"])


def test_every_record_is_in_the_file_even_with_nothing_to_block_on(
    key: privacy.LinkageKey,
) -> None:
    records = pd.DataFrame(
        {
            "record_id": ["a", "b"],
            "given_names": ["", "Ana"],
            "first_surname": ["López", "López"],
            "birth_year": [pd.NA, 1990],
        }
    )
    encoded = privacy.encode(records, key=key)
    assert set(encoded.record_ids) == {"a", "b"}
    assert encoded.unblocked == 1
    unblocked = encoded.blocks == privacy.NO_BLOCK
    assert list(encoded.record_ids[unblocked]) == ["a"]
    assert not encoded.bits[unblocked].any()


def test_salting_leaves_no_filter_as_frequent_as_the_name_it_encodes(
    countries: tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]], key: privacy.LinkageKey
) -> None:
    """The frequency attack counts identical filters. Unsalted, every record of the most common
    given name carries one same given-name filter; salted, a filter is shared only within a
    block, so no filter is seen more often than the largest block holds records."""
    records = pd.concat(countries[:2], ignore_index=True)
    prepared = engine.prepare(records)
    given = privacy.EncodingSchema().group_words()["given"]
    most_common_name = int(prepared["given_names"].value_counts().iloc[0])
    counts = {}
    for salted in (False, True):
        schema = privacy.EncodingSchema(salted=salted)
        encoded = privacy.encode(prepared, key=key, schema=schema, prepared=True)
        first = np.unique(encoded.record_ids, return_index=True)[1]
        rows = first if not salted else np.arange(len(encoded))
        _filters, count = np.unique(encoded.bits[rows][:, given], axis=0, return_counts=True)
        counts[salted] = int(count.max())
        largest_block = int(np.unique(encoded.blocks, return_counts=True)[1].max())
    assert counts[False] >= most_common_name
    # Salted, identical filters stay within a block; the largest block itself (22 to 37 rows
    # here, depending on the key) may hold as many rows as the most common name has records.
    assert counts[True] <= largest_block
    assert counts[True] < most_common_name


def test_salting_flattens_the_frequency_of_each_bit_position(
    countries: tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]],
) -> None:
    """Pattern mining starts from bit positions set far more often than the others (those of
    frequent bigrams). Salted, each position's frequency stays near the mean, a few binomial
    standard deviations as if bits were set at random (a record's several rows make it a little
    more), far below the unsalted peaks (tens of deviations). A fixed key keeps it repeatable."""
    key = privacy.LinkageKey(hashlib.sha256(b"flat bit frequencies").digest())
    prepared = engine.prepare(pd.concat(countries[:2], ignore_index=True))
    peaks = {}
    for salted in (False, True):
        schema = privacy.EncodingSchema(salted=salted)
        encoded = privacy.encode(prepared, key=key, schema=schema, prepared=True)
        words = schema.group_words()["given"]
        bits = encoded.bits[encoded.blocks != privacy.NO_BLOCK][:, words]
        plain = np.unpackbits(bits.astype("<u8").view(np.uint8), axis=1, bitorder="little")
        frequency = plain.mean(axis=0)
        mean = float(frequency.mean())
        spread = np.sqrt(mean * (1 - mean) / len(plain))
        peaks[salted] = (float(frequency.max()) - mean) / spread
    assert peaks[True] < 8
    assert peaks[False] > 5 * peaks[True]
