"""Private linkage across countries: keyed Bloom-filter encodings of person records, the file
two countries exchange, and matching on the encodings alone (Dice similarity within blocks).

Each country runs `encode` on its own records with the key of its exchange agreement; only the
encoded file leaves the country. Whoever matches (ideally a linkage unit that does not hold the
key) runs `match` on two encoded files and gets pairs and clusters of record ids, as the
plaintext engine gives. No Django here, like `engine`: the command, tests and benchmarks share
these functions.

The encoding of a record (see docs/private-linkage.md for why each measure is there):
1. The engine's normalisation first (`engine.prepare`: accents, particles, nicknames, two
   surnames split), so that the regional variants the plaintext engine tolerates still meet.
2. Tokens: bigrams of each given name and of each surname (both surnames in one field, so that
   swapped surnames give the same tokens), the year, month and day of birth and the day and month
   as an unordered pair (a swapped day and month still agree on it), sex, bigrams of the
   document number.
3. Blocks: each record is placed in up to seven blocks (a surname by sound with the year, for
   each surname; the given name by sound with the year; the given name and each surname by
   sound; the full date with day and month unordered; the document number). A block's id is a
   keyed hash of its values cut to `bucket_bits` bits, so that each block mixes several values
   and its size says little.
4. One encoding per record and block: four Bloom filters side by side (given names, surnames,
   date of birth with sex, document), salted with the block: each token's
   `k` bit positions come from BLAKE2b keyed with a key derived from the agreement's key, over
   the block, the field and the token (independent positions, not double hashing). The same name
   sets different bits in different blocks, so the frequency of a bit pattern across the whole
   file means nothing, and the records sharing one mapping (one block) are too few to mine.
5. Matching compares the encodings of each shared block (Dice of each filter on packed bits),
   keeps each pair of records' best Dice per filter, and estimates a Fellegi-Sunter model of
   their levels by expectation maximisation, as the plaintext engine does.
6. Nothing else leaves: no name, no date, no unkeyed hash of either, no key (the schema carries
   only a keyed fingerprint of it).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mirador.linkage import engine

SCHEMA_NAME = "mirador-clk"
SCHEMA_VERSION = 1
KEY_BYTES = 32
KEY_ENVIRONMENT = "MIRADOR_LINKAGE_KEY"
DEFAULT_THRESHOLD = engine.DEFAULT_THRESHOLD
# Bytes a candidate pair takes while it is scored (two row indices, the Dice, the kept rows).
BYTES_PER_CANDIDATE = 40
PAIR_CHUNK = 1 << 20
ENCODED_COLUMNS = ("record_id", "block", "encoding")
# The block of a record with nothing to block on (no name by sound, no year): it is in the file,
# so that every record read is accounted for, with an empty filter, and is compared with nothing.
NO_BLOCK = 0xFFFFFFFF

# Bit positions set per token, by field: names and the date weigh most, sex least. A field's
# share of the filter's bits is what weighs it in the Dice similarity (Durham et al. 2013).
DEFAULT_HASHES = {"g": 14, "s": 14, "y": 30, "m": 14, "d": 14, "dm": 14, "x": 6, "n": 4}
FIELD_NAMES = {
    "g": "given names (bigrams)",
    "s": "surnames (bigrams)",
    "y": "year of birth",
    "m": "month of birth",
    "d": "day of birth",
    "dm": "day and month of birth, unordered",
    "x": "sex",
    "n": "document number (bigrams)",
}
# Filters of one encoding: the names, the date of birth with sex, the document number. Compared
# apart, so that a missing document or a dropped surname costs only its own filter's similarity.
DEFAULT_GROUPS = (
    ("given", 512, ("g",)),
    ("surnames", 512, ("s",)),
    ("birth", 256, ("y", "m", "d", "dm", "x")),
    ("document", 256, ("n",)),
)
# Block kinds: which normalised values put a record in a block.
BLOCK_KINDS = {
    "sy": "a surname by sound and the year of birth (one block per surname)",
    "gy": "the first given name by sound and the year of birth",
    "gs": "the first given name and a surname, by sound (one block per surname)",
    "dt": "the full date of birth, day and month unordered",
    "nd": "the document number",
}


# --- Errors --------------------------------------------------------------------------------------


class PrivateLinkageError(engine.LinkageError):
    """A failure of private linkage the caller can act on; `code` says which (see
    `mirador link` for the sentences in the user's language)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.code = code


# --- Keys ----------------------------------------------------------------------------------------


class LinkageKey:
    """The long-term secret of one exchange agreement (32 random bytes). Its text form never
    appears in a repr, a log line or an encoded file; derived keys do the work, so that the
    encoding, the blocks and the fingerprint never share one key."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise PrivateLinkageError(
                "bad_key", f"a linkage key is {KEY_BYTES} bytes ({KEY_BYTES * 2} hex digits)"
            )
        self._secret = secret

    def __repr__(self) -> str:
        return f"LinkageKey(fingerprint={self.fingerprint})"

    __str__ = __repr__

    def derived(self, purpose: str) -> bytes:
        return hashlib.blake2b(
            purpose.encode(), key=self._secret, digest_size=32, person=b"mirador-linkage"
        ).digest()

    @property
    def fingerprint(self) -> str:
        """A keyed digest that names the key: equal for the same key, and of no use to guess it."""
        return hashlib.blake2b(
            b"fingerprint", key=self._secret, digest_size=8, person=b"mirador-linkage"
        ).hexdigest()


def key_generate() -> str:
    """A new key for an exchange agreement, as the text of a key file (64 hex digits)."""
    return secrets.token_hex(KEY_BYTES)


def key_parse(text: str) -> LinkageKey:
    """A key from the text of a key file or variable: 64 hex digits, lines starting with # and
    blank space ignored."""
    lines = [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]
    compact = "".join("".join(lines).split())
    try:
        secret = bytes.fromhex(compact)
    except ValueError:
        raise PrivateLinkageError(
            "bad_key", "the key is not 64 hexadecimal digits (make one with `mirador link keygen`)"
        ) from None
    return LinkageKey(secret)


def key_read(*, path: Path | None = None, environment: str = KEY_ENVIRONMENT) -> LinkageKey:
    """The key from a file, or else from an environment variable."""
    if path is not None:
        try:
            return key_parse(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise PrivateLinkageError(
                "key_unreadable",
                f"{path}: the key file cannot be read ({error.strerror or type(error).__name__})",
                file=str(path),
            ) from None
    text = os.environ.get(environment, "")
    if not text.strip():
        raise PrivateLinkageError(
            "no_key", f"no key: give a key file or set {environment}", variable=environment
        )
    return key_parse(text)


def key_write(path: Path, text: str) -> None:
    """Write a new key file readable by its owner only; never over an existing file."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(
            "# Mirador private-linkage key: keep it secret, never send it with encoded files.\n"
        )
        handle.write(text + "\n")


# --- The schema ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodingSchema:
    """How records are encoded; two files can be matched only if their schemas are equal (and
    their keys the same, which the fingerprint shows). A record's encoding in a block is one
    Bloom filter per group of fields (`groups`: name, bits, fields), side by side."""

    groups: tuple[tuple[str, int, tuple[str, ...]], ...] = DEFAULT_GROUPS
    qgram: int = 2
    hashes: tuple[tuple[str, int], ...] = tuple(DEFAULT_HASHES.items())
    blocks: tuple[str, ...] = tuple(BLOCK_KINDS)
    bucket_bits: int = 10
    # Salting each filter with its block (off only to measure what the salting buys).
    salted: bool = True
    name: str = SCHEMA_NAME
    version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        for _name, bits, _fields in self.groups:
            if bits < 64 or bits > 65536 or bits & (bits - 1):
                raise ValueError("a filter has a power of two of bits, from 64 to 65536")
        grouped = [f for _name, _bits, fields in self.groups for f in fields]
        if len(grouped) != len(set(grouped)) or set(grouped) != {f for f, _k in self.hashes}:
            raise ValueError("each field is in exactly one group")
        if not 0 < self.bucket_bits <= 24:
            raise ValueError("bucket_bits must be from 1 to 24")
        if any(not 0 < k <= 32 for _field, k in self.hashes):
            raise ValueError("each field sets 1 to 32 bits per token")
        unknown = set(self.blocks) - set(BLOCK_KINDS)
        if unknown:
            raise ValueError(f"unknown block kinds: {', '.join(sorted(unknown))}")

    @property
    def filter_bits(self) -> int:
        """Bits of one encoding: its filters side by side."""
        return sum(bits for _name, bits, _fields in self.groups)

    @property
    def words(self) -> int:
        return self.filter_bits // 64

    def group_words(self) -> dict[str, slice]:
        """Each filter's 64-bit words within an encoding."""
        slices: dict[str, slice] = {}
        start = 0
        for name, bits, _fields in self.groups:
            slices[name] = slice(start, start + bits // 64)
            start += bits // 64
        return slices

    def field_offsets(self) -> dict[str, tuple[int, int]]:
        """Each field's (first bit of its filter, the filter's bits)."""
        offsets: dict[str, tuple[int, int]] = {}
        start = 0
        for _name, bits, fields in self.groups:
            for name in fields:
                offsets[name] = (start, bits)
            start += bits
        return offsets

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["hashes"] = dict(self.hashes)
        data["blocks"] = list(self.blocks)
        data["groups"] = [[name, bits, list(fields)] for name, bits, fields in self.groups]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingSchema:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "hashes" in values:
            values["hashes"] = tuple((str(k), int(v)) for k, v in dict(values["hashes"]).items())
        if "blocks" in values:
            values["blocks"] = tuple(values["blocks"])
        if "groups" in values:
            values["groups"] = tuple(
                (str(name), int(bits), tuple(fields)) for name, bits, fields in values["groups"]
            )
        return cls(**values)


# --- Tokens and blocks ---------------------------------------------------------------------------


def _qgrams(value: str, q: int) -> list[str]:
    padded = f"_{value}_"
    return [padded[i : i + q] for i in range(len(padded) - q + 1)]


def _value(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def record_tokens(row: dict[str, Any], *, q: int = 2) -> list[tuple[str, str]]:
    """The (field, token) pairs a normalised record (a row of `engine.prepare`) is encoded from;
    repeated tokens count once, as in a Bloom filter."""
    tokens: set[tuple[str, str]] = set()
    for name in _value(row, "given_names").split():
        tokens.update(("g", gram) for gram in _qgrams(name, q))
    for column in ("first_surname", "second_surname"):
        surname = _value(row, column)
        if surname:
            tokens.update(("s", gram) for gram in _qgrams(surname, q))
    year, month, day = (_value(row, c) for c in ("birth_year", "birth_month", "birth_day"))
    if year:
        tokens.add(("y", year))
    if month:
        tokens.add(("m", month))
    if day:
        tokens.add(("d", day))
    if month and day:
        tokens.add(("dm", "-".join(sorted((month.zfill(2), day.zfill(2))))))
    sex = _value(row, "sex")
    if sex:
        tokens.add(("x", sex))
    document = _value(row, "document_number")
    if document:
        tokens.update(("n", gram) for gram in _qgrams(document, q))
    return sorted(tokens)


def record_blocks(row: dict[str, Any], kinds: Sequence[str]) -> list[tuple[str, str]]:
    """The (kind, value) blocks of a normalised record; a block whose values are missing is left
    out (a record with nothing to block on is in no block, and said so by `encode`)."""
    given = _value(row, "given_1_ph")
    year = _value(row, "birth_year")
    surnames = sorted({_value(row, c) for c in ("first_surname_ph", "second_surname_ph")} - {""})
    document = _value(row, "document_number")
    blocks: list[tuple[str, str]] = []
    for kind in kinds:
        if kind == "nd" and document:
            blocks.append(("nd", document))
        elif kind == "sy" and year:
            blocks.extend(("sy", f"{surname}|{year}") for surname in surnames)
        elif kind == "gy" and given and year:
            blocks.append(("gy", f"{given}|{year}"))
        elif kind == "gs" and given:
            blocks.extend(("gs", f"{given}|{surname}") for surname in surnames)
        elif kind == "dt":
            month, day = _value(row, "birth_month"), _value(row, "birth_day")
            if year and month and day:
                blocks.append(("dt", f"{year}|{'-'.join(sorted((month.zfill(2), day.zfill(2))))}"))
    return blocks


# The columns of `engine.prepare` that encoding reads.
ENCODED_INPUT = (
    "record_id",
    "given_names",
    "given_1_ph",
    "first_surname",
    "second_surname",
    "first_surname_ph",
    "second_surname_ph",
    "birth_year",
    "birth_month",
    "birth_day",
    "sex",
    "document_number",
)


# --- Encoding ------------------------------------------------------------------------------------


@dataclass
class EncodedRecords:
    """Encoded records as exchanged: one row per record and block (`record_ids`, `blocks`, and
    `bits`, the filters packed into little-endian 64-bit words), the schema and the key's
    fingerprint."""

    record_ids: np.ndarray  # object array of str
    blocks: np.ndarray  # uint32: the block's kind (high bits) and bucket (low bucket_bits)
    bits: np.ndarray  # uint64, shape (rows, filter_bits / 64)
    schema: EncodingSchema
    fingerprint: str
    records: int = 0
    unblocked: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.record_ids)


def block_id(key: LinkageKey, schema: EncodingSchema, kind: str, value: str) -> int:
    """The block's kind in the high bits, a keyed hash of its value cut to `bucket_bits` bits
    in the low ones."""
    digest = hashlib.blake2b(
        f"{kind}\x1f{value}".encode(), key=key.derived("blocking"), digest_size=4
    ).digest()
    bucket = int.from_bytes(digest, "little") & ((1 << schema.bucket_bits) - 1)
    return (list(BLOCK_KINDS).index(kind) << schema.bucket_bits) | bucket


def pack(rows: np.ndarray, positions: np.ndarray, count: int, filter_bits: int) -> np.ndarray:
    """Filters of `count` rows with bit `positions[n]` set in row `rows[n]`, packed into
    little-endian uint64 words (bit p in word p // 64, bit p % 64)."""
    packed = np.zeros((count, filter_bits // 64), dtype=np.uint64)
    step = max(1, (1 << 26) // filter_bits)
    if len(rows) > 1 and bool((rows[1:] < rows[:-1]).any()):
        order = np.argsort(rows, kind="stable")
        rows, positions = rows[order], positions[order]
    for begin in range(0, count, step):
        end = min(begin + step, count)
        low, high = np.searchsorted(rows, [begin, end])
        plain = np.zeros((end - begin) * filter_bits, dtype=np.uint8)
        plain[(rows[low:high] - begin) * filter_bits + positions[low:high]] = 1
        packed[begin:end] = (
            np.packbits(plain.reshape(end - begin, filter_bits), axis=1, bitorder="little")
            .view("<u8")
            .astype(np.uint64)
        )
    return packed


def _hash_positions(
    key: LinkageKey, schema: EncodingSchema, items: Sequence[tuple[int, str, str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Bit positions (within the whole encoding) of each (salt, field, token) from keyed BLAKE2b
    (32 columns, of which the first `k` of the token's field count), and those `k`."""
    encoding_key = key.derived("encoding")
    hashes = dict(schema.hashes)
    offsets = schema.field_offsets()
    if not items:
        return np.zeros((0, 32), dtype=np.int64), np.zeros(0, dtype=np.int64)
    digests = b"".join(
        hashlib.blake2b(
            f"{salt}\x1f{field_name}\x1f{token}".encode(), key=encoding_key, digest_size=64
        ).digest()
        for salt, field_name, token in items
    )
    table = np.frombuffer(digests, dtype="<u2").reshape(len(items), 32).astype(np.int64)
    fields = [field_name for _salt, field_name, _token in items]
    k = np.array([hashes[f] for f in fields], dtype=np.int64)
    start = np.array([offsets[f][0] for f in fields], dtype=np.int64)
    bits = np.array([offsets[f][1] for f in fields], dtype=np.int64)
    table = start[:, None] + (table & (bits[:, None] - 1))
    return table, k


def encode(
    records: pd.DataFrame,
    *,
    key: LinkageKey,
    schema: EncodingSchema | None = None,
    prepared: bool = False,
) -> EncodedRecords:
    """Encode records (the plaintext engine's input columns) for private linkage. Raises the
    engine's InputError on bad input (empty, a missing column, a bad date), naming the row."""
    schema = schema or EncodingSchema()
    frame = records if prepared else engine.prepare(records)
    # Per record: its tokens (numbered once over the file) and its blocks; per row (a record in
    # a block): the record and the salt. Only the distinct (salt, token) are hashed.
    token_names: dict[tuple[str, str], int] = {}
    record_token_codes: list[int] = []
    tokens_per_record: list[int] = []
    row_record: list[int] = []
    row_block: list[int] = []
    block_cache: dict[tuple[str, str], int] = {}
    unblocked = 0
    for number, row in enumerate(frame[list(ENCODED_INPUT)].to_dict("records")):
        tokens = record_tokens(row, q=schema.qgram)
        kinds = record_blocks(row, schema.blocks)
        tokens_per_record.append(len(tokens) if kinds else 0)
        if not kinds:
            unblocked += 1
            row_record.append(number)
            row_block.append(NO_BLOCK)
            continue
        record_token_codes.extend(token_names.setdefault(t, len(token_names)) for t in tokens)
        for kind, value in kinds:
            block = block_cache.get((kind, value))
            if block is None:
                block = block_cache[(kind, value)] = block_id(key, schema, kind, value)
            row_record.append(number)
            row_block.append(block)
    rows_of_record = np.asarray(row_record, dtype=np.int64)
    blocks = np.asarray(row_block, dtype=np.uint32)
    counts = np.asarray(tokens_per_record, dtype=np.int64)
    first_token = np.cumsum(counts) - counts
    # Every (row, token of the row's record).
    per_row = counts[rows_of_record]
    token_row = np.repeat(np.arange(len(rows_of_record)), per_row)
    offset = np.arange(int(per_row.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(per_row) - per_row, per_row
    )
    codes = np.asarray(record_token_codes, dtype=np.int64)
    token_code = codes[first_token[rows_of_record][token_row] + offset]
    salts = blocks.astype(np.int64) if schema.salted else np.zeros(len(blocks), dtype=np.int64)
    combined = salts[token_row] * max(len(token_names), 1) + token_code
    distinct, numbers = np.unique(combined, return_inverse=True)
    names = list(token_names)
    items = [
        (int(value // max(len(names), 1)), *names[int(value % max(len(names), 1))])
        for value in distinct
    ]
    table, k = _hash_positions(key, schema, items)
    used = np.arange(table.shape[1])[None, :] < k[numbers, None]
    positions = table[numbers][used]
    rows = np.repeat(token_row, k[numbers])
    ids = frame[engine.RECORD_ID].astype(str).to_numpy(dtype=object)[rows_of_record]
    return EncodedRecords(
        record_ids=ids,
        blocks=blocks,
        bits=pack(rows, positions, len(ids), schema.filter_bits),
        schema=schema,
        fingerprint=key.fingerprint,
        records=len(frame),
        unblocked=unblocked,
    )


# --- The exchanged file --------------------------------------------------------------------------

METADATA_KEY = b"mirador.private_linkage"


def write_encoded(path: Path, encoded: EncodedRecords, *, source: str = "") -> None:
    """A Parquet file: columns record_id (string), block (uint32), encoding (fixed-size binary
    of filter_bits / 8 bytes, little-endian words); the schema, the key fingerprint and counts in
    the file's metadata under `mirador.private_linkage`. Written to a temporary name and moved
    into place, so a file is whole or absent."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    width = encoded.schema.filter_bits // 8
    flat = np.ascontiguousarray(encoded.bits.astype("<u8")).view(np.uint8).reshape(-1)
    encodings = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), len(encoded), [None, pa.py_buffer(flat.tobytes())]
    )
    table = pa.table(
        {
            "record_id": pa.array(encoded.record_ids.tolist(), type=pa.string()),
            "block": pa.array(encoded.blocks, type=pa.uint32()),
            "encoding": encodings,
        }
    )
    metadata = {
        "schema": encoded.schema.as_dict(),
        "key_fingerprint": encoded.fingerprint,
        "records": encoded.records,
        "rows": len(encoded),
        "unblocked_records": encoded.unblocked,
        "source": source,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    temporary = path.with_name(f".{path.name}.partial")
    pq.write_table(table, temporary)
    temporary.replace(path)


def read_encoded(path: Path) -> EncodedRecords:
    """An encoded file written by `write_encoded`; PrivateLinkageError naming what is wrong."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise PrivateLinkageError(
            "not_encoded", f"{path}: not an encoded file ({reason})", file=str(path), reason=reason
        ) from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    missing = [c for c in ENCODED_COLUMNS if c not in table.column_names]
    if raw is None or missing:
        raise PrivateLinkageError(
            "not_encoded",
            f"{path}: not an encoded file of Mirador (no schema or no {', '.join(missing)})",
            file=str(path),
            reason="no schema",
        )
    try:
        metadata = json.loads(raw)
        schema = EncodingSchema.from_dict(metadata["schema"])
    except (ValueError, KeyError, TypeError) as error:
        raise PrivateLinkageError(
            "not_encoded",
            f"{path}: the encoding schema cannot be read",
            file=str(path),
            reason=type(error).__name__,
        ) from None
    column = table.column("encoding").combine_chunks()
    width = schema.filter_bits // 8
    if not pa.types.is_fixed_size_binary(column.type) or column.type.byte_width != width:
        raise PrivateLinkageError(
            "not_encoded",
            f"{path}: encodings are not {width} bytes as the schema says",
            file=str(path),
            reason="width",
        )
    buffer = column.buffers()[1]
    flat = np.frombuffer(buffer, dtype=np.uint8, count=(column.offset + len(column)) * width)
    bits = flat[column.offset * width :].view("<u8").reshape(len(column), schema.words)
    if column.null_count or table.column("record_id").null_count:
        raise PrivateLinkageError(
            "not_encoded",
            f"{path}: some rows have no record id or encoding",
            file=str(path),
            reason="nulls",
        )
    return EncodedRecords(
        record_ids=np.array(table.column("record_id").to_pylist(), dtype=object),
        blocks=table.column("block").to_numpy().astype(np.uint32),
        bits=bits.astype(np.uint64),
        schema=schema,
        fingerprint=str(metadata.get("key_fingerprint", "")),
        records=int(metadata.get("records", 0)),
        unblocked=int(metadata.get("unblocked_records", 0)),
        metadata=metadata,
    )


# --- Dice on packed bits -------------------------------------------------------------------------


def popcounts(bits: np.ndarray) -> np.ndarray:
    return np.bitwise_count(bits).sum(axis=1, dtype=np.int32)


_LANES_16 = np.uint64(0x00FF00FF00FF00FF)
_ONES_16 = np.uint64(0x0001000100010001)


def _row_sums(counted: np.ndarray) -> np.ndarray:
    """Sum of each row of bit counts ((n, k) uint8, each at most 64), by eight counts at a time
    as the bytes of 64-bit words (three words' worth per byte before it could pass 255), where
    numpy's own sum along a short row takes several times longer."""
    n, k = counted.shape
    if k * 64 >= 1 << 16:
        return counted.sum(axis=1, dtype=np.int64)
    if k % 8:
        counted = np.concatenate([counted, np.zeros((n, 8 - k % 8), np.uint8)], axis=1)
    lanes = np.ascontiguousarray(counted).view(np.uint64)
    total = np.zeros(n, dtype=np.uint64)
    for start in range(0, lanes.shape[1], 3):
        part = lanes[:, start].copy()
        for column in range(start + 1, min(start + 3, lanes.shape[1])):
            part += lanes[:, column]
        total += (part & _LANES_16) + ((part >> np.uint64(8)) & _LANES_16)
    return ((total * _ONES_16) >> np.uint64(48)).astype(np.int64)


def _intersections(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """|a AND b| of each row of `left` with the same row of `right` (both (n, words))."""
    return _row_sums(np.bitwise_count(np.bitwise_and(left, right)))


def dice_pairs(
    left: np.ndarray,
    right: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    *,
    left_counts: np.ndarray | None = None,
    right_counts: np.ndarray | None = None,
    threads: int = 2,
    chunk: int = 1 << 16,
) -> np.ndarray:
    """Dice coefficients 2|a AND b| / (|a| + |b|) of the pairs (left[i[n]], right[j[n]]), in
    chunks over `threads` threads (numpy releases the GIL while it counts bits). Two empty filters
    have Dice 0."""
    left_counts = popcounts(left) if left_counts is None else left_counts
    right_counts = popcounts(right) if right_counts is None else right_counts
    out = np.empty(len(i), dtype=np.float32)

    def work(start: int) -> None:
        a, b = i[start : start + chunk], j[start : start + chunk]
        shared = _intersections(np.take(left, a, axis=0), np.take(right, b, axis=0))
        total = left_counts[a] + right_counts[b]
        out[start : start + chunk] = np.divide(
            2 * shared, total, out=np.zeros(len(a), dtype=np.float32), where=total > 0
        )

    starts = range(0, len(i), chunk)
    if threads > 1 and len(i) > chunk:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, starts))
    else:
        for start in starts:
            work(start)
    return out


# Cost of checking one candidate pair exactly (gathering both encodings, AND, bit count), in
# units of one column of the product for one pair (about 150 ns against 0.025 ns, and a margin).
_CHECK_COST = 8000.0
# Below this many pairs, no sample is taken to choose the leading words: all words lead.
_SAMPLE_FROM_PAIRS = 1 << 22
_SAMPLE_ROWS, _SAMPLE_COLUMNS = 128, 2048
# Column tiles unpacked at once (2048 columns each: about 190 MB of float32 for 1 536 bits).
_BLOCK_TILES = 32


def _unpacked(bits: np.ndarray, words: np.ndarray, scale: float, extra: np.ndarray) -> np.ndarray:
    """The bits of `words` of each row as float32 0 or `scale`, then the columns of `extra`."""
    plain = np.unpackbits(
        np.ascontiguousarray(bits[:, words]).view(np.uint8), axis=1, bitorder="little"
    )
    out = np.empty((len(bits), plain.shape[1] + extra.shape[1]), dtype=np.float32)
    np.multiply(plain, np.float32(scale), out=out[:, : plain.shape[1]])
    out[:, plain.shape[1] :] = extra
    return out


def _at_or_above_zero(values: np.ndarray, group: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the entries >= 0 of a 2-D array where they are few: the maximum of
    each column over groups of `group` rows first (one pass, vectorised), then only the groups
    that reach 0, where `np.nonzero` of the whole would take several times longer."""
    height, width = values.shape
    if height % group:
        i, j = np.nonzero(values >= 0)
        return i, j
    grouped = values.reshape(height // group, group, width)
    g, j = np.nonzero(grouped.max(axis=1) >= 0)
    within, at = np.nonzero(grouped[g, :, j] >= 0)
    return g[within] * group + at, j[within]


def _slack(rest: np.ndarray, counts: np.ndarray, threshold: float, margin: int) -> np.ndarray:
    """Each row's |rest| - floor(t·|a|) (+ margin): what the rest of its words can still bring
    to 2|a AND b| beyond the need, as integers (see `dice_all`)."""
    return rest.astype(np.float64) - np.floor(threshold * counts.astype(np.float64)) + margin


def _lead_count(
    left: np.ndarray,
    right: np.ndarray,
    order: np.ndarray,
    threshold: float,
    counts: tuple[np.ndarray, np.ndarray],
) -> int:
    """How many words (taken in `order`) lead: the count whose columns of the product plus the
    exact checks of the pairs it lets through cost least, measured on a sample of pairs (rows
    and columns spread over the bit counts)."""
    words = left.shape[1]
    if len(left) * len(right) < _SAMPLE_FROM_PAIRS or words == 1:
        return words
    rows = np.unique(np.linspace(0, len(left) - 1, min(_SAMPLE_ROWS, len(left))).astype(np.int64))
    columns = np.unique(
        np.linspace(0, len(right) - 1, min(_SAMPLE_COLUMNS, len(right))).astype(np.int64)
    )
    a, b = left[rows][:, order], right[columns][:, order]
    ca, cb = counts[0][rows], counts[1][columns]
    # Twice the intersection of the leading words, from all words down.
    per_word = [np.bitwise_count(a[:, w, None] & b[None, :, w]) for w in range(words)]
    doubled = 2 * np.sum(per_word, axis=0, dtype=np.int32)
    bits = a.itemsize * 8
    rest_a, rest_b = np.zeros(len(a)), np.zeros(len(b))
    best, best_cost = words, float(words * bits + 2)
    for lead in range(words - 1, 0, -1):
        doubled -= 2 * per_word[lead]
        rest_a += np.bitwise_count(a[:, lead])
        rest_b += np.bitwise_count(b[:, lead])
        slack_a = _slack(rest_a, ca, threshold, 2)
        slack_b = _slack(rest_b, cb, threshold, 0)
        share = np.count_nonzero(doubled + slack_a[:, None] >= -slack_b[None, :]) / doubled.size
        cost = lead * bits + 2 + share * _CHECK_COST
        if cost < best_cost:
            best, best_cost = lead, cost
        if share > 0.05:
            break
    return best


def _compiled_kernel() -> Any:
    """The all-pairs loop compiled by numba (`dice_kernel`, imported on first use: numba
    compiles it once per machine and keeps it on disk)."""
    from mirador.linkage import dice_kernel

    return dice_kernel.all_pairs


def _as_words(bits: np.ndarray) -> np.ndarray:
    """Packed bits as rows of 64-bit words (bytes of zeros added to fill the last word)."""
    if bits.dtype == np.uint64:
        return np.ascontiguousarray(bits)
    raw = np.ascontiguousarray(bits).view(np.uint8).reshape(len(bits), -1)
    padded = np.zeros((len(bits), -(-raw.shape[1] // 8) * 8), dtype=np.uint8)
    padded[:, : raw.shape[1]] = raw
    return padded.view(np.uint64)


def _dice_compiled(
    a: np.ndarray,
    b: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    threshold: float,
    threads: int,
    rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of the bands (sorted rows), by the compiled loop, `rows` rows a task."""
    kernel = _compiled_kernel()
    a, b = _as_words(a), _as_words(b)
    widths = np.maximum(high - low, 0)
    # Tasks of `rows` rows, or fewer where their bands hold over `room` pairs (each task's output
    # has room for all of them: allocated, not written, so it costs only what is found).
    room = max(1 << 21, int(widths.max(initial=0)))
    tops: list[tuple[int, int]] = []
    top = 0
    while top < len(a):
        ends = np.cumsum(widths[top : top + rows])
        stop = top + max(1, int(np.searchsorted(ends, room, side="right")))
        tops.append((top, stop))
        top = stop
    block = max(64, (1 << 17) // (a.shape[1] * 8))

    def rows_of(span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        top, stop = span
        size = int(widths[top:stop].sum())
        out_i, out_j = np.empty(size, np.int64), np.empty(size, np.int64)
        out_s = np.empty(size, np.int64)
        written = kernel(a, b, ca, cb, low, high, threshold, top, stop, block, out_i, out_j, out_s)
        return out_i[:written], out_j[:written], out_s[:written]

    if threads > 1:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(rows_of, tops))
    else:
        parts = [rows_of(span) for span in tops]
    empty = np.empty(0, np.int64)
    return tuple(np.concatenate([empty, *[p[n] for p in parts]]) for n in range(3))  # type: ignore[return-value]


def dice_all(
    left: np.ndarray,
    right: np.ndarray,
    threshold: float,
    *,
    threads: int = 2,
    rows: int = 1024,
    columns: int = 2048,
    lead_words: int | None = None,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of `left` × `right` ((n, words) and (m, words) of packed bits, any unsigned
    integer type) with Dice 2|a AND b| / (|a| + |b|) at or above `threshold`: (row, column,
    Dice as float32), sorted by row then column. Two empty filters have no Dice and are never
    returned. Exactly the pairs and values of comparing every pair one by one, either way:

    Rows and columns are sorted by bit count, and pairs whose counts alone rule the threshold
    out (Dice <= 2·min/(|a|+|b|)) skipped. `method="compiled"` (what "auto" takes when numba
    can be had): every remaining pair by a loop compiled by numba (`dice_kernel`: popcounts of
    64-bit words, a block of columns at a time for tasks of up to `rows` rows, on `threads`
    threads). numpy alone cannot keep a pair's words in registers: each of AND, count and sum is
    a pass over memory, several times slower than anonlink's C++ loop.

    `method="product"`, numpy only: a pair reaches t only if 2|a AND b| >= t(|a| + |b|). The
    words that tell pairs apart best (bits set in about half the filters) lead; the others are
    the rest. For the leading words |a AND b| is counted exactly for whole tiles of pairs at
    once, as a product of matrices of 0/1 (float32, whose sums of integers below 2^24 are exact:
    BLAS, one thread per tile); the rest can add at most min(|a rest|, |b rest|) <=
    (|a rest| + |b rest|) / 2, so 2|lead AND| + |a rest| + |b rest| >= t|a| + t|b| is
    necessary. Folded into the product as two more columns of integers (floor(t|a|) and
    floor(t|b|), two below to spare for rounding), the product itself is the test, >= 0. The
    few pairs it lets through are checked exactly on all their words. How many words lead is
    chosen on a sample of pairs (fewer leading words cost less product but let more pairs
    through); `lead_words` fixes it. Tiles of `rows` × `columns` pairs on `threads` threads."""
    if left.ndim != 2 or right.ndim != 2 or left.shape[1] != right.shape[1]:
        raise ValueError("dice_all takes two (rows, words) arrays of the same width")
    if left.dtype != right.dtype or left.dtype.kind != "u":
        raise ValueError("dice_all takes packed bits as unsigned integers of one type")
    threshold = float(threshold)
    if not np.isfinite(threshold):
        raise ValueError("the threshold must be a number")
    if left.shape[1] * left.itemsize * 8 > 1 << 22:
        raise ValueError("dice_all takes filters of at most 4 194 304 bits")
    if not len(left) or not len(right) or not left.shape[1]:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    if len(left) > len(right):
        # The smaller side is the one unpacked whole (the other is, by blocks).
        columns_out, rows_out, dice = dice_all(
            right,
            left,
            threshold,
            threads=threads,
            rows=rows,
            columns=columns,
            lead_words=lead_words,
            method=method,
        )
        by_pair = np.lexsort((columns_out, rows_out))
        return rows_out[by_pair], columns_out[by_pair], dice[by_pair]
    words = left.shape[1]
    left_counts = popcounts(left).astype(np.int64)
    right_counts = popcounts(right).astype(np.int64)
    order_l = np.argsort(left_counts, kind="stable")
    order_r = np.argsort(right_counts, kind="stable")
    a_sorted, ca = np.ascontiguousarray(left[order_l]), left_counts[order_l]
    b_sorted, cb = np.ascontiguousarray(right[order_r]), right_counts[order_r]
    if 0 < threshold <= 1:
        # |b| must lie in [t/(2-t)·|a|, (2-t)/t·|a|] for Dice to reach t.
        low = np.searchsorted(cb, np.ceil(threshold / (2 - threshold) * ca - 1e-6), side="left")
        high = np.searchsorted(cb, np.floor((2 - threshold) / threshold * ca + 1e-6), "right")
    else:
        low, high = np.zeros(len(ca), np.int64), np.full(len(ca), len(cb), np.int64)
    if method == "auto":
        method = "compiled" if _numba_available() else "product"
    if method == "compiled":
        i, j, shared = _dice_compiled(
            a_sorted, b_sorted, ca, cb, low, high, threshold, threads, rows
        )
        return _found(i, j, shared, ca, cb, order_l, order_r)
    if method != "product":
        raise ValueError("method is 'auto', 'compiled' or 'product'")
    # Words by how well they tell pairs apart: p(1 - p) of their bits' share set.
    density = (
        np.bitwise_count(left).sum(axis=0, dtype=np.float64)
        + np.bitwise_count(right).sum(axis=0, dtype=np.float64)
    ) / ((len(left) + len(right)) * left.itemsize * 8)
    by_use = np.argsort(-(density * (1 - density)), kind="stable")
    lead = (
        _lead_count(a_sorted, b_sorted, by_use, threshold, (ca, cb))
        if lead_words is None
        else max(1, min(int(lead_words), words))
    )
    leading, rest = np.sort(by_use[:lead]), np.sort(by_use[lead:])
    rest_a = popcounts(a_sorted[:, rest]).astype(np.int64) if len(rest) else np.zeros(len(ca))
    rest_b = popcounts(b_sorted[:, rest]).astype(np.int64) if len(rest) else np.zeros(len(cb))
    # Row i of `a` · row j of `b` = 2|lead AND| + slack_a[i] + slack_b[j]: integers, exact.
    ones_a, ones_b = np.ones((len(ca), 1)), np.ones((len(cb), 1))
    a_extra = np.hstack([_slack(rest_a, ca, threshold, 2)[:, None], ones_a])
    b_extra = np.hstack([ones_b, _slack(rest_b, cb, threshold, 0)[:, None]])
    empty = np.empty(0, np.int64)
    row_tiles = list(range(0, len(ca), rows))
    all_column_tiles = list(range(0, len(cb), columns))
    column_tiles = list(all_column_tiles)
    a_parts: dict[int, np.ndarray] = {}
    b_parts: dict[int, np.ndarray] = {}

    def unpack_a(top: int) -> None:
        a_parts[top] = _unpacked(
            a_sorted[top : top + rows], leading, 2.0, a_extra[top : top + rows]
        )

    def unpack_b(begin: int) -> None:
        end = begin + columns
        b_parts[begin] = _unpacked(b_sorted[begin:end], leading, 1.0, b_extra[begin:end])

    def row_tile(top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bottom = min(top + rows, len(ca))
        first, last = int(low[top]), int(high[bottom - 1])
        part = a_parts[top]
        found_i: list[np.ndarray] = []
        found_j: list[np.ndarray] = []
        for begin in column_tiles:
            end = min(begin + columns, len(cb))
            if end <= first or begin >= last:
                continue
            i, j = _at_or_above_zero(part @ b_parts[begin].T)
            found_i.append(i + top)
            found_j.append(j + begin)
        return checked(np.concatenate([empty, *found_i]), np.concatenate([empty, *found_j]))

    def checked(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Exactly, on all words, what the bound let through (in slices, to bound memory).
        kept = [(empty, empty, empty)]
        for start in range(0, len(i), 1 << 16):
            x, y = i[start : start + (1 << 16)], j[start : start + (1 << 16)]
            shared = _intersections(np.take(a_sorted, x, axis=0), np.take(b_sorted, y, axis=0))
            total = ca[x] + cb[y]
            keep = (2 * shared >= threshold * total) & (total > 0)
            kept.append((x[keep], y[keep], shared[keep]))
        return tuple(np.concatenate([k[n] for k in kept]) for n in range(3))  # type: ignore[return-value]

    from threadpoolctl import threadpool_limits

    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    pool = concurrent.futures.ThreadPoolExecutor(threads) if threads > 1 else None
    run = pool.map if pool is not None else map
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            list(run(unpack_a, row_tiles))
            # The columns by blocks, unpacked once each, so that memory stays bounded.
            for block in range(0, len(all_column_tiles), _BLOCK_TILES):
                b_parts.clear()
                column_tiles[:] = all_column_tiles[block : block + _BLOCK_TILES]
                list(run(unpack_b, column_tiles))
                found.extend(run(row_tile, row_tiles))
    finally:
        if pool is not None:
            pool.shutdown()
    i, j, shared = (np.concatenate([f[n] for f in found]) for n in range(3))
    return _found(i, j, shared, ca, cb, order_l, order_r)


def _found(
    i: np.ndarray,
    j: np.ndarray,
    shared: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
    order_l: np.ndarray,
    order_r: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of sorted rows with their intersections as (row, column, Dice) of the inputs,
    sorted by row then column."""
    total = ca[i] + cb[j]
    dice = (2 * shared / total).astype(np.float32)
    rows_out, columns_out = order_l[i].astype(np.int64), order_r[j].astype(np.int64)
    by_pair = np.lexsort((columns_out, rows_out))
    return rows_out[by_pair], columns_out[by_pair], dice[by_pair]


def _numba_available() -> bool:
    """Whether the compiled loop can be had (numba installed, for this numpy, and able to
    compile); otherwise `dice_all` takes the product of matrices."""
    try:
        from mirador.linkage import dice_kernel  # noqa: F401
    except Exception:  # noqa: BLE001 (an ImportError, or numba unable to set up its cache)
        return False
    return True


# --- Matching ------------------------------------------------------------------------------------

# Levels of a filter's Dice similarity, from agreement to none (the lower bound of each).
DICE_LEVELS = (0.98, 0.92, 0.86, 0.8, 0.72, 0.62, 0.5, 0.0)
EM_ITERATIONS = 60
M_FLOOR = 0.001


@dataclass
class PrivateOutcome:
    """Pairs of records (one from each file) above the threshold with their match probability
    and weight and the best Dice of each filter over the blocks they share; clusters at the
    threshold; the model estimated (m and u of each filter's Dice level); figures of the run."""

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    threshold: float
    candidates: int
    records: tuple[int, int]
    model: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def check_compatible(left: EncodedRecords, right: EncodedRecords) -> None:
    """Refuse two files encoded with different keys or schemas: their filters cannot be
    compared (every pair would look different)."""
    if left.schema != right.schema:
        raise PrivateLinkageError(
            "schema_mismatch",
            "the two files were encoded with different schemas and cannot be compared",
        )
    if left.fingerprint != right.fingerprint:
        raise PrivateLinkageError(
            "key_mismatch",
            "the two files were encoded with different keys and cannot be compared",
        )


def _common_blocks(
    left_blocks: np.ndarray, right_blocks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order_l = np.argsort(left_blocks, kind="stable")
    order_r = np.argsort(right_blocks, kind="stable")
    blocks_l, start_l, counts_l = np.unique(
        left_blocks[order_l], return_index=True, return_counts=True
    )
    blocks_r, start_r, counts_r = np.unique(
        right_blocks[order_r], return_index=True, return_counts=True
    )
    common, at_l, at_r = np.intersect1d(blocks_l, blocks_r, return_indices=True)
    blocked = common != NO_BLOCK
    at_l, at_r = at_l[blocked], at_r[blocked]
    return (
        order_l,
        order_r,
        start_l[at_l].astype(np.int64),
        counts_l[at_l].astype(np.int64),
        start_r[at_r].astype(np.int64),
        counts_r[at_r].astype(np.int64),
    )


def candidate_count(left_blocks: np.ndarray, right_blocks: np.ndarray) -> int:
    """How many encoding pairs blocking would compare (the sum over blocks of their sizes'
    product), counted without making them."""
    *_orders, _sa, na, _sb, nb = _common_blocks(left_blocks, right_blocks)
    return int((na * nb).sum())


def block_pairs(
    left_blocks: np.ndarray, right_blocks: np.ndarray, *, chunk: int = PAIR_CHUNK
) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """Every (left row, right row) in the same block, in chunks of about `chunk` pairs."""
    order_l, order_r, sa, na, sb, nb = _common_blocks(left_blocks, right_blocks)
    sizes = na * nb
    begin = 0
    while begin < len(sizes):
        end = begin + max(1, int(np.searchsorted(np.cumsum(sizes[begin:]), chunk)))
        end = min(end, len(sizes))
        part = sizes[begin:end]
        which = np.repeat(np.arange(begin, end), part)
        local = np.arange(int(part.sum()), dtype=np.int64) - np.repeat(np.cumsum(part) - part, part)
        i = sa[which] + local // nb[which]
        j = sb[which] + local % nb[which]
        yield order_l[i], order_r[j]
        begin = end


def dice_levels(dice: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """Level of each Dice (0 the highest, see DICE_LEVELS); -1 where a filter is empty (the
    field is missing on one side: neither agreement nor disagreement)."""
    bounds = np.array(DICE_LEVELS[:-1], dtype=np.float32)
    levels = np.searchsorted(-bounds, -dice, side="right").astype(np.int8)
    return np.where(empty, np.int8(-1), levels)


def estimate(levels: np.ndarray, *, iterations: int = EM_ITERATIONS) -> dict[str, Any]:
    """Fellegi-Sunter m and u of each filter's Dice levels and the share of matches among the
    candidate pairs, by expectation maximisation on the candidates' level patterns (no hand-set
    weights). `levels` is (pairs, filters), -1 for missing."""
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    counts = counts.astype(np.float64)
    filters = levels.shape[1]
    depth = len(DICE_LEVELS)
    start = np.linspace(0.6, 0.01, depth)
    m = np.tile(start / start.sum(), (filters, 1))
    u = np.tile(start[::-1] / start.sum(), (filters, 1))
    prior = 0.1
    for _iteration in range(iterations):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for f in range(filters):
            known = patterns[:, f] >= 0
            log_m[known] += np.log(m[f, patterns[known, f]])
            log_u[known] += np.log(u[f, patterns[known, f]])
        odds = np.log(prior) - np.log1p(-prior) + log_m - log_u
        posterior = 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))
        weight_m = posterior * counts
        weight_u = (1.0 - posterior) * counts
        prior = float(np.clip(weight_m.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        for f in range(filters):
            known = patterns[:, f] >= 0
            for table, weights in ((m, weight_m), (u, weight_u)):
                totals = np.bincount(patterns[known, f], weights=weights[known], minlength=depth)
                totals = np.maximum(totals / max(totals.sum(), 1e-300), M_FLOOR)
                table[f] = totals / totals.sum()
    return {"prior": prior, "m": m.tolist(), "u": u.tolist(), "levels": list(DICE_LEVELS)}


def match_weights(levels: np.ndarray, model: dict[str, Any]) -> np.ndarray:
    """Match weight (log2 odds) of each pair from its levels and the model."""
    m, u = np.asarray(model["m"]), np.asarray(model["u"])
    prior = float(model["prior"])
    weight = np.full(len(levels), np.log2(prior / (1 - prior)))
    for f in range(levels.shape[1]):
        known = levels[:, f] >= 0
        weight[known] += np.log2(m[f, levels[known, f]] / u[f, levels[known, f]])
    return weight


def match(
    left: EncodedRecords,
    right: EncodedRecords,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_pairs: int | None = None,
    sources: tuple[str, str] = ("left", "right"),
    threads: int = 2,
    progress: engine.Progress | None = None,
    check: bool = True,
) -> PrivateOutcome:
    """Pairs and clusters of the records of two encoded files, from their encodings alone:
    the Dice of each filter for every pair of encodings in a shared block, its best per pair of
    records, a Fellegi-Sunter model of their levels estimated on the candidates, pairs at or
    above `threshold` match probability."""
    import time

    started = time.perf_counter()
    say = progress or (lambda message: None)
    if check:
        check_compatible(left, right)
    if not 0 < threshold <= 1:
        raise PrivateLinkageError(
            "bad_threshold", "the threshold must be a probability above 0 and at most 1"
        )
    candidates = candidate_count(left.blocks, right.blocks)
    limit = (
        max_pairs
        if max_pairs is not None
        else max(engine.default_max_pairs() * engine.BYTES_PER_PAIR // BYTES_PER_CANDIDATE, 1)
    )
    say(f"blocking would compare {candidates:,} pairs of encodings")
    if candidates > limit:
        raise engine.TooManyPairsError(candidates, limit)
    groups = left.schema.group_words()
    names = list(groups)
    counts_l = {g: popcounts(left.bits[:, w]) for g, w in groups.items()}
    counts_r = {g: popcounts(right.bits[:, w]) for g, w in groups.items()}
    parts_l = {g: np.ascontiguousarray(left.bits[:, w]) for g, w in groups.items()}
    parts_r = {g: np.ascontiguousarray(right.bits[:, w]) for g, w in groups.items()}
    # Record numbers, so that pairs of encodings become pairs of records.
    ids_l, record_l = np.unique(left.record_ids.astype(str), return_inverse=True)
    ids_r, record_r = np.unique(right.record_ids.astype(str), return_inverse=True)
    say("comparing encodings (Dice)")
    chunks: list[pd.DataFrame] = []
    for i, j in block_pairs(left.blocks, right.blocks):
        columns: dict[str, np.ndarray] = {
            "l": record_l[i].astype(np.int64),
            "r": record_r[j].astype(np.int64),
        }
        for g in names:
            dice = dice_pairs(
                parts_l[g],
                parts_r[g],
                i,
                j,
                left_counts=counts_l[g],
                right_counts=counts_r[g],
                threads=threads,
            )
            # -1 marks a filter empty on either side (the field missing).
            empty = (counts_l[g][i] == 0) | (counts_r[g][j] == 0)
            columns[g] = np.where(empty, np.float32(-1), dice)
        chunk = pd.DataFrame(columns).groupby(["l", "r"], sort=False).max()
        chunks.append(chunk)
    compared = time.perf_counter()
    say("estimating the model (expectation maximisation)")
    if chunks:
        best = pd.concat(chunks).groupby(level=[0, 1], sort=False).max()
        shared = pd.concat([c.iloc[:, :1] for c in chunks]).groupby(level=[0, 1]).size()
        best["blocks_shared"] = shared.reindex(best.index).to_numpy()
    else:
        best = pd.DataFrame(
            {g: pd.Series(dtype=np.float32) for g in [*names, "blocks_shared"]},
            index=pd.MultiIndex.from_arrays([[], []], names=["l", "r"]),
        )
    values = best[names].to_numpy(dtype=np.float32)
    levels = dice_levels(values, values < 0)
    model = estimate(levels) if len(levels) else {}
    weights = match_weights(levels, model) if len(levels) else np.empty(0)
    probability = 1.0 / (1.0 + np.power(2.0, -weights))
    keep = probability >= threshold
    index_l = best.index.get_level_values(0).to_numpy()[keep]
    index_r = best.index.get_level_values(1).to_numpy()[keep]
    pairs = pd.DataFrame(
        {
            "record_id_l": pd.array(ids_l[index_l], dtype="string"),
            "record_id_r": pd.array(ids_r[index_r], dtype="string"),
            "source_l": pd.array([sources[0]] * int(keep.sum()), dtype="string"),
            "source_r": pd.array([sources[1]] * int(keep.sum()), dtype="string"),
            "match_probability": probability[keep].round(6),
            "match_weight": weights[keep].round(3),
            **{
                f"dice_{g}": np.where(values[keep, n] < 0, np.nan, values[keep, n]).round(4)
                for n, g in enumerate(names)
            },
            "blocks_shared": best["blocks_shared"].to_numpy()[keep].astype(int),
        }
    )
    pairs = pairs.sort_values(
        ["match_probability", "record_id_l", "record_id_r"],
        ascending=[False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    frames = [
        pd.DataFrame({engine.SOURCE: source, engine.RECORD_ID: pd.Series(ids, dtype="string")})
        for ids, source in ((ids_l, sources[0]), (ids_r, sources[1]))
    ]
    clusters = engine._clusters(frames, pairs, threshold)
    if model:
        model = {**model, "filters": names, "candidate_record_pairs": len(best)}
    finished = time.perf_counter()
    return PrivateOutcome(
        pairs=pairs,
        clusters=clusters,
        threshold=threshold,
        candidates=candidates,
        records=(len(ids_l), len(ids_r)),
        model=model,
        seconds={"compare": compared - started, "total": finished - started},
    )
