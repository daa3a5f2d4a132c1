"""Password hashes: made for the credentials file, checked at sign-in, judged for production."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

MIN_BCRYPT_COST = 12
HASH_PATTERN = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")


def hash_password(password: str, cost: int = MIN_BCRYPT_COST) -> str:
    """The bcrypt hash to store in a credentials file."""
    import bcrypt

    return bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt(rounds=cost)).decode()


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-8")[:72]  # bcrypt reads 72 bytes; bcrypt 5 refuses longer input


def bcrypt_cost(password_hash: str) -> int:
    return int(password_hash.split("$")[2])


@lru_cache(maxsize=4)
def dummy_hash(cost: int) -> bytes:
    """A hash of a random password at the users' cost: an unknown user name is checked against it,
    so a wrong user name takes as long as a wrong password."""
    import bcrypt

    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))


def verify(password: str, password_hash: bytes) -> bool:
    import bcrypt

    return bcrypt.checkpw(_password_bytes(password), password_hash)
