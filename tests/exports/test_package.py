"""Signed packages: a good one verifies; any change to it fails and names the entry."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from crypto.signing import SigningKey
from tests.exports.reports import DEFINITIONS, report
from wbs.exports import formats, package
from wbs.exports.package import MANIFEST, SIGNATURE, PackageInvalid, verify

MASTER = b"export-test-master-secret-" + b"m" * 20
KEY = package.unit_key(MASTER, "DEMO")
OTHER = package.unit_key(MASTER, "LAIN")


def figures(public: bool = True) -> formats.Figures:
    return formats.check_report(report(public=public), DEFINITIONS, public=public)


def build(fmt: str, key: SigningKey = KEY) -> bytes:
    return package.build(figures(), fmt, key)


def entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(i.filename, archive.read(i)) for i in archive.infolist()]


def rezip(items: list[tuple[str, bytes]]) -> bytes:
    """What a careful forger does: a well-formed canonical ZIP around changed entries."""
    return package.write_zip(items, datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC))


def failure(data: bytes, key: bytes | None = KEY.public_raw) -> PackageInvalid:
    with pytest.raises(PackageInvalid) as caught:
        verify(data, key)
    return caught.value


def replace(data: bytes, name: str, content: bytes) -> bytes:
    return rezip([(n, content if n == name else c) for n, c in entries(data)])


@pytest.mark.parametrize("fmt", package.FORMATS)
def test_a_package_verifies_and_is_reproducible(fmt: str) -> None:
    data = build(fmt)
    assert build(fmt) == data  # the same figures: the same bytes, signature included
    result = verify(data, KEY.public_raw)
    names = [f.name for f in result.files]
    assert names == package.file_names(fmt)
    assert [n for n, _ in entries(data)] == [*names, MANIFEST, SIGNATURE]
    assert result.unit == "DEMO" and result.period == "2026" and result.public
    assert result.pinned and result.key_id == KEY.fingerprint
    assert result.figures == len(figures().rows)
    assert result.consistent == tuple(n for n in names if n.endswith((".csv", ".xlsx")))
    manifest = json.loads(dict(entries(data))[MANIFEST])
    assert manifest["key"] == {
        "algorithm": "Ed25519",
        "id": KEY.fingerprint,
        "public_key": KEY.public_text,
    }
    assert manifest["suppressed_below"] == 5 and manifest["public"] is True
    # anyone can check the signature with standard tools: Ed25519 over manifest.json's bytes
    raw = dict(entries(data))
    KEY._private.public_key().verify(raw[SIGNATURE], raw[MANIFEST])


def test_unpinned_verification_says_so_and_another_pinned_key_fails() -> None:
    data = build("csv")
    assert verify(data).pinned is False
    problem = failure(data, OTHER.public_raw)
    assert problem.entry == SIGNATURE and OTHER.fingerprint in problem.problem.en


def test_a_package_signed_by_another_key_fails_against_the_unit_key() -> None:
    assert failure(build("json", OTHER)).entry == SIGNATURE


# --------------------------------------------------------------------------- single bytes


def _regions(data: bytes) -> dict[str, list[int]]:
    """Offsets of one byte in each part of each entry, by the ZIP's own directory."""
    found: dict[str, list[int]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        start = archive.start_dir  # type: ignore[attr-defined]
    for info in infos:
        header = info.header_offset
        body = header + 30 + len(info.filename)
        found[f"{info.filename} local header"] = [header + 10, header + 30]  # time, name
        found[f"{info.filename} content"] = [
            body,
            body + info.file_size // 2,
            body + info.file_size - 1,
        ]
    found["central directory"] = [start + 12, start + 46]
    found["end record"] = [len(data) - 22 + 8, len(data) - 2]
    return found


def test_every_single_byte_change_of_a_package_fails() -> None:
    data = build("json")
    for offset in range(len(data)):
        for flip in (0x01, 0x80):
            changed = bytearray(data)
            changed[offset] ^= flip
            with pytest.raises(PackageInvalid):
                verify(bytes(changed), KEY.public_raw)
    assert failure(data + b"\x00").entry == "zip"  # a byte added at the end
    assert failure(b"\x00" + data).entry != ""  # or in front


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_changed_byte_in_each_part_fails_naming_the_entry(fmt: str) -> None:
    data = build(fmt)
    for part, offsets in _regions(data).items():
        for offset in offsets:
            changed = bytearray(data)
            changed[offset] ^= 0x20
            problem = failure(bytes(changed))
            name = part.split(" ")[0]
            if part.endswith("content") or part.endswith("local header"):
                assert problem.entry in (name, "zip"), (part, problem)
            assert problem.problem.en and problem.problem.id


@pytest.mark.parametrize("name", ["indikator.json", "indikator.xlsx", MANIFEST, SIGNATURE])
def test_changed_content_with_a_correct_crc_still_fails_naming_the_entry(name: str) -> None:
    data = build("xlsx")
    content = dict(entries(data))[name]
    changed = bytearray(content)
    changed[len(changed) // 2] ^= 0x01
    problem = failure(replace(data, name, bytes(changed)))
    assert problem.entry in ((MANIFEST, SIGNATURE) if name == MANIFEST else (name,))


def test_a_crc_mismatch_names_the_entry() -> None:
    data = build("csv")
    body = dict(entries(data))["indikator.csv"]
    at = data.index(body)
    changed = bytearray(data)
    changed[at + 100] ^= 0x01
    problem = failure(bytes(changed))
    assert problem.entry == "indikator.csv" and "CRC" in problem.problem.en


# --------------------------------------------------------------------------- edits


def test_reordered_csv_rows_fail() -> None:
    data = build("csv")
    lines = dict(entries(data))["indikator.csv"].decode().split("\r\n")
    lines[1], lines[2] = lines[2], lines[1]
    problem = failure(replace(data, "indikator.csv", "\r\n".join(lines).encode()))
    assert problem.entry == "indikator.csv" and "SHA-256" in problem.problem.en


def test_swapped_xlsx_sheets_fail() -> None:
    data = build("xlsx")
    book = load_workbook(io.BytesIO(dict(entries(data))["indikator.xlsx"]))
    book.move_sheet("WBS", offset=-1)  # WBS before Pengaduan
    out = io.BytesIO()
    book.save(out)
    problem = failure(replace(data, "indikator.xlsx", out.getvalue()))
    assert problem.entry == "indikator.xlsx"
    assert "differs from the manifest" in problem.problem.en  # its size or its SHA-256


def test_an_added_or_removed_entry_fails_naming_it() -> None:
    data = build("csv")
    items = entries(data)
    added = failure(rezip([*items[:-2], ("catatan.txt", b"x"), *items[-2:]]))
    assert added.entry == "catatan.txt" and "manifest" in added.problem.en
    removed = failure(rezip([i for i in items if i[0] != "indikator.csv"]))
    assert removed.entry == "indikator.csv" and "missing" in removed.problem.en
    no_signature = failure(rezip(items[:-1]))
    assert no_signature.entry == SIGNATURE
    reordered = failure(rezip([items[1], items[0], *items[2:]]))
    assert reordered.entry in ("indikator.csv", "indikator.json")


def test_a_consistently_signed_package_whose_csv_disagrees_with_its_json_fails() -> None:
    """The extra check: even with the right key, the CSV must say what the JSON says."""
    f = figures()
    csv_bytes = formats.to_csv(f).replace(b",33,", b",34,", 1)
    data = package.seal(
        f, [("indikator.json", formats.to_json(f)), ("indikator.csv", csv_bytes)], KEY
    )
    problem = failure(data)
    assert problem.entry == "indikator.csv" and "differs from indikator.json" in problem.problem.en


def test_a_signed_xlsx_with_swapped_sheets_fails_the_consistency_check() -> None:
    f = figures()
    book = load_workbook(io.BytesIO(formats.to_xlsx(f, package.FORMAT)))
    book.move_sheet("Total", offset=-2)
    out = io.BytesIO()
    book.save(out)
    data = package.seal(
        f, [("indikator.json", formats.to_json(f)), ("indikator.xlsx", out.getvalue())], KEY
    )
    problem = failure(data)
    assert problem.entry == "indikator.xlsx" and "swapped" in problem.problem.en


# --------------------------------------------------------------------------- hostile ZIPs


def _raw_zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "name", ["../manifest.json", "/etc/passwd", "a/../../b.json", "data\\x.json", "Indikator.JSON"]
)
def test_unsafe_entry_names_are_refused(name: str) -> None:
    items = entries(build("json"))
    problem = failure(_raw_zip([(name, b"x"), *items]))
    assert "unsafe" in problem.problem.en


def test_duplicate_names_are_refused() -> None:
    items = entries(build("json"))
    with pytest.warns(UserWarning):  # zipfile warns about the duplicate it writes
        data = _raw_zip([*items, ("indikator.json", b"{}")])
    problem = failure(data)
    assert problem.entry == "indikator.json" and "duplicate" in problem.problem.en


def test_a_huge_declared_size_is_refused_before_reading() -> None:
    items = entries(build("json"))
    data = bytearray(_raw_zip([("indikator.json", b"{}"), *items[1:]]))
    first = data.index(b"PK\x01\x02")  # the central directory entry of indikator.json
    struct.pack_into("<I", data, first + 24, 0xFFFFFFFF)  # uncompressed size: 4 GiB - 1
    problem = failure(bytes(data))
    assert problem.entry == "indikator.json" and "declared size" in problem.problem.en


def test_a_zip_bomb_member_is_refused_without_inflating_it() -> None:
    bomb = b"\x00" * (package.MAX_ENTRY_BYTES + 1)
    data = _raw_zip([("indikator.json", bomb)], zipfile.ZIP_DEFLATED)
    assert len(data) < 200_000
    problem = failure(data)
    assert problem.entry == "indikator.json" and "declared size" in problem.problem.en


def test_compressed_members_are_refused() -> None:
    items = entries(build("json"))
    problem = failure(_raw_zip(items, zipfile.ZIP_DEFLATED))
    assert "compressed" in problem.problem.en


def test_too_many_entries_and_not_a_zip() -> None:
    assert failure(_raw_zip([(f"f{i}.json", b"") for i in range(20)])).entry == "zip"
    assert failure(b"PK\x03\x04 not really").entry == "zip"
    assert failure(b"x" * (package.MAX_PACKAGE_BYTES + 1)).entry == "zip"


def test_a_non_canonical_manifest_fails_even_when_signed() -> None:
    f = figures()
    files = [("indikator.json", formats.to_json(f))]
    good = entries(package.seal(f, files, KEY))
    manifest = json.loads(good[1][1])
    pretty = json.dumps(manifest, indent=1).encode()
    data = rezip([good[0], (MANIFEST, pretty), (SIGNATURE, KEY.sign(pretty))])
    assert failure(data).entry == MANIFEST


# --------------------------------------------------------------------------- the key


def test_the_signing_key_never_shows_its_private_half() -> None:
    key = package.unit_key(MASTER, "DEMO")
    private = key._private.private_bytes_raw()
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert private.hex() not in shown and "***" in shown
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert package.unit_key(MASTER, "DEMO").public_raw == key.public_raw
    assert package.unit_key(MASTER, "LAIN").public_raw != key.public_raw
