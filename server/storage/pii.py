"""NIK and No. KK at rest (UU 27/2022): each value is sealed with AES-256-GCM (a fresh 96-bit nonce
per value, the kind "nik"/"kk" as associated data so a sealed KK can never be opened as a NIK) and
found by exact value through an HMAC-SHA256 blind index. Both keys come from one master key
(PANTAU_NIK_KEY, else PANTAU_SECRET_KEY) by HKDF-SHA256 with different labels: the index key cannot
open a value, and a database dump without the master key shows neither the numbers nor (the
index being keyed) which numbers they are. Stored submissions keep NIK and KK answers masked, with
the sealed value beside them (seal_answers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.domain.nik import mask
from server.settings import Settings

Kind = Literal["nik", "kk"]
VERSION = "v1"  # the sealed format: "v1." + base64url(nonce || ciphertext || tag)
_SALT = b"pantau-registry"


@dataclass(frozen=True)
class Keys:
    seal: AESGCM
    index: bytes
    tag: bytes  # the phone's short KK tags (kk_tag_key): another key, so a tag says nothing of the index
    fingerprint: str  # names the key in logs and tests, reveals nothing about it
    # HMAC-SHA256 keyed with `index`, never updated: blind_index copies it, which skips the digest's
    # lookup in OpenSSL that hmac.digest(key, message, "sha256") makes on every call.
    index_mac: Any = None


def _derive(master: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=label).derive(master)


@lru_cache(maxsize=4)
def keys_from(master: str) -> Keys:
    raw = master.encode()
    index = _derive(raw, b"pantau/registry/index/v1")
    return Keys(seal=AESGCM(_derive(raw, b"pantau/registry/seal/v1")),
                index=index, tag=_derive(raw, b"pantau/registry/kk-tag/v1"),
                fingerprint=hashlib.sha256(_derive(raw, b"pantau/registry/fingerprint/v1")).hexdigest()[:12],
                index_mac=hmac.new(index, digestmod=hashlib.sha256))


def keys_of(settings: Settings) -> Keys:
    return keys_from(settings.nik_key or settings.secret_key)


def blind_index(keys: Keys, kind: Kind, digits: str) -> str:
    mac = keys.index_mac.copy()
    mac.update(f"{kind}:{digits}".encode())
    return mac.hexdigest()  # type: ignore[no-any-return]


# --- the phone's shared-KK warning (docs/privacy.md "KK tags") -------------------------------------
KK_TAG_HEX = 5  # 20 bits: a KK typed on the phone matches a wrong person once in about a million per
# person in the copy, while the ~10^8 KKs a kecamatan could issue leave about a hundred candidates
# behind each tag, so a tag does not give a KK back.


def kk_tag_key(keys: Keys, programme: str) -> bytes:
    """The key a phone gets with its copy of one programme's beneficiaries, to tag a KK as it is typed."""
    return hmac.digest(keys.tag, f"programme:{programme}".encode(), "sha256")


def kk_tag(tag_key: bytes, digits: str) -> str:
    """What static/js/dupcheck.js computes from a typed KK with the same key (HMAC-SHA256, hex, cut)."""
    return hmac.digest(tag_key, digits.encode(), "sha256").hex()[:KK_TAG_HEX]


def seal(keys: Keys, kind: Kind, digits: str) -> str:
    nonce = os.urandom(12)
    sealed = keys.seal.encrypt(nonce, digits.encode(), kind.encode())
    return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def seal_bytes(keys: Keys, name: str, data: bytes) -> bytes:
    """A file holding NIKs (an uploaded list, its check) sealed as the numbers are: AES-256-GCM, a
    fresh nonce, and its name as associated data, so one job's file never opens as another's."""
    nonce = os.urandom(12)
    return nonce + keys.seal.encrypt(nonce, data, f"file:{name}".encode())


def open_bytes(keys: Keys, name: str, sealed: bytes) -> bytes:
    return keys.seal.decrypt(sealed[:12], sealed[12:], f"file:{name}".encode())


def open_sealed(keys: Keys, kind: Kind, sealed: str) -> str:
    """The digits, or raises cryptography's InvalidTag when the key or the kind is wrong."""
    version, _, body = sealed.partition(".")
    if version != VERSION:
        raise ValueError(f"unknown sealed format {version!r}")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return keys.seal.decrypt(raw[:12], raw[12:], kind.encode()).decode()


# --- NIK and KK answers of stored submissions ---------------------------------------------------
ID_TYPES: dict[str, Kind] = {"nik": "nik", "no_kk": "kk"}


class SealedAnswer(msgspec.Struct, frozen=True, kw_only=True):
    path: str  # "nik", or in a repeat "anggota[2]/nik_art" (1-based, like validation paths)
    kind: Kind
    index: str
    sealed: str


_HELD = msgspec.json.Decoder(dict[str, tuple[str, str]])


def held(sealed: list[SealedAnswer]) -> str:
    """A submission's sealed answers as its `sealed` column keeps them (m0025): {path: [kind, sealed]}
    as JSON, "" for none. A column of the submission row, not a row each with an index entry of its
    own: they are only ever read with their submission (review.sealed_values, keyring)."""
    return msgspec.json.encode({a.path: (a.kind, a.sealed) for a in sealed}).decode() if sealed else ""


def held_answers(column: str) -> dict[str, tuple[Kind, str]]:
    """path -> (kind, sealed value) from a submission's `sealed` column (held's inverse)."""
    if not column:
        return {}
    return {path: ("kk" if kind == "kk" else "nik", value) for path, (kind, value) in _HELD.decode(column).items()}


class IdFields(msgspec.Struct, frozen=True):
    """A form's NIK/KK questions (name -> kind) and its repeats: all that seal_answers looks at.
    Made once per form version (id_fields) and kept by the caller with the form."""

    kinds: dict[str, Kind]
    repeats: tuple[str, ...]


def id_fields(types: Mapping[str, str]) -> IdFields:
    """From a form's field name -> type."""
    return IdFields({n: ID_TYPES[t] for n, t in types.items() if t in ID_TYPES},
                    tuple(n for n, t in types.items() if t == "repeat"))


def seal_answers(fields: IdFields, answers: dict[str, Any], keys: Keys,
                 by_value: dict[tuple[Kind, str], SealedAnswer] | None = None
                 ) -> tuple[dict[str, Any], list[SealedAnswer]]:
    """The answers as they are stored: every NIK and KK masked (domain/nik.mask), with the sealed
    value beside them (the submission's `sealed` column, see held). Validation already ran on the
    plain values, and the content hash was taken from them, so retries are still recognised.
    by_value, when given, gets each sealing under (kind, plain digits), for a caller that stores the
    same number again (the registered person's NIK and KK) without sealing and indexing it twice."""
    sealed: list[SealedAnswer] = []
    kinds, repeats = fields.kinds, fields.repeats

    def visit(values: dict[str, Any], prefix: str) -> dict[str, Any]:
        out = dict(values)  # only the NIK/KK answers and the repeats holding some are looked at
        for name, kind in kinds.items():
            value = values.get(name)
            if isinstance(value, str) and len(value) == 16 and value.isdigit():
                answer = SealedAnswer(path=prefix + name, kind=kind, index=blind_index(keys, kind, value),
                                      sealed=seal(keys, kind, value))
                sealed.append(answer)
                if by_value is not None:
                    by_value.setdefault((kind, value), answer)
                out[name] = mask(value)
        for name in repeats:
            value = values.get(name)
            if isinstance(value, list):
                out[name] = [visit(item, f"{prefix}{name}[{i + 1}]/") if isinstance(item, dict) else item
                             for i, item in enumerate(value)]
        return out

    return visit(answers, ""), sealed

