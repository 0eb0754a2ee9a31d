"""Members: enrolment, profile and consents, and the home view (profile, points, history)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from pynamodb.exceptions import PutError

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.consents import Channel, Consent
from api.errors import Forbidden, IdempotencyConflict, InvalidInput, MemberNotFound
from api.ids import member_id_for
from api.ledger import Entry, entry_from_item, points_state, request_hash
from api.lots import PointsState
from api.program import ProgramService
from api.store import reads
from api.store.models import (
    ENTRY_PREFIX,
    PROFILE_SK,
    EntryItem,
    MemberItem,
    TableItem,
    entry_sk,
    member_pk,
)
from api.store.tx import Retry, with_retries

MAX_PAGE = 100


@dataclass(frozen=True)
class ConsentInput:
    channel: Channel
    granted: bool
    source: str
    given_at: datetime | None = None  # defaults to now


@dataclass(frozen=True)
class Member:
    id: str
    customer_id: str
    email: str | None
    name: str | None
    phone: str | None
    birthday: date | None
    time_zone: str
    locale: str
    consents: tuple[Consent, ...]
    points: PointsState
    balance: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EnrollInput:
    customer_id: str
    time_zone: str
    locale: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    birthday: date | None = None
    consents: Sequence[ConsentInput] = ()


class Unchanged(Enum):
    UNCHANGED = "UNCHANGED"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True)
class ProfileChange:
    """Fields left UNCHANGED stay as they are; None clears an optional field."""

    email: str | Unchanged | None = UNCHANGED
    name: str | Unchanged | None = UNCHANGED
    phone: str | Unchanged | None = UNCHANGED
    birthday: date | Unchanged | None = UNCHANGED
    time_zone: str | Unchanged = UNCHANGED
    locale: str | Unchanged = UNCHANGED
    consents: Sequence[ConsentInput] = ()


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


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"entry:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    match = re.fullmatch(r"entry:([0-9]{1,12})", text)
    if len(cursor) > 64 or match is None:
        raise InvalidInput("after", "Not a cursor returned by this API.")
    return int(match.group(1))


def member_from_item(item: MemberItem) -> Member:
    return Member(
        id=item.member_id,
        customer_id=item.customer_id,
        email=item.email,
        name=item.name,
        phone=item.phone,
        birthday=None if item.birthday is None else date.fromisoformat(item.birthday),
        time_zone=item.time_zone,
        locale=item.locale,
        consents=item.consents,
        points=points_state(item),
        balance=item.balance,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput("first", f"Must be between 1 and {MAX_PAGE}.")
    return first


class MemberService:
    def __init__(self, clock: Clock, program: ProgramService) -> None:
        self._clock = clock
        self._program = program

    # ---- enrolment and profile ------------------------------------------------------------

    def enroll(self, actor: Principal, data: EnrollInput) -> Member:
        actor.require(Permission.ENROLL_MEMBER)
        customer_id = v.external_id("customerId", data.customer_id)
        now = self._program.current_time()
        member_id = member_id_for(customer_id)
        item = MemberItem(
            member_pk(member_id),
            PROFILE_SK,
            member_id=member_id,
            customer_id=customer_id,
            balance=0,
            debt=0,
            lots=(),
            created_at=now,
            updated_at=now,
        )
        self._apply(
            item,
            ProfileChange(
                email=data.email,
                name=data.name,
                phone=data.phone,
                birthday=data.birthday,
                time_zone=data.time_zone,
                locale=data.locale,
                consents=data.consents,
            ),
            now,
        )
        # What was asked, not when: a retry without givenAt is the same request.
        item.enroll_hash = request_hash(
            {
                "customer": customer_id,
                "profile": [item.email, item.name, item.phone, item.birthday],
                "place": [item.time_zone, item.locale],
                "consents": [
                    [c.channel, c.granted, c.source, c.given_at]
                    for c in self._check_consents(data.consents, now)
                ],
            }
        )
        try:
            item.save()  # version None: PynamoDB adds attribute_not_exists
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            existing = MemberItem.get(member_pk(member_id), PROFILE_SK, consistent_read=True)
            if existing.enroll_hash != item.enroll_hash:
                raise IdempotencyConflict("customerId") from exc
            item = existing
        return member_from_item(item)

    def update_profile(self, actor: Principal, change: ProfileChange) -> Member:
        actor.require(Permission.UPDATE_OWN_PROFILE)
        assert actor.member_id is not None
        member_id = actor.member_id

        def attempt() -> Member:
            try:
                item = MemberItem.get(member_pk(member_id), PROFILE_SK, consistent_read=True)
            except MemberItem.DoesNotExist as exc:
                raise MemberNotFound() from exc
            now = self._program.current_time()
            self._apply(item, change, now)
            item.updated_at = now
            try:
                item.save()
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    raise Retry() from exc  # a ledger change landed first: apply again
                raise
            return member_from_item(item)

        return with_retries(self._clock, attempt)

    def _apply(self, item: MemberItem, change: ProfileChange, now: datetime) -> None:
        if change.email is not UNCHANGED:
            item.email = None if change.email is None else v.email("email", change.email)
        if change.name is not UNCHANGED:
            item.name = None if change.name is None else v.text("name", change.name, 200)
        if change.phone is not UNCHANGED:
            item.phone = None if change.phone is None else v.phone("phone", change.phone)
        if change.birthday is not UNCHANGED:
            item.birthday = (
                None
                if change.birthday is None
                else v.birthday("birthday", change.birthday, now.date()).isoformat()
            )
        if change.time_zone is not UNCHANGED:
            item.time_zone = v.time_zone("timeZone", change.time_zone)
        if change.locale is not UNCHANGED:
            item.locale = v.locale("locale", change.locale)
        updates = {c.channel: c for c in self._check_consents(change.consents, now)}
        kept = tuple(c for c in item.consents if c.channel not in updates)
        item.consents = kept + tuple(
            Consent(c.channel, c.granted, c.given_at or now, c.source) for c in updates.values()
        )

    def _check_consents(
        self, consents: Sequence[ConsentInput], now: datetime
    ) -> list[ConsentInput]:
        seen: set[Channel] = set()
        checked = []
        for i, consent in enumerate(consents):
            if consent.channel in seen:
                raise InvalidInput(f"consents[{i}].channel", "Each channel at most once.")
            seen.add(consent.channel)
            given_at = None
            if consent.given_at is not None:
                given_at = v.aware(f"consents[{i}].givenAt", consent.given_at)
                if given_at > now:
                    raise InvalidInput(f"consents[{i}].givenAt", "Cannot be in the future.")
            checked.append(
                ConsentInput(
                    consent.channel,
                    consent.granted,
                    v.text(f"consents[{i}].source", consent.source, 100),
                    given_at,
                )
            )
        return checked

    # ---- reading --------------------------------------------------------------------------

    def _authorize_read(self, actor: Principal, member_id: str) -> None:
        if actor.member_id is not None:
            actor.require(Permission.READ_OWN_MEMBER)
            if member_id != actor.member_id:
                raise Forbidden()
        else:
            actor.require(Permission.READ_ANY_MEMBER)

    def view(
        self, actor: Principal, member_id: str, history_first: int | None
    ) -> MemberView | None:
        """The member with, if asked, the first page of history: one Query in production
        (the profile sorts after the entries), plus the settings read where a test clock runs."""
        self._authorize_read(actor, member_id)
        limit = 1 if history_first is None else _page_size(history_first) + 2
        items = reads.query(
            member_pk(member_id), TableItem.sk <= PROFILE_SK, limit=limit, descending=True
        )
        if not items or not isinstance(items[0], MemberItem):
            return None
        page = None
        if history_first is not None:
            entries = [entry_from_item(i) for i in items[1:] if isinstance(i, EntryItem)]
            page = HistoryPage(entries[:history_first], len(entries) > history_first)
        return MemberView(
            member_from_item(items[0]), self._program.current_time(), page, history_first or 0
        )

    def history(
        self, actor: Principal, member_id: str, first: int, after: str | None
    ) -> HistoryPage:
        self._authorize_read(actor, member_id)
        first = _page_size(first)
        before = decode_cursor(after) if after is not None else 10**12
        if before <= 0:
            return HistoryPage([], False)
        items = reads.query(
            member_pk(member_id),
            TableItem.sk.between(ENTRY_PREFIX, entry_sk(before - 1)),
            limit=first + 1,
            descending=True,
        )
        entries = [entry_from_item(i) for i in items if isinstance(i, EntryItem)]
        return HistoryPage(entries[:first], len(entries) > first)
