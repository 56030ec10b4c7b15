"""The client's file of trusted unit keys (no server): where it lives, how it is written, and
that it refuses rather than forgets."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.directory import fingerprint, normalize_fingerprint, same_fingerprint
from crypto.errors import FormatError
from crypto.signing import public_key_text
from wbs.client.api import ClientError
from wbs.client.known import KeyChanged, KnownUnits, Rollback, default_path, site_of


def unit_key() -> tuple[str, str]:
    key = public_key_text(Ed25519PrivateKey.generate())
    return key, fingerprint(key)


def test_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WBS_CLIENT_STATE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "wbs-client" / "known_units.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".config" / "wbs-client" / "known_units.json"
    monkeypatch.setenv("WBS_CLIENT_STATE", str(tmp_path / "mine.json"))
    assert default_path() == tmp_path / "mine.json"


def test_one_pin_per_server_address() -> None:
    assert site_of("https://wbs.example.go.id/") == site_of("http://WBS.example.go.id")
    assert site_of("https://wbs.example.go.id:443") == "wbs.example.go.id"
    assert site_of("http://127.0.0.1:8000/wbs/") == "127.0.0.1:8000/wbs"
    assert site_of("http://127.0.0.1:8000") != site_of("http://127.0.0.1:8001")
    with pytest.raises(ClientError):
        site_of("not a url")


def test_written_atomically_private_and_refuses_change_and_rollback(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "wbs-client" / "known_units.json"
    known = KnownUnits(path)
    url = "http://127.0.0.1:8000"
    key, fp = unit_key()
    assert known.get(url, "demo") is None
    known.remember(url, "demo", key, fp, 3, repin=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    stored = known.get(url + "/", "DEMO")
    assert stored is not None and (stored.fingerprint, stored.version) == (fp, 3)

    known.remember(url, "DEMO", key, fp, 5, repin=False)  # the floor rises
    with pytest.raises(Rollback):
        known.remember(url, "DEMO", key, fp, 4, repin=False)
    other, other_fp = unit_key()
    with pytest.raises(KeyChanged) as changed:
        known.remember(url, "DEMO", other, other_fp, 6, repin=False)
    assert fp in str(changed.value) and f'--fingerprint "{other_fp}"' in str(changed.value)
    assert known.get(url, "DEMO").public_key == key  # type: ignore[union-attr]
    known.remember(url, "DEMO", other, other_fp, 6, repin=True)  # after checking the poster
    assert known.get(url, "DEMO").public_key == other  # type: ignore[union-attr]
    assert known.get("http://127.0.0.1:9999", "DEMO") is None


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b'{"v": 2, "units": {}}',
        b'{"v": 1, "units": []}',
        b'{"v": 1, "units": {"x": {"version": "1"}}}',
        b"\xff",
        b" " * (1 << 20) + b"{}",
    ],
)
def test_a_damaged_file_is_refused_not_overwritten(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "known_units.json"
    path.write_bytes(content)
    known = KnownUnits(path)
    key, fp = unit_key()
    with pytest.raises(ClientError, match="damaged"):
        known.get("http://127.0.0.1:8000", "DEMO")
    with pytest.raises(ClientError, match="damaged"):
        known.remember("http://127.0.0.1:8000", "DEMO", key, fp, 1, repin=False)
    assert path.read_bytes() == content


def test_fingerprint_as_typed_from_a_poster() -> None:
    key, fp = unit_key()
    assert len(fp.split(" ")) == 8 and all(len(g) == 4 for g in fp.split(" "))
    assert same_fingerprint(fp.upper().replace(" ", "-"), key)
    assert not same_fingerprint(unit_key()[1], key)
    assert normalize_fingerprint(f"  {fp}\n") == fp.replace(" ", "")
    for bad in ("", "abcd", fp + " aaaa", fp.replace(fp[0], "1")):
        with pytest.raises(FormatError):
            normalize_fingerprint(bad)


def test_audit_key_pinned_once_and_kept(tmp_path: Path) -> None:
    known = KnownUnits(tmp_path / "state" / "known_units.json")
    url = "http://127.0.0.1:8000"
    first, second = "ab" * 32, "cd" * 32
    # An unknown unit: the key is used for this run but not stored (no directory key yet).
    assert known.pin_audit_key(url, "DEMO", first) == first
    assert not known.path.exists()
    key, fp = unit_key()
    known.remember(url, "DEMO", key, fp, 1, repin=False)
    # A file written before the audit pin existed (no such field) still loads.
    doc = json.loads(known.path.read_text())
    for entry in doc["units"].values():
        del entry["audit_public_key"]
    known.path.write_text(json.dumps(doc))
    assert known.get(url, "DEMO").audit_public_key == ""
    assert known.pin_audit_key(url, "demo", first) == first
    assert known.pin_audit_key(url, "DEMO", second) == first  # the stored key wins
    known.remember(url, "DEMO", key, fp, 2, repin=False)  # a newer directory keeps the pin
    assert known.get(url, "DEMO").audit_public_key == first
