"""Reading members: the home view (profile, points and the newest entries in one Query) and
history pages behind opaque cursors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from api import cursors
from api.auth import Permission, Principal
from api.errors import Forbidden, InvalidInput
from api.members import store
from api.members.model import Member
from api.points import store as points
from api.points.model import Entry
from api.program.service import ProgramService
from api.store import reads
from api.store.base import TableItem

MAX_PAGE = 100


@dataclass(frozen=True)
class HistoryPage:
    entries: list[Entry]
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return encode_cursor(self.entries[-1].seq) if self.entries else None


@dataclass(frozen=True)
class MemberView:
    member: Member
    now: datetime  # the program time the points figures are computed at
    history: HistoryPage | None  # the first page, when it was asked for with the member
    history_first: int  # its size


_POSITION = re.compile(r"[0-9]{1,12}")


def encode_cursor(seq: int, kind: str = "entry") -> str:
    return cursors.encode(kind, str(seq))


def decode_cursor(cursor: str, kind: str = "entry") -> int:
    """The position a cursor of this kind stands for; InvalidInput for anything else."""
    position = cursors.decode(cursor, kind, max_length=64)
    if _POSITION.fullmatch(position) is None:
        raise InvalidInput("after", cursors.NOT_A_CURSOR)
    return int(position)


def authorize_read(actor: Principal, member_id: str) -> None:
    """Members read their own data; the shop backend and admins anyone's."""
    if actor.member_id is not None:
        actor.require(Permission.READ_OWN_MEMBER)
        if member_id != actor.member_id:
            raise Forbidden()
    else:
        actor.require(Permission.READ_ANY_MEMBER)


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput("first", f"Must be between 1 and {MAX_PAGE}.")
    return first


class MemberReader:
    def __init__(self, program: ProgramService) -> None:
        self._program = program

    def view(
        self, actor: Principal, member_id: str, history_first: int | None
    ) -> MemberView | None:
        """The member with, if asked, the first page of history: one Query in production
        (the profile sorts after the entries), plus the settings read where a test clock runs."""
        authorize_read(actor, member_id)
        limit = 1 if history_first is None else page_size(history_first) + 2
        items = reads.query(
            store.member_pk(member_id),
            TableItem.sk <= store.PROFILE_SK,
            limit=limit,
            descending=True,
        )
        member = store.member_in(items[0]) if items else None
        if member is None:
            return None
        page = None
        if history_first is not None:
            entries = points.entries(items[1:])
            page = HistoryPage(entries[:history_first], len(entries) > history_first)
        return MemberView(member, self._program.current_time(), page, history_first or 0)

    def history(
        self, actor: Principal, member_id: str, first: int, after: str | None
    ) -> HistoryPage:
        authorize_read(actor, member_id)
        first = page_size(first)
        before = decode_cursor(after) if after is not None else 10**12
        if before <= 0:
            return HistoryPage([], False)
        items = reads.query(
            store.member_pk(member_id),
            TableItem.sk.between(points.ENTRY_PREFIX, points.entry_sk(before - 1)),
            limit=first + 1,
            descending=True,
        )
        entries = points.entries(items)
        return HistoryPage(entries[:first], len(entries) > first)
