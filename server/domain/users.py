"""People who use Pantau: roles, what makes a valid username and password, and password hashing
(argon2id, the slow modern hash; ~0.1 s here, so callers in the web layer run it in a thread)."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import PantauError

ROLES = ("admin", "staff", "coordinator", "enumerator")
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
