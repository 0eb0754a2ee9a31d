"""Follow-ups of unhappy survey answers: admins list, assign, annotate and resolve them.

Rules:
- One follow-up per answer that needs one (NPS 0-6, CSAT 1-2), opened by the table's stream
  (api/feedback/followups_reactions.py), OPEN and due `surveys.followUpHours` after the answer.
- A follow-up is overdue while it is OPEN and its due time is before the program's time (the
  test clock moves it). Listings: OPEN (not yet due, soonest first), OVERDUE (most overdue
  first), RESOLVED (newest first), of all or of one assignee: each one Query on copies kept
  in the follow-up's own transactions (api/feedback/followups_store.py).
- Assigning names any admin's external id; again and again (a reassignment) while OPEN.
- Notes are free text (1-2000 characters, lines and tabs allowed), at most MAX_NOTES per
  follow-up, authored by the admin's subject, idempotent on their key, never changed.
- Resolving is once: the same idempotency key replays the first answer; another key finds it
  RESOLVED (ALREADY_RESOLVED). Goodwill points, if given, are a GOODWILL entry and lot
  (reference: the follow-up) in the resolution's own transaction, under the follow-up's and
  the member's versions: concurrent resolutions credit once. Goodwill needs the member (an
  erased member's follow-up can still be resolved without points).
"""

from __future__ import annotations

import re
from dataclasses import replace

from pynamodb.expressions.condition import Condition

from api import cursors
from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import ErrorCode, InvalidInput, NotFound
from api.feedback import followups_store as store
from api.feedback.followups_model import (
    FollowUp,
    FollowUpDetail,
    FollowUpListing,
    FollowUpPage,
    FollowUpStatus,
    Note,
    Resolution,
)
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.members.view import page_size
from api.observability import count
from api.points import ledger
from api.points.model import Entry, EntryKind
from api.points.store import entry_to_item, get_entry
from api.program import store as program
from api.program.service import ProgramService
from api.store import reads
from api.store.base import RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem, record_key

MAX_NOTE = 2000
MAX_NOTES = 200
MAX_GOODWILL = 10_000
_ID = re.compile(r"fu_[A-Za-z0-9_-]{1,120}")
_SORT_KEY = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#fu_[A-Za-z0-9_-]{1,120}")
EARLIEST = "0"  # below every sort key of a listing: each starts with a year


def parse_id(value: str) -> str:
    if _ID.fullmatch(value) is None:
        raise InvalidInput("id", "Not a follow-up id.")
    return value


def encode_cursor(listing: FollowUpListing, sk: str) -> str:
    return cursors.encode(f"fu:{listing.value}", sk)


def decode_cursor(cursor: str, listing: FollowUpListing) -> str:
    """The sort key a cursor of this listing stands for; InvalidInput for anything else."""
    sk = cursors.decode(cursor, f"fu:{listing.value}")
    if _SORT_KEY.fullmatch(sk) is None:
        raise InvalidInput("after", cursors.NOT_A_CURSOR)
    return sk


class FollowUpService:
    def __init__(self, clock: Clock, program_service: ProgramService) -> None:
        self._clock = clock
        self._program = program_service

    # --- reads ----------------------------------------------------------------------------

    def list(
        self,
        actor: Principal,
        listing: FollowUpListing,
        first: int,
        after: str | None,
        assignee: str | None = None,
    ) -> FollowUpPage:
        """One Query of the listing's partition (all, or one assignee's) with a key condition."""
        actor.require(Permission.MANAGE_FOLLOW_UPS)
        first = page_size(first)
        if assignee is not None:
            assignee = v.external_id("assignee", assignee)
        last = None if after is None else decode_cursor(after, listing)
        now = self._program.current_time()
        due = store.sort_time(now)
        condition: Condition
        if listing is FollowUpListing.RESOLVED:
            pk, descending = store.listing_pk(FollowUpStatus.RESOLVED, assignee), True
            condition = TableItem.sk >= EARLIEST if last is None else TableItem.sk < last
        elif listing is FollowUpListing.OPEN:
            pk, descending = store.listing_pk(FollowUpStatus.OPEN, assignee), False
            condition = TableItem.sk >= due if last is None or last < due else TableItem.sk > last
        else:
            pk, descending = store.listing_pk(FollowUpStatus.OPEN, assignee), False
            if last is not None and last >= due:  # the clock went back: nothing after it
                return FollowUpPage([], [], False, now)
            # BETWEEN includes its ends: the cursor's own item is dropped below.
            condition = TableItem.sk < due if last is None else TableItem.sk.between(last, due)
        items = reads.query(pk, condition, limit=first + 2, descending=descending)
        found = [i for i in items if isinstance(i, store.FollowUpListedItem) and i.sk != last]
        page = found[:first]
        return FollowUpPage(
            [store.listed_from_item(i) for i in page],
            [encode_cursor(listing, i.sk) for i in page],
            len(found) > first,
            now,
        )

    def get(self, actor: Principal, follow_up_id: str) -> FollowUpDetail | None:
        """The follow-up and its notes, oldest first: one Query of its item collection."""
        actor.require(Permission.MANAGE_FOLLOW_UPS)
        fid = parse_id(follow_up_id)
        items = reads.query(
            store.follow_up_pk(fid),
            TableItem.sk.between(store.HEAD, f"{store.NOTE}~"),
            limit=MAX_NOTES + 1,
            descending=False,
        )
        head = next((i for i in items if isinstance(i, store.FollowUpItem)), None)
        if head is None:
            return None
        notes = [store.note_from_item(i) for i in items if isinstance(i, store.FollowUpNoteItem)]
        return FollowUpDetail(store.from_item(head), notes, self._program.current_time())

    # --- writes ---------------------------------------------------------------------------

    def assign(self, actor: Principal, follow_up_id: str, assignee: str) -> FollowUpDetail:
        """Assign or reassign an OPEN follow-up; the same assignee again changes nothing."""
        actor.require(Permission.MANAGE_FOLLOW_UPS)
        fid = parse_id(follow_up_id)
        assignee = v.external_id("assignee", assignee)

        def decide(snapshot: Snapshot) -> Plan[FollowUpDetail]:
            current = _open(_follow_up(snapshot, fid))
            now = self._program.now(program.settings(snapshot))
            if current.assignee == assignee:
                return Plan(FollowUpDetail(current, (), now))
            plan = _changed(current, replace(current, assignee=assignee))
            return Plan(
                FollowUpDetail(plan.result, (), now),
                new=plan.new,
                changed=plan.changed,
                deleted=plan.deleted,
            )

        reads_ = [store.follow_up_key(fid), program.SETTINGS_KEY]
        return versioned_write(self._clock, reads_, decide)

    def add_note(
        self, actor: Principal, follow_up_id: str, text: str, idempotency_key: str
    ) -> FollowUpDetail:
        """The note added (its only note in the answer); idempotent on the key."""
        actor.require(Permission.MANAGE_FOLLOW_UPS)
        fid = parse_id(follow_up_id)
        text = v.multiline_text("text", text, MAX_NOTE)
        idem = v.external_id("idempotencyKey", idempotency_key)
        keyed = Keyed(
            record_key("FOLLOWUP_NOTE", f"{fid}#{idem}"),
            fingerprint({"text": text, "author": actor.subject}),
            "idempotencyKey",
        )

        def decide(snapshot: Snapshot) -> Plan[FollowUpDetail]:
            current = _follow_up(snapshot, fid)
            if current.notes >= MAX_NOTES:
                raise InvalidInput("text", f"A follow-up holds at most {MAX_NOTES} notes.")
            now = self._program.now(program.settings(snapshot))
            note = Note(fid, current.notes + 1, text, actor.subject, now)
            plan = _changed(current, replace(current, notes=note.seq))
            record = IdempotencyItem(
                *keyed.record,
                request_hash=keyed.fingerprint,
                answer={"seq": note.seq},
                created_at=now,
            )
            return Plan(
                FollowUpDetail(plan.result, (note,), now),
                new=[store.note_to_item(note), record],
                changed=plan.changed,
            )

        def replay(record: RecordItem) -> FollowUpDetail:
            assert isinstance(record, IdempotencyItem)
            found = reads.get_many(
                [store.follow_up_key(fid), store.note_key(fid, record.answer["seq"])]
            )
            head = found[store.follow_up_key(fid)]
            note = found[store.note_key(fid, record.answer["seq"])]
            assert isinstance(head, store.FollowUpItem)
            assert isinstance(note, store.FollowUpNoteItem)
            now = self._program.current_time()
            return FollowUpDetail(store.from_item(head), (store.note_from_item(note),), now)

        reads_ = [store.follow_up_key(fid), program.SETTINGS_KEY]
        return keyed_write(self._clock, keyed, reads_, decide, replay)

    def resolve(
        self,
        actor: Principal,
        follow_up_id: str,
        note: str,
        goodwill_points: int | None,
        idempotency_key: str,
    ) -> Resolution:
        actor.require(Permission.MANAGE_FOLLOW_UPS)
        fid = parse_id(follow_up_id)
        note = v.multiline_text("note", note, MAX_NOTE)
        idem = v.external_id("idempotencyKey", idempotency_key)
        if goodwill_points is not None:
            goodwill_points = v.points("goodwillPoints", goodwill_points)
            if goodwill_points > MAX_GOODWILL:
                raise InvalidInput("goodwillPoints", f"At most {MAX_GOODWILL} points.")
        keyed = Keyed(
            record_key("RESOLVE_FOLLOWUP", f"{fid}#{idem}"),
            fingerprint({"note": note, "points": goodwill_points}),
            "idempotencyKey",
        )
        # The member's id is the follow-up's, which never changes: read once to know it.
        found = reads.get(store.follow_up_key(fid), store.FollowUpItem)
        if found is None:
            raise NotFound("follow-up")
        member_id = store.from_item(found).member_id
        if goodwill_points is not None and actor.is_self(member_id):
            raise InvalidInput("goodwillPoints", "You cannot grant yourself goodwill points.")

        def decide(snapshot: Snapshot) -> Plan[Resolution]:
            current = _open(_follow_up(snapshot, fid))
            settings = program.settings(snapshot)
            now = self._program.now(settings)
            resolved = replace(
                current,
                status=FollowUpStatus.RESOLVED,
                resolved_at=now,
                resolved_by=actor.subject,
                resolution=note,
                goodwill_points=goodwill_points,
            )
            record = IdempotencyItem(
                *keyed.record, request_hash=keyed.fingerprint, answer={"id": fid}, created_at=now
            )
            if goodwill_points is None:
                plan = _changed(current, resolved)
                return Plan(
                    Resolution(plan.result, None),
                    new=[*plan.new, record],
                    changed=plan.changed,
                    deleted=plan.deleted,
                )
            state = ledger.state(snapshot, member_id, self._program)
            entry, member = _goodwill(state, actor, fid, goodwill_points)
            plan = _changed(current, replace(resolved, goodwill_seq=entry.seq))
            return Plan(
                Resolution(plan.result, entry),
                new=[*plan.new, record, entry_to_item(entry)],
                changed=[*plan.changed, member],
                deleted=plan.deleted,
                on_commit=lambda: count("GoodwillPoints", entry.points),
            )

        def replay(_: RecordItem) -> Resolution:
            item = reads.get(store.follow_up_key(fid), store.FollowUpItem)
            assert item is not None  # follow-ups are never deleted
            done = store.from_item(item)
            seq = done.goodwill_seq
            return Resolution(done, None if seq is None else get_entry(done.member_id, seq))

        reads_ = [store.follow_up_key(fid), *ledger.reads(member_id)]
        return keyed_write(self._clock, keyed, reads_, decide, replay)


def _follow_up(snapshot: Snapshot, fid: str) -> FollowUp:
    item = snapshot.get(store.follow_up_key(fid), store.FollowUpItem)
    if item is None:
        raise NotFound("follow-up")
    return store.from_item(item)


def _open(f: FollowUp) -> FollowUp:
    if f.status is not FollowUpStatus.OPEN:
        raise InvalidInput("id", "This follow-up is resolved.", ErrorCode.ALREADY_RESOLVED)
    return f


def _changed(before: FollowUp, after: FollowUp) -> Plan[FollowUp]:
    """The follow-up under its version, and its listed copies: rewritten in place, or moved
    (between statuses, between assignees)."""
    gone = set(store.listed_keys(before))
    come = store.listed_items(after)
    kept = {i.key for i in come}
    return Plan(
        replace(after, version=(before.version or 0) + 1),
        new=[i for i in come if i.key not in gone],
        changed=[store.to_item(after), *(i for i in come if i.key in gone)],
        deleted=[i for i in store.listed_items(before) if i.key not in kept],
    )


def _goodwill(
    state: ledger.State, actor: Principal, fid: str, points: int
) -> tuple[Entry, TableItem]:
    """A GOODWILL entry and lot, like any credit: spendable now, valid as the program says."""
    after, entry = ledger.fresh_credit(
        state,
        state.member.points,
        state.member.next_seq,
        points,
        kind=EntryKind.GOODWILL,
        by=actor.actor,
        reference=fid,
        reason="Goodwill",
    )
    return entry, ledger.member_item(state, after, [entry])
