"""Submitting, editing, deleting and moderating reviews; the product's reviews and rating.

Rules:
- One review per member per product: the review's key is (product, member), written only
  if absent. Deleting it lets the member write a new one.
- At most MAX_PER_DAY submissions per member per UTC day (an ADD counter under a
  condition, in the submission's transaction). Edits do not count.
- An edit returns the review to PENDING (out of the product's rating and listings until an
  admin approves it again).
- Moderation never reads the rating: a rejection or a removal names a policy reason.
  An admin cannot moderate a review whose member id is their own subject.
- Review rewards (program setting reviewRewardPoints, 0: off): the first approval of a
  member's review of a product credits that many points (a REVIEW entry and lot) in the
  approval's transaction, once per member per product ever (a marker item), whatever the
  rating; the review is `incentivized`. Rejecting an incentivized review (a removal for its
  content) takes the points back (a REVIEW_CLAWBACK entry: any unexpired lots, earliest
  expiry first; debt or shortfall by the negative-balance policy). A member deleting their
  own review keeps the reward, and cannot earn another for that product.
- The product's rating moves only when a review enters or leaves APPROVED, by ADD in the
  same transaction, under the review's version: exact under concurrency.
- Helpful votes: a member votes another member's APPROVED review helpful or unhelpful, one
  standing vote per member per review (a vote item keyed by voter and review). Voting the
  other way changes it, withdrawing removes it; the same vote again writes nothing and
  answers as before, so a vote needs no idempotency key: it sets a state, and a retry of
  the same request finds it set. A review that is not APPROVED (and one's own review) takes
  no votes or withdrawals: to a voter it does not exist. At most MAX_VOTES_PER_DAY cast
  or changed votes per member per UTC day (an ADD counter under a condition).
- The review's helpfulVotes / unhelpfulVotes count the standing votes. Each vote rewrites
  the review under its version, with its listed copies (the MOST_HELPFUL copy moves to its
  new count) and the vote item, in one transaction: every listing shows the current counts
  and the counts always equal the vote items, under any concurrency. Votes contend on the
  review's item: a popular review takes votes one at a time (README, hot items). Counts
  survive edits, moderation and re-approval; a deleted review's votes count for nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from pynamodb.expressions.condition import Condition

from api import cursors
from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import ErrorCode, Forbidden, InvalidInput, MemberNotFound, NotFound
from api.feedback import reviews_store as store
from api.feedback.reviews_model import (
    MAX_RATING,
    MIN_RATING,
    Decision,
    Rating,
    RejectReason,
    Review,
    ReviewInput,
    ReviewPage,
    ReviewSort,
    ReviewStatus,
    ReviewVote,
)
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.ids import is_external_id
from api.members import store as members
from api.members.view import page_size
from api.points import ledger
from api.points.lots import claw_back
from api.points.model import Entry, EntryKind
from api.points.store import entry_to_item, order_in, order_key
from api.program import store as program
from api.program.model import NegativeBalancePolicy
from api.program.service import ProgramService
from api.store import reads
from api.store.base import RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem, record_key
from api.store.tx import Add

MAX_TITLE = 150
MAX_BODY = 5000
MAX_PHOTOS = 5
MAX_URL = 2000
MAX_PER_DAY = 10
MAX_VOTES_PER_DAY = 100
_REVIEW_ID = re.compile(r"rev_([0-9a-f]{26})_(.+)")


def _sku(value: str) -> str:
    return v.external_id("sku", value)


def _photos(urls: Sequence[str]) -> tuple[str, ...]:
    if len(urls) > MAX_PHOTOS:
        raise InvalidInput("photoUrls", f"At most {MAX_PHOTOS} photos.")
    for i, url in enumerate(urls):
        field = f"photoUrls.{i}"
        if len(url) > MAX_URL or any(ch.isspace() or not ch.isprintable() for ch in url):
            raise InvalidInput(field, "Not a valid URL.")
        try:
            parts = urlsplit(url)
            _ = parts.port  # ValueError when out of range or not a number
        except ValueError:
            raise InvalidInput(field, "Not a valid URL.") from None
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise InvalidInput(field, "Must be an https URL.")
    if len(set(urls)) != len(urls):
        raise InvalidInput("photoUrls", "Each photo once.")
    return tuple(urls)


def checked(data: ReviewInput) -> ReviewInput:
    if isinstance(data.rating, bool) or not MIN_RATING <= data.rating <= MAX_RATING:
        raise InvalidInput("rating", f"Must be a whole number from {MIN_RATING} to {MAX_RATING}.")
    return ReviewInput(
        sku=_sku(data.sku),
        rating=data.rating,
        title=v.text("title", data.title, MAX_TITLE),
        body=v.multiline_text("body", data.body, MAX_BODY),
        photo_urls=_photos(data.photo_urls),
    )


def parse_review_id(value: str, field: str = "id") -> tuple[str, str]:
    """(member id, sku) of a review id; InvalidInput for anything else."""
    match = _REVIEW_ID.fullmatch(value)
    if match is None or len(value) > 200 or not is_external_id(match.group(2)):
        raise InvalidInput(field, "Not a review id.")
    return f"mbr_{match.group(1)}", match.group(2)


def encode_cursor(sk: str) -> str:
    return cursors.encode("rv", sk)


def decode_cursor(cursor: str, prefix: str) -> str:
    """The sort key a cursor of a listing under this prefix stands for."""
    sk = cursors.decode(cursor, "rv")
    if not sk.startswith(prefix):
        raise InvalidInput("after", cursors.NOT_A_CURSOR)
    return sk


def _own(actor: Principal) -> str:
    actor.require(Permission.WRITE_OWN_REVIEWS)
    if actor.member_id is None:
        raise Forbidden()
    return actor.member_id


def _moves(before: Review | None, after: Review | None) -> tuple[list[TableItem], list[Add]]:
    """Listed copies to delete and write, and the rating change, for a status move."""
    gone = [] if before is None else store.listed_items(before)
    come = [] if after is None else store.listed_items(after)
    adds: list[Add] = []
    was = before is not None and before.status is ReviewStatus.APPROVED
    now = after is not None and after.status is ReviewStatus.APPROVED
    if before is not None and was and not now:
        item = store.RatingItem(*store.rating_key(before.sku))
        adds.append(Add(item, store.rating_deltas(before.rating, -1)))
    if after is not None and now and not was:
        item = store.RatingItem(*store.rating_key(after.sku))
        adds.append(Add(item, store.rating_deltas(after.rating, 1)))
    return [*gone, *come], adds


class ReviewService:
    def __init__(self, clock: Clock, program_service: ProgramService) -> None:
        self._clock = clock
        self._program = program_service

    def _now(self, snapshot: Snapshot) -> datetime:
        return self._program.now(program.settings(snapshot))

    def reviewed(self, member_id: str, skus: Sequence[str]) -> frozenset[str]:
        """Which of these products the member has reviewed, in any status (a review request
        asks only about the others): one BatchGetItem."""
        keys = {store.review_key(sku, member_id): sku for sku in skus}
        found = reads.get_many(keys)
        return frozenset(
            keys[key] for key, item in found.items() if isinstance(item, store.ReviewItem)
        )

    # --- writes ---------------------------------------------------------------------------

    def submit(self, actor: Principal, data: ReviewInput, idempotency_key: str) -> Review:
        member_id = _own(actor)
        key = v.external_id("idempotencyKey", idempotency_key)
        data = checked(data)
        keyed = Keyed(
            record_key("SUBMIT_REVIEW", f"{member_id}#{key}"),
            fingerprint({"input": repr(data)}),
            "idempotencyKey",
        )
        rkey = store.review_key(data.sku, member_id)
        verified = _verified(member_id, data.sku)
        day = self._program.now(self._program.load()).date().isoformat()
        dkey = store.daily_key(member_id, day)

        def decide(snapshot: Snapshot) -> Plan[Review]:
            if members.load(snapshot, member_id) is None:
                raise MemberNotFound()
            if snapshot.get(rkey, store.ReviewItem) is not None:
                raise InvalidInput(
                    "sku", "You have reviewed this product already: edit that review."
                )
            if store.submitted_today(snapshot.get(dkey, TableItem)) >= MAX_PER_DAY:
                raise InvalidInput("sku", f"At most {MAX_PER_DAY} reviews a day: try tomorrow.")
            now = self._now(snapshot)
            review = Review(
                sku=data.sku,
                member_id=member_id,
                rating=data.rating,
                title=data.title,
                body=data.body,
                photo_urls=tuple(data.photo_urls),
                status=ReviewStatus.PENDING,
                created_at=now,
                updated_at=now,
                submitted_at=now,
                verified=verified,
                incarnation=secrets.token_hex(8),
            )
            record = IdempotencyItem(
                *keyed.record,
                request_hash=keyed.fingerprint,
                answer={"review": store.to_json(review)},  # a replay answers what this did
                created_at=now,
            )
            limit = store.DailyItem.submitted.does_not_exist() | (
                store.DailyItem.submitted < MAX_PER_DAY
            )
            return Plan(
                replace(review, version=1),
                new=[
                    store.review_to_item(review),
                    store.MineItem(*store.mine_key(member_id, data.sku), sku=data.sku),
                    *store.listed_items(review),
                    record,
                ],
                added=[Add(store.DailyItem(*dkey), {"submitted": 1}, limit)],
            )

        def replay(record: RecordItem) -> Review:
            answer = record.answer if isinstance(record, IdempotencyItem) else {}
            if "review" not in answer:  # a record from before replays kept the first answer
                found = reads.get(rkey, store.ReviewItem)
                if found is None:
                    raise NotFound("review")
                return store.review_from_item(found)
            return store.from_json(answer["review"], version=1)

        reads_ = [members.member_key(member_id), rkey, dkey, program.SETTINGS_KEY]
        return keyed_write(self._clock, keyed, reads_, decide, replay)

    def update(self, actor: Principal, data: ReviewInput) -> Review:
        """The member's own review, changed: back to PENDING. The same content again changes
        nothing."""
        member_id = _own(actor)
        data = checked(data)
        rkey = store.review_key(data.sku, member_id)

        def decide(snapshot: Snapshot) -> Plan[Review]:
            current = _review(snapshot, rkey)
            same = (current.rating, current.title, current.body, current.photo_urls) == (
                data.rating,
                data.title,
                data.body,
                tuple(data.photo_urls),
            )
            if same:
                return Plan(current)
            now = self._now(snapshot)
            pending = current.status is ReviewStatus.PENDING
            edited = replace(
                current,
                rating=data.rating,
                title=data.title,
                body=data.body,
                photo_urls=tuple(data.photo_urls),
                status=ReviewStatus.PENDING,
                updated_at=now,
                submitted_at=current.submitted_at if pending else now,
                approved_at=None,
                reject_reason=None,
            )
            if pending:  # its place in the queue stays: the copy is replaced in place
                changed: list[TableItem] = [*store.listed_items(edited)]
                deleted: list[TableItem] = []
                added: list[Add] = []
            else:
                moved, added = _moves(current, edited)
                gone = set(store.listed_keys(current))
                deleted = [i for i in moved if i.key in gone]
                changed = [i for i in moved if i.key not in gone]
            return Plan(
                replace(edited, version=(current.version or 0) + 1),
                changed=[store.review_to_item(edited), *changed],
                deleted=deleted,
                added=added,
            )

        return versioned_write(self._clock, [rkey, program.SETTINGS_KEY], decide)

    def delete(self, actor: Principal, sku: str) -> Review:
        """The member's own review, gone (out of the rating if it was approved)."""
        member_id = _own(actor)
        rkey = store.review_key(_sku(sku), member_id)

        def decide(snapshot: Snapshot) -> Plan[Review]:
            current = _review(snapshot, rkey)
            gone, added = _moves(current, None)
            mine = store.MineItem(*store.mine_key(member_id, current.sku), sku=current.sku)
            return Plan(
                current,
                deleted=[store.review_to_item(current), mine, *gone],
                added=added,
            )

        return versioned_write(self._clock, [rkey], decide)

    def moderate(
        self, actor: Principal, review_id: str, decision: Decision, reason: RejectReason | None
    ) -> Review:
        """Approve, or reject (remove, if approved) for a policy reason. Deciding what the
        review already is changes nothing."""
        actor.require(Permission.MODERATE_REVIEWS)
        member_id, sku = parse_review_id(review_id)
        if actor.subject == member_id or actor.is_self(member_id):
            raise InvalidInput("id", "You cannot moderate your own review.")
        if decision is Decision.APPROVE and reason is not None:
            raise InvalidInput("reason", "Only a rejection has a reason.")
        if decision is Decision.REJECT and reason is None:
            raise InvalidInput("reason", "A rejection names a policy reason.")
        rkey = store.review_key(sku, member_id)
        target = ReviewStatus.APPROVED if decision is Decision.APPROVE else ReviewStatus.REJECTED
        # Checked again on approval: a refund since submission unverifies the review, and an
        # order the stream had not yet recorded at submission verifies it.
        verified = _verified(member_id, sku) if target is ReviewStatus.APPROVED else None

        def decide(snapshot: Snapshot) -> Plan[Review]:
            current = _review(snapshot, rkey)
            if current.status is target:
                return Plan(current)
            now = self._now(snapshot)
            decided = replace(
                current,
                status=target,
                updated_at=now,
                approved_at=now if target is ReviewStatus.APPROVED else None,
                reject_reason=reason,
                verified=current.verified if verified is None else verified,
            )
            marker = snapshot.get(mkey, store.RewardMarkerItem)
            settings = program.settings(snapshot)
            points = settings.review_reward_points
            if settings.review_reward_verified_only and not decided.verified:
                points = 0
            new: list[TableItem] = []
            changed: list[TableItem] = []
            if target is ReviewStatus.APPROVED and marker is None and points > 0:
                decided = replace(decided, incentivized=True)
                new, changed = self._reward(snapshot, actor, decided, points)
            elif (
                target is ReviewStatus.REJECTED
                and current.incentivized
                and marker is not None
                and marker.clawed_seq is None
            ):
                new, changed = self._claw_back(snapshot, actor, decided, marker)
            moved, added = _moves(current, decided)
            gone = set(store.listed_keys(current))
            return Plan(
                replace(decided, version=(current.version or 0) + 1),
                changed=[store.review_to_item(decided), *changed],
                new=[*(i for i in moved if i.key not in gone), *new],
                deleted=[i for i in moved if i.key in gone],
                added=added,
            )

        mkey = store.reward_key(member_id, sku)
        return versioned_write(self._clock, [rkey, mkey, *ledger.reads(member_id)], decide)

    def _reward(
        self, snapshot: Snapshot, actor: Principal, review: Review, points: int
    ) -> tuple[list[TableItem], list[TableItem]]:
        """A REVIEW entry and lot, and the marker: never reads the rating."""
        state = ledger.state(snapshot, review.member_id, self._program)
        after, entry = ledger.fresh_credit(
            state,
            state.member.points,
            state.member.next_seq,
            points,
            kind=EntryKind.REVIEW,
            by=actor.actor,
            reference=review.sku,
            reason="Review reward",
        )
        marker = store.RewardMarkerItem(
            *store.reward_key(review.member_id, review.sku), points=points, seq=entry.seq
        )
        return [entry_to_item(entry), marker], [ledger.member_item(state, after, [entry])]

    def _claw_back(
        self,
        snapshot: Snapshot,
        actor: Principal,
        review: Review,
        marker: store.RewardMarkerItem,
    ) -> tuple[list[TableItem], list[TableItem]]:
        """A REVIEW_CLAWBACK entry of the reward's points; the marker remembers it."""
        state = ledger.state(snapshot, review.member_id, self._program)
        seq, now = state.member.next_seq, state.now
        allow = state.settings.negative_balance_policy is NegativeBalancePolicy.ALLOW_NEGATIVE
        taken = claw_back(state.member.points, marker.points, now, "", allow_negative=allow)
        entry = Entry(
            member_id=review.member_id,
            seq=seq,
            kind=EntryKind.REVIEW_CLAWBACK,
            points=-taken.debited,
            balance_after=taken.state.balance,
            created_at=now,
            actor=actor.actor,
            reference=review.sku,
            reason=f"Review removed: {review.reject_reason}",
            funding=tuple(taken.funding),
            shortfall=taken.shortfall,
        )
        marker.clawed_seq = seq
        return [entry_to_item(entry)], [marker, ledger.member_item(state, taken.state, [entry])]

    def vote(self, actor: Principal, review_id: str, helpful: bool) -> ReviewVote:
        """The member's vote on another member's approved review; the same again: a no-op."""
        return self._vote(actor, review_id, helpful)

    def withdraw_vote(self, actor: Principal, review_id: str) -> ReviewVote:
        """The member's vote taken back; none standing: a no-op."""
        return self._vote(actor, review_id, None)

    def _vote(self, actor: Principal, review_id: str, helpful: bool | None) -> ReviewVote:
        actor.require(Permission.VOTE_ON_REVIEWS)
        if actor.member_id is None:
            raise Forbidden()
        voter = actor.member_id
        reviewer, sku = parse_review_id(review_id, "reviewId")
        if reviewer == voter:
            raise InvalidInput(
                "reviewId", "You cannot vote on your own review.", ErrorCode.OWN_REVIEW
            )
        now = self._program.current_time()
        rkey = store.review_key(sku, reviewer)
        vkey = store.vote_key(voter, sku, reviewer)
        dkey = store.daily_votes_key(voter, now.date().isoformat())

        def decide(snapshot: Snapshot) -> Plan[ReviewVote]:
            if members.load(snapshot, voter) is None:
                raise MemberNotFound()
            current = _review(snapshot, rkey)
            if current.status is not ReviewStatus.APPROVED:
                raise NotFound("review")  # its content is not public: nor is its existence
            found = snapshot.get(vkey, store.VoteItem)
            before = store.vote_from_item(found, current)
            if before is helpful:
                return Plan(ReviewVote(current, before))
            counted = replace(
                current,
                helpful_votes=current.helpful_votes + (helpful is True) - (before is True),
                unhelpful_votes=current.unhelpful_votes + (helpful is False) - (before is False),
            )
            # Every copy rewritten with the counts; the MOST_HELPFUL one, keyed by the count,
            # moves when the helpful count does.
            stays = set(store.listed_keys(counted))
            deleted: list[TableItem] = [
                store.ListedItem(pk, sk)
                for pk, sk in store.listed_keys(current)
                if (pk, sk) not in stays
            ]
            new: list[TableItem] = []
            changed: list[TableItem] = [store.review_to_item(counted), *store.listed_items(counted)]
            added: list[Add] = []
            if helpful is None:
                assert found is not None  # a standing vote: `before` came from it
                deleted.append(found)
            else:
                if store.votes_today(snapshot.get(dkey, TableItem)) >= MAX_VOTES_PER_DAY:
                    raise InvalidInput(
                        "reviewId", f"At most {MAX_VOTES_PER_DAY} votes a day: try tomorrow."
                    )
                vote = store.VoteItem(
                    *vkey,
                    sku=sku,
                    reviewer_id=reviewer,
                    helpful=helpful,
                    incarnation=current.incarnation,
                    voted_at=now,
                )
                if found is None:
                    new.append(vote)
                else:  # flipped, or left from a deleted review of the same id
                    vote.version = found.version
                    changed.append(vote)
                limit = store.DailyVotesItem.votes.does_not_exist() | (
                    store.DailyVotesItem.votes < MAX_VOTES_PER_DAY
                )
                added.append(Add(store.DailyVotesItem(*dkey), {"votes": 1}, limit))
            return Plan(
                ReviewVote(replace(counted, version=(current.version or 0) + 1), helpful),
                new=new,
                changed=changed,
                deleted=deleted,
                added=added,
            )

        reads_ = [members.member_key(voter), rkey, vkey, dkey]
        return versioned_write(self._clock, reads_, decide)

    # --- reads ----------------------------------------------------------------------------

    def rating(self, actor: Principal, sku: str) -> Rating:
        actor.require(Permission.READ_REVIEWS)
        return store.rating_from_item(reads.get(store.rating_key(_sku(sku)), TableItem))

    def product_reviews(
        self, actor: Principal, sku: str, sort: ReviewSort, first: int, after: str | None
    ) -> ReviewPage:
        """Approved reviews: one Query."""
        actor.require(Permission.READ_REVIEWS)
        sku, first = _sku(sku), page_size(first)
        if sort is ReviewSort.NEWEST:
            pk, prefix, descending = store.newest_pk(sku), store.NEWEST, True
        elif sort is ReviewSort.MOST_HELPFUL:
            pk, prefix, descending = store.helpful_pk(sku), store.BY_HELPFUL, True
        else:
            pk, prefix = store.rating_pk(sku), store.BY_RATING
            descending = sort is ReviewSort.HIGHEST
        return _page(pk, prefix, descending, first, after)

    def mine(self, actor: Principal, first: int, after: str | None) -> ReviewPage:
        """The member's own reviews in any status, by SKU: one Query and one BatchGetItem."""
        member_id = _own(actor)
        first = page_size(first)
        condition = (
            TableItem.sk.startswith(store.MINE)
            if after is None
            else TableItem.sk > decode_cursor(after, store.MINE)
        )
        items = reads.query(store.mine_pk(member_id), condition, limit=first + 1, descending=False)
        found = [i for i in items if isinstance(i, store.MineItem)]
        page = found[:first]
        got = reads.get_many([store.review_key(i.sku, member_id) for i in page])
        shown = [
            (store.review_from_item(r), encode_cursor(i.sk))
            for i in page
            if isinstance(r := got.get(store.review_key(i.sku, member_id)), store.ReviewItem)
        ]
        return ReviewPage([r for r, _ in shown], [c for _, c in shown], len(found) > first)

    def pending(self, actor: Principal, first: int, after: str | None) -> ReviewPage:
        """Admin: the moderation queue, oldest first."""
        actor.require(Permission.MODERATE_REVIEWS)
        return _page(store.PENDING_PK, store.QUEUED, False, page_size(first), after)


MAX_PURCHASES = 20  # orders of one SKU looked at: the newest order ids first


def _verified(member_id: str, sku: str) -> bool:
    """Whether the member has an order of this SKU that was not fully refunded: one Query of
    their purchases of it (kept by api/feedback/reactions.py) and one read of those orders."""
    found = reads.query(
        store.mine_pk(member_id),
        TableItem.sk.startswith(store.purchases_prefix(sku)),
        limit=MAX_PURCHASES,
        descending=True,
    )
    # A SKU may hold "#": BOUGHT#MUG# also starts BOUGHT#MUG#BLUE#<order>, so the order's
    # own lines decide.
    ids = [i.order_id for i in found if isinstance(i, store.PurchaseItem)]
    if not ids:
        return False
    orders = reads.get_many([order_key(o) for o in ids])
    for item in orders.values():
        order = order_in(item)
        if (
            order is not None
            and order.member_id == member_id
            and order.refunded.amount < order.total.amount
            and any(line.sku == sku for line in order.lines)
        ):
            return True
    return False


def _review(snapshot: Snapshot, key: tuple[str, str]) -> Review:
    item = snapshot.get(key, store.ReviewItem)
    if item is None:
        raise NotFound("review")
    return store.review_from_item(item)


def _page(pk: str, prefix: str, descending: bool, first: int, after: str | None) -> ReviewPage:
    condition: Condition
    if after is None:
        condition = TableItem.sk.startswith(prefix)
    else:
        last = decode_cursor(after, prefix)
        condition = TableItem.sk < last if descending else TableItem.sk > last
    items = reads.query(pk, condition, limit=first + 1, descending=descending)
    found = [i for i in items if isinstance(i, store.ListedItem)]
    page = found[:first]
    return ReviewPage(
        [store.listed_from_item(i) for i in page],
        [encode_cursor(i.sk) for i in page],
        len(found) > first,
    )
