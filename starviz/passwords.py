"""Password hashes: made for the credentials file, checked at sign-in, judged for production.

New hashes are Argon2id at OWASP's recommended configuration (Password Storage Cheat Sheet: 19 MiB of
memory, 2 iterations, 1 lane), through argon2-cffi. Argon2id is memory-hard: each guess an attacker
makes against a stolen credentials file needs 19 MiB of fast memory, which is what limits GPUs and
ASICs, while a sign-in costs this server about 25 ms of CPU (bcrypt at cost 12 took 260 ms here, so
20 people signing in at once queued for seconds on two cores). bcrypt hashes (cost 12 or more in
production) are still accepted and are replaced by an Argon2id hash at the user's next successful
sign-in (:func:`needs_rehash`, ``auth.sign_in``). Nothing weaker than OWASP's minimum is accepted:
see :func:`weakness`.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

# OWASP's Argon2id configurations, all equally strong (memory in KiB, iterations; 1 lane): the first
# is the one recommended and used for new hashes; a hash at or above any of them is accepted.
OWASP_ARGON2ID = ((19456, 2), (47104, 1), (12288, 3), (9216, 4), (7168, 5))
MEMORY_KIB, ITERATIONS, LANES = 19456, 2, 1
MIN_BCRYPT_COST = 12  # production's floor for a bcrypt hash not yet replaced (OWASP's is 10)

_BCRYPT = re.compile(r"\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}")
_ARGON2ID = re.compile(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}")


def is_hash(text: str) -> bool:
    """Whether ``text`` is a password hash this module checks (Argon2id or bcrypt), not a password."""
    return bool(_ARGON2ID.fullmatch(text) or _BCRYPT.fullmatch(text))


@lru_cache(maxsize=1)
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=ITERATIONS, memory_cost=MEMORY_KIB, parallelism=LANES)


def hash_password(password: str) -> str:
    """The Argon2id hash to store in a credentials file."""
    return _hasher().hash(password)


def bcrypt_hash(password: str, cost: int = MIN_BCRYPT_COST) -> str:
    """A bcrypt hash (for tests and systems that need bcrypt; new hashes are Argon2id)."""
    import bcrypt

    return bcrypt.hashpw(_bcrypt_bytes(password), bcrypt.gensalt(rounds=cost)).decode()


def _bcrypt_bytes(password: str) -> bytes:
    return password.encode("utf-8")[:72]  # bcrypt reads 72 bytes; bcrypt 5 refuses longer input


def bcrypt_cost(password_hash: str) -> int | None:
    match = _BCRYPT.fullmatch(password_hash)
    return int(match.group(1)) if match else None


def verify(password: str, password_hash: str) -> bool:
    """Whether ``password`` is the one hashed; in constant time for the hash's parameters."""
    if _BCRYPT.fullmatch(password_hash):
        import bcrypt

        return bcrypt.checkpw(_bcrypt_bytes(password), password_hash.encode())
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """A hash that is not Argon2id at today's parameters: replaced at the next successful sign-in."""
    return bool(_BCRYPT.fullmatch(password_hash)) or _hasher().check_needs_rehash(password_hash)


def weakness(password_hash: str) -> str | None:
    """Why production refuses this hash, or None: a bcrypt cost under :data:`MIN_BCRYPT_COST`, or
    Argon2id parameters under every OWASP configuration."""
    if (cost := bcrypt_cost(password_hash)) is not None:
        return None if cost >= MIN_BCRYPT_COST else f"bcrypt cost {cost}, at least {MIN_BCRYPT_COST} needed"
    match = _ARGON2ID.fullmatch(password_hash)
    if match is None:
        return "not an Argon2id or bcrypt hash"
    memory, iterations, lanes = map(int, match.groups())
    if lanes >= 1 and any(memory >= m and iterations >= t for m, t in OWASP_ARGON2ID):
        return None
    return (
        f"Argon2id with {memory} KiB, {iterations} iteration(s), {lanes} lane(s) is under OWASP's minimum "
        f"({MEMORY_KIB} KiB, {ITERATIONS} iterations, {LANES} lane, or an equivalent)"
    )


def kind(password_hash: str) -> str:
    """The scheme and parameters of a hash, without its salt: hashes of one kind cost the same to check."""
    return password_hash[: password_hash.index("$", 4 if password_hash.startswith("$2") else 20)]


NEW_KIND = f"$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={LANES}"


@lru_cache(maxsize=8)
def dummy_hash(of_kind: str = NEW_KIND) -> str:
    """A hash of a random password of the kind ``of_kind`` (see :func:`kind`): an unknown user name is
    checked against one of the kind most users have, so a wrong user name takes as long as a wrong
    password."""
    secret = secrets.token_urlsafe(16)
    if of_kind.startswith("$2"):
        return bcrypt_hash(secret, int(of_kind[-2:]))
    from argon2 import PasswordHasher

    memory, iterations, lanes = map(int, re.findall(r"[mtp]=(\d+)", of_kind))
    return PasswordHasher(time_cost=iterations, memory_cost=memory, parallelism=lanes).hash(secret)
