"""Accounts, roles and tokens. Tokens are stored only as their SHA-256."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import User

ROLES = ("admin", "operator", "reviewer", "viewer")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, name: str, role: str) -> str:
    """Create (or re-key) a user; returns the new token, shown once."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if not name or len(name) > 80:
        raise ValueError("a user name is 1-80 characters")
    token = secrets.token_urlsafe(24)
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        session.add(User(name=name, role=role, token_hash=hash_token(token)))
    else:
        user.role = role
        user.token_hash = hash_token(token)
    return token


def user_for_token(session: Session, token: str) -> User | None:
    return session.scalar(select(User).where(User.token_hash == hash_token(token)))
