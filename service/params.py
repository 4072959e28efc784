"""Typed request parameters, checked at the edge (a clear 422 before any database query).

Ids are INTEGER columns on PostgreSQL (32 bits), so an id outside 1..2^31-1 cannot name a row; sent to the
database it would be an overflow error (a 500) on PostgreSQL, and past 2^63 on SQLite too. Text cannot
hold a NUL character in PostgreSQL, so no text parameter may contain one.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, model_validator

MAX_ID = 2**31 - 1
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000
MAX_ROUND_REF = 200  # a round's name is at most 200 characters (RoundCreate)


def id_path(what: str) -> Any:
    """A path id of ``what`` (page, batch, review item): 1..2^31-1."""
    return Path(ge=1, le=MAX_ID, description=f"the {what}'s id")


def id_query(description: str) -> Any:
    """An optional id in the query string: 1..2^31-1."""
    return Query(ge=1, le=MAX_ID, description=description)


def text_query(description: str, *, max_length: int = 200, min_length: int | None = None) -> Any:
    """A text query parameter: bounded, and without NUL."""
    return Query(description=description, max_length=max_length, min_length=min_length, pattern=NO_NUL)


ROUND_HELP = "the round's id or its name"
AGENCY_HELP = "only the sheets of this agency (its code)"
BATCH_HELP = "only the answers read from this batch's pages"

PageId = Annotated[int, id_path("page")]
BatchId = Annotated[int, id_path("batch")]
ItemId = Annotated[int, id_path("review item")]
RoundRef = Annotated[str, text_query(ROUND_HELP, max_length=MAX_ROUND_REF, min_length=1)]
OptionalRoundRef = Annotated[str | None, text_query(ROUND_HELP, max_length=MAX_ROUND_REF)]
AgencyFilter = Annotated[str | None, text_query(AGENCY_HELP, max_length=100)]
BatchFilter = Annotated[int | None, id_query(BATCH_HELP)]


def holds_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 32:
        return False  # the JSON cap bounds the size; pydantic bounds what the fields accept
    if isinstance(value, dict):
        return any(holds_nul(k, depth + 1) or holds_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_nul(v, depth + 1) for v in value)
    return False


class RequestBody(BaseModel):
    """The base of every JSON body the service accepts: no string in it, at any depth, may hold a NUL
    (a 422 naming the problem instead of a database error on PostgreSQL)."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if holds_nul(data):
            raise ValueError("text holds a NUL character (U+0000), which cannot be stored")
        return data


def id_in_range(n: int) -> bool:
    return 1 <= n <= MAX_ID
