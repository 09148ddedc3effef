"""Local accounts of the review workspace: users with a role, argon2 password hashes, sessions.

A session is a random token; only its sha256 is stored, with the user, a CSRF token and the time it
was last used, so logging out or disabling a user ends it on the server, and an idle one expires.
Web pages and the JSON API use the same sessions (kind 'web' from the login form, 'api' from
POST /api/login).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from extractor.store.schema import sessions, users

ROLES = ("viewer", "reviewer", "admin")
ROLE_LABELS = {"viewer": "查看者", "reviewer": "审核员", "admin": "管理员"}
# what each role may do: every role reads; reviewers upload, decide and correct; admins also manage
PERMISSIONS = {
    "read": {"viewer", "reviewer", "admin"},
    "upload": {"reviewer", "admin"},
    "decide": {"reviewer", "admin"},
    "correct": {"reviewer", "admin"},
    "admin": {"admin"},
}
MIN_PASSWORD = 8
_NAME = re.compile(r"^[^\s/\\<>&\"']{1,64}$")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")  # verified when the user is unknown: same timing


class AccountError(ValueError):
    """An account action that cannot be done (bad name, short password, unknown user); one-line message."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    active: bool
    created_at: str

    def may(self, action: str) -> bool:
        return self.active and self.role in PERMISSIONS[action]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(row) -> User:
    return User(row.id, row.name, row.role, bool(row.active), row.created_at)


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")


def add_user(conn: Connection, name: str, role: str, password: str) -> User:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise AccountError("用户名须为 1–64 个字符，不含空格、斜杠、引号或尖括号")
    if role not in ROLES:
        raise AccountError(f"角色须为 {' / '.join(ROLES)}")
    _check_password(password)
    if get_user(conn, name) is not None:
        raise AccountError(f"用户 {name} 已存在")
    conn.execute(
        insert(users).values(name=name, role=role, password_hash=_hasher.hash(password), active=True, created_at=_now())
    )
    user = get_user(conn, name)
    assert user is not None
    return user


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    return _user(row) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def _require(conn: Connection, name: str) -> User:
    user = get_user(conn, name)
    if user is None:
        raise AccountError(f"没有用户 {name}")
    return user


def set_password(conn: Connection, name: str, password: str) -> None:
    user = _require(conn, name)
    _check_password(password)
    conn.execute(update(users).where(users.c.id == user.id).values(password_hash=_hasher.hash(password)))
    conn.execute(delete(sessions).where(sessions.c.user_id == user.id))  # a new password ends old sessions


def set_active(conn: Connection, name: str, active: bool) -> None:
    user = _require(conn, name)
    conn.execute(update(users).where(users.c.id == user.id).values(active=active))
    if not active:
        conn.execute(delete(sessions).where(sessions.c.user_id == user.id))


def set_role(conn: Connection, name: str, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"角色须为 {' / '.join(ROLES)}")
    user = _require(conn, name)
    conn.execute(update(users).where(users.c.id == user.id).values(role=role))


def authenticate(conn: Connection, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (an unknown name costs the same time)."""
    row = conn.execute(select(users).where(users.c.name == (name or "").strip())).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_hasher.hash(password)))
    return _user(row)


# --------------------------------------------------------------------------------------------------
# sessions


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(conn: Connection, user: User, kind: str = "web") -> tuple[str, str]:
    """A new session for `user`: (token, csrf token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = time.time()
    conn.execute(
        insert(sessions).values(token_hash=_digest(token), user_id=user.id, kind=kind, csrf=csrf, created_at=now, last_seen=now)
    )
    return token, csrf


def session_user(conn: Connection, token: str, idle_seconds: float, kind: str | None = None) -> tuple[User, str] | None:
    """(user, csrf) of a live session, refreshing its idle clock; None if unknown, idle too long or disabled."""
    if not token:
        return None
    now = time.time()
    row = conn.execute(
        select(sessions, users.c.name, users.c.role, users.c.active, users.c.created_at.label("user_created"))
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == _digest(token))
    ).first()
    if row is None or (kind and row.kind != kind):
        return None
    if now - row.last_seen > idle_seconds or not row.active:
        conn.execute(delete(sessions).where(sessions.c.token_hash == row.token_hash))
        return None
    if now - row.last_seen > 30:  # write at most twice a minute per session
        conn.execute(update(sessions).where(sessions.c.token_hash == row.token_hash).values(last_seen=now))
    return User(row.user_id, row.name, row.role, bool(row.active), row.user_created), row.csrf


def end_session(conn: Connection, token: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == _digest(token or "")))


def purge_sessions(conn: Connection, idle_seconds: float) -> int:
    """Forget sessions idle for longer than allowed; returns how many."""
    result = conn.execute(delete(sessions).where(sessions.c.last_seen < time.time() - idle_seconds))
    return result.rowcount or 0
