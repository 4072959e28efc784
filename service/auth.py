"""Accounts, roles, tokens and browser sessions.

* An API token is stored only as its SHA-256; it is sent as ``Authorization: Bearer TOKEN``.
* A browser signs in with its name and token (``POST /api/login``) and gets a session of its own: a
  random id (``secrets.token_urlsafe(32)``) in the ``omr_session`` cookie, stored only as its SHA-256
  in ``web_sessions``, ended by logout, by its absolute expiry or by disabling (or re-keying) the user.
  The cookie is never a token and a token is never a cookie: they are looked up in different tables.
* Every write made with the cookie must carry the session's CSRF token. It is derived from the session
  id, ``HMAC-SHA256(key=session id, msg="omr-csrf:" + Settings.session_secret)``, so the server can give
  it again (``GET /api/me``) without storing it in the clear, and only the holder of the cookie can know
  it; only its SHA-256 is stored (``csrf_hash``). The session id is itself a 256-bit secret, so the
  optional server secret (``OMR_SESSION_SECRET``) is a pepper, not what the defence rests on.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from service.models import User, WebSession, utcnow

ROLES = ("admin", "operator", "reviewer", "viewer")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, name: str, role: str) -> str:
    """Create (or re-key) a user; returns the new token, shown once.

    Re-keying revokes the old token, ends the user's open browser sessions and enables the account.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if not name or len(name) > 80:
        raise ValueError("a user name is 1-80 characters")
    token = secrets.token_urlsafe(24)
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        session.add(User(name=name, role=role, token_hash=hash_token(token), active=True))
    else:
        user.role = role
        user.token_hash = hash_token(token)
        user.active = True
        end_user_sessions(session, user.id)
    return token


def set_active(session: Session, name: str, active: bool) -> User:
    """Enable or disable an account; disabling ends its browser sessions. ValueError for an unknown name."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise ValueError(f"no user {name[:80]!r}")
    user.active = active
    if not active:
        end_user_sessions(session, user.id)
    return user


def user_for_token(session: Session, token: str) -> User | None:
    """The active user holding this API token, or None."""
    return session.scalar(select(User).where(User.token_hash == hash_token(token), User.active.is_(True)))


def csrf_for(session_id: str, secret: str = "") -> str:
    return hmac.new(session_id.encode(), b"omr-csrf:" + secret.encode(), hashlib.sha256).hexdigest()


def start_session(session: Session, user: User, *, hours: float, secret: str = "") -> tuple[str, str]:
    """Open a browser session for ``user``; returns (session id for the cookie, CSRF token)."""
    sid = secrets.token_urlsafe(32)
    csrf = csrf_for(sid, secret)
    now = utcnow()
    session.add(WebSession(id_hash=hash_token(sid), user_id=user.id, csrf_hash=hash_token(csrf),
                           created_at=now, expires_at=now + timedelta(hours=hours)))
    user.last_login_at = now
    return sid, csrf


def session_user(session: Session, sid: str) -> tuple[WebSession, User] | None:
    """The open (not ended, not expired) session with this id and its active user, or None."""
    row = session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.id_hash == hash_token(sid), WebSession.ended_at.is_(None),
               WebSession.expires_at > utcnow(), User.active.is_(True))
    ).first()
    return (row[0], row[1]) if row else None


def csrf_matches(ws: WebSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(hash_token(given), ws.csrf_hash)


def end_session(session: Session, sid: str) -> bool:
    """End the session with this id (logout); True when one was open."""
    n = session.execute(update(WebSession).where(WebSession.id_hash == hash_token(sid), WebSession.ended_at.is_(None))
                        .values(ended_at=utcnow())).rowcount
    return bool(n)


def end_user_sessions(session: Session, user_id: int) -> int:
    return session.execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
                           .values(ended_at=utcnow())).rowcount


def purge_sessions(session: Session, *, older_than_days: float = 30) -> int:
    """Forget sessions that ended or expired more than ``older_than_days`` ago."""
    cut = utcnow() - timedelta(days=older_than_days)
    return session.execute(delete(WebSession).where(or_(WebSession.expires_at < cut, WebSession.ended_at < cut))).rowcount


def as_utc(t: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes: they are UTC."""
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
