"""Asking members NPS and CSAT surveys, their answers, and the scores.

Rules:
- A member is considered for NPS at most once in the program's recontactDays, whatever the
  channel: each consideration (asked, or passed over by sampling) sets the member's
  ASKED#NPS item under its version, so two channels asking at once give one invitation.
- Sampling is a hash, not a coin: NPS of (member, recontact window: the program day's
  ordinal // recontactDays), CSAT of (subject, reference), below npsSamplePercent /
  csatSamplePercent. The same request decides the same, and `nps_due` (which writes
  nothing) agrees with askSurvey for the whole window: a member the sample passes over is
  not re-rolled daily by apps that only read.
- An order or support contact is considered for CSAT once, ever (an item written only if
  absent). A member may ask about their own orders; support contacts only the shop.
- An invitation is answered once (under its version), within INVITATION_DAYS, by its member
  or the shop. The answer is immutable, records the member's tier at that moment (the
  ladder's base tier for a member without one; None only without a ladder), and adds its
  score to the day's score counters in the same transaction: scores are exact.
- askSurvey and submitSurveyAnswer are keyed: a replay returns the first outcome. An ask's
  record is kept idempotency_days (TTL), as apps may ask at every launch; an answer's for
  good (one per invitation).
- Times are the program's (ProgramService.now): the test clock drives throttling and expiry.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from api import cursors
from api import validation as v
from api.auth import Permission, Principal, Role
from api.clock import Clock
from api.config import Config
from api.errors import Forbidden, InvalidInput, MemberNotFound, NotFound, OrderNotFound
from api.feedback import surveys_store as store
from api.feedback.surveys_model import (
    CSAT_MAX,
    CSAT_MIN,
    INVITATION_DAYS,
    MAX_COMMENT,
    NPS_MAX,
    NPS_MIN,
    Answer,
    AnswerPage,
    Asked,
    AskInput,
    CsatSubject,
    Invitation,
    NotDueReason,
    NpsDue,
    ScoreReport,
    SurveyKind,
)
from api.idempotency import Keyed, Plan, fingerprint, keyed_write
from api.members import store as members
from api.members.view import page_size
from api.points.store import order_in, order_key
from api.program import store as program
from api.program.model import SurveySettings
from api.program.service import ProgramService
from api.store import reads
from api.store.base import Key, RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem, record_key
from api.store.tx import Add
from api.tiers.service import TierService

CURSOR = "sa"  # survey answers
MAX_SCORE_DAYS = 366  # one scores query covers at most this many days
_INVITATION_ID = re.compile(r"svy_([0-9a-f]{26})_([0-9a-f]{16})")


def sampled(percent: int, *parts: str) -> bool:
    digest = hashlib.sha256("#".join(parts).encode()).digest()
    return int.from_bytes(digest[:8]) % 100 < percent


def nps_window(now: datetime, surveys: SurveySettings) -> tuple[str, datetime]:
    """The recontact window holding this moment: its index (what sampling hashes), and when
    the next window starts (midnight UTC)."""
    index = now.date().toordinal() // surveys.recontact_days
    start = date.fromordinal((index + 1) * surveys.recontact_days)
    return str(index), datetime(start.year, start.month, start.day, tzinfo=UTC)


def _days(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("to", "Must not be before from.")
    if (end - start).days >= MAX_SCORE_DAYS:
        raise InvalidInput("to", f"At most {MAX_SCORE_DAYS} days at a time.")


def parse_invitation_id(value: str) -> tuple[str, str]:
    """(member id, token) of an invitation id; InvalidInput for anything else."""
    match = _INVITATION_ID.fullmatch(value)
    if match is None:
        raise InvalidInput("invitationId", "Not a survey invitation id.")
    return f"mbr_{match.group(1)}", match.group(2)


def _comment(value: str | None) -> str | None:
    """Optional: blank is none."""
    if value is None or not value.strip():
        return None
    return v.multiline_text("comment", value, MAX_COMMENT)


def _score(kind: SurveyKind, score: int) -> int:
    low, high = (NPS_MIN, NPS_MAX) if kind is SurveyKind.NPS else (CSAT_MIN, CSAT_MAX)
    if isinstance(score, bool) or not low <= score <= high:
        raise InvalidInput("score", f"Must be a whole number from {low} to {high}.")
    return score


def _checked(actor: Principal, data: AskInput) -> AskInput:
    if data.kind is SurveyKind.NPS:
        if data.subject is not None or data.reference is not None:
            raise InvalidInput("subject", "NPS is about the shop: no subject or reference.")
        return data
    if data.subject is None:
        raise InvalidInput("subject", "CSAT is about an ORDER or a SUPPORT contact.")
    if data.reference is None:
        raise InvalidInput("reference", "Name the order id or support contact id.")
    if data.subject is CsatSubject.SUPPORT and actor.role is Role.MEMBER:
        raise InvalidInput("subject", "Only the shop asks about its support contacts.")
    return replace(data, reference=v.external_id("reference", data.reference))


def _target(actor: Principal, member_id: str | None, customer_id: str | None) -> str:
    """Members ask for themselves; the shop names the member."""
    if actor.role is Role.MEMBER:
        actor.require(Permission.ANSWER_OWN_SURVEYS)
        if actor.member_id is None:
            raise Forbidden()
        if member_id is not None or customer_id is not None:
            raise InvalidInput("memberId", "Members are asked for themselves: leave it out.")
        return actor.member_id
    actor.require(Permission.ASK_ANY_SURVEYS)
    return v.member_ref(member_id, customer_id)


class SurveyService:
    def __init__(
        self, config: Config, clock: Clock, program_service: ProgramService, tiers: TierService
    ) -> None:
        self._clock = clock
        self._program = program_service
        self._tiers = tiers
        # Apps may ask at every launch: their records go (TTL) once a retry is unlikely.
        self._keep = timedelta(days=config.idempotency_days)

    def ask(
        self,
        actor: Principal,
        data: AskInput,
        idempotency_key: str,
        member_id: str | None = None,
        customer_id: str | None = None,
    ) -> Asked:
        """Whether the member is due this survey now; if so, an invitation to answer it."""
        target = _target(actor, member_id, customer_id)
        key = v.external_id("idempotencyKey", idempotency_key)
        data = _checked(actor, data)
        keyed = Keyed(
            record_key("ASK_SURVEY", f"{target}#{key}"),
            fingerprint({"input": repr(data)}),
            "idempotencyKey",
        )
        if data.subject is None or data.reference is None:
            throttle = store.nps_due_key(target)
        else:
            throttle = store.csat_asked_key(target, data.subject, data.reference)
        order = (
            order_key(data.reference)
            if data.subject is CsatSubject.ORDER and data.reference is not None
            else None
        )

        def decide(snapshot: Snapshot) -> Plan[Asked]:
            if members.load(snapshot, target) is None:
                raise MemberNotFound()
            if order is not None:
                found = snapshot.get(order, TableItem)
                bought = None if found is None else order_in(found)
                if bought is None or bought.member_id != target:
                    raise OrderNotFound()
            settings = program.settings(snapshot)
            now = self._program.now(settings)
            turn = _turn(snapshot, data, target, throttle, surveys=settings.surveys, now=now)
            new: list[TableItem] = []
            changed: list[TableItem] = []
            if isinstance(turn, Asked):  # not due: only the record is written
                asked = turn
            elif not turn.chosen:
                asked = Asked(None, NotDueReason.NOT_SAMPLED, turn.next_at)
                new, changed = turn.new, turn.changed
            else:
                invitation = Invitation(
                    id=f"svy_{target.removeprefix('mbr_')}_{secrets.token_hex(8)}",
                    member_id=target,
                    kind=data.kind,
                    channel=data.channel,
                    asked_at=now,
                    expires_at=now + timedelta(days=INVITATION_DAYS),
                    subject=data.subject,
                    reference=data.reference,
                )
                asked = Asked(replace(invitation, version=1), None, turn.next_at)
                new = [*turn.new, store.invitation_to_item(invitation)]
                changed = turn.changed
            record = _record(keyed, asked, now, now + self._keep)
            return Plan(asked, new=[*new, record], changed=changed)

        def replay(record: RecordItem) -> Asked:
            answer = record.answer if isinstance(record, IdempotencyItem) else {}
            nxt = answer.get("next_ask_at")
            next_at = None if nxt is None else datetime.fromisoformat(nxt)
            if answer.get("invitation") is None:
                return Asked(None, NotDueReason(answer["reason"]), next_at)
            token = parse_invitation_id(answer["invitation"])[1]
            found = reads.get(store.invitation_key(target, token), store.InvitationItem)
            if found is None:
                raise NotFound("survey invitation")
            return Asked(store.invitation_from_item(found), None, next_at)

        reads_ = [members.member_key(target), throttle, program.SETTINGS_KEY]
        if order is not None:
            reads_.append(order)
        return keyed_write(self._clock, keyed, reads_, decide, replay)

    def answer(
        self,
        actor: Principal,
        invitation_id: str,
        score: int,
        comment: str | None,
        idempotency_key: str,
    ) -> Answer:
        """The invitation's answer: once, before it expires."""
        if actor.role is Role.MEMBER:
            actor.require(Permission.ANSWER_OWN_SURVEYS)
        else:
            actor.require(Permission.ASK_ANY_SURVEYS)
        member_id, token = parse_invitation_id(invitation_id)
        if actor.role is Role.MEMBER and actor.member_id != member_id:
            raise NotFound("survey invitation")  # another member's: as if there were none
        key = v.external_id("idempotencyKey", idempotency_key)
        text = _comment(comment)
        if isinstance(score, bool) or not NPS_MIN <= score <= NPS_MAX:
            raise InvalidInput("score", f"Must be a whole number from {NPS_MIN} to {NPS_MAX}.")
        keyed = Keyed(
            record_key("ANSWER_SURVEY", f"{member_id}#{key}"),
            fingerprint({"invitation": invitation_id, "score": score, "comment": text}),
            "idempotencyKey",
        )
        ikey = store.invitation_key(member_id, token)

        def decide(snapshot: Snapshot) -> Plan[Answer]:
            found = snapshot.get(ikey, store.InvitationItem)
            if found is None:
                raise NotFound("survey invitation")
            invitation = store.invitation_from_item(found)
            if invitation.answer_id is not None:
                raise InvalidInput("invitationId", "This survey was answered already.")
            now = self._program.now(program.settings(snapshot))
            if now >= invitation.expires_at:
                raise InvalidInput("invitationId", "This survey has closed.")
            member = members.load(snapshot, member_id)
            if member is None:
                raise MemberNotFound()
            # No code yet, or one the ladder dropped, is the base tier: one group in scores.
            tier = self._tiers.config().tier(member.tier.code)
            given = Answer(
                answer_id=f"ans_{int(now.timestamp() * 1000):012x}{secrets.token_hex(5)}",
                member_id=member_id,
                kind=invitation.kind,
                score=_score(invitation.kind, score),
                comment=text,
                channel=invitation.channel,
                answered_at=now,
                tier_id=None if tier is None else tier.code,
                subject=invitation.subject,
                reference=invitation.reference,
            )
            answered = replace(invitation, answer_id=given.answer_id, answered_at=now)
            record = IdempotencyItem(
                *keyed.record,
                request_hash=keyed.fingerprint,
                answer={"answer": store.answer_key(given)[1]},
                created_at=now,
            )
            return Plan(
                given,
                new=[store.answer_to_item(given), store.listed_answer_item(given), record],
                changed=[store.invitation_to_item(answered)],
                added=[Add(store.StatsItem(*store.stats_key(given)), store.score_delta(given))],
            )

        def replay(record: RecordItem) -> Answer:
            sk = record.answer["answer"] if isinstance(record, IdempotencyItem) else ""
            found = reads.get((store.answers_pk(member_id), sk), store.SurveyAnswerItem)
            if found is None:
                raise NotFound("survey answer")
            return store.answer_from_item(found)

        reads_ = [ikey, members.member_key(member_id), program.SETTINGS_KEY]
        return keyed_write(self._clock, keyed, reads_, decide, replay)

    def scores(
        self, actor: Principal, kind: SurveyKind, start: date, end: date, tier_id: str | None
    ) -> ScoreReport:
        """Answers given on these UTC days (both included), overall and by tier: one Query of
        the days' score items."""
        actor.require(Permission.READ_SURVEY_SCORES)
        _days(start, end)
        tier = None if tier_id is None else v.external_id("tierId", tier_id)
        low, high = store.stats_range(start, end)
        found = reads.query(
            store.stats_pk(kind),
            TableItem.sk.between(low, high),
            limit=MAX_SCORE_DAYS * store.STATS_SHARDS * 100,
            descending=False,
        )
        items = [i for i in found if isinstance(i, store.StatsItem)]
        if tier is not None:
            items = [i for i in items if store.tier_of(i) == tier]
        tiers: dict[str | None, list[store.StatsItem]] = {}
        for item in items:
            tiers.setdefault(store.tier_of(item), []).append(item)
        by_tier = tuple(
            (t, store.scores_of(kind, group))
            for t, group in sorted(tiers.items(), key=lambda kv: kv[0] or "")
        )
        return ScoreReport(store.scores_of(kind, items), by_tier)

    def nps_due(self, actor: Principal, member_id: str) -> NpsDue:
        """What askSurvey(NPS) would answer now, without asking (nothing is written): one
        BatchGetItem of the member's throttle and the settings."""
        if actor.role is Role.MEMBER:
            actor.require(Permission.ANSWER_OWN_SURVEYS)
            if actor.member_id != member_id:
                raise Forbidden()
        else:
            actor.require(Permission.ASK_ANY_SURVEYS)
        throttle = store.nps_due_key(member_id)
        snapshot = Snapshot([throttle, program.SETTINGS_KEY])
        settings = program.settings(snapshot)
        now = self._program.now(settings)
        mark = snapshot.get(throttle, store.NpsDueItem)
        wait = timedelta(days=settings.surveys.recontact_days)
        if mark is not None and now < mark.considered_at + wait:
            return NpsDue(False, NotDueReason.RECENTLY_ASKED, mark.considered_at + wait)
        window, next_window = nps_window(now, settings.surveys)
        if not sampled(settings.surveys.nps_sample_percent, member_id, "NPS", window):
            return NpsDue(False, NotDueReason.NOT_SAMPLED, next_window)
        return NpsDue(True)

    def answers(
        self,
        actor: Principal,
        kind: SurveyKind,
        start: date,
        end: date,
        *,
        first: int,
        after: str | None,
    ) -> AnswerPage:
        """Admin: the answers given on these UTC days (both included), newest first, with
        their comments: one Query a page, of the kind's listed copies."""
        actor.require(Permission.READ_SURVEY_SCORES)
        _days(start, end)
        size = page_size(first)
        low = start.isoformat()
        high = f"{end.isoformat()}~"  # "~" sorts after any time of that day
        after_sk = None
        if after is not None:
            high = after_sk = cursors.decode(after, CURSOR)
            if not low <= high <= f"{end.isoformat()}~":
                raise InvalidInput("after", "Not a cursor of this list.")
        # One sort-key condition per Query: BETWEEN takes the cursor's own item too; skip it.
        found = reads.query(
            store.listed_pk(kind), TableItem.sk.between(low, high), limit=size + 2, descending=True
        )
        items = [i for i in found if isinstance(i, store.ListedAnswerItem) and i.sk != after_sk]
        answers = [store.answer_from_json(i.answer) for i in items[:size]]
        return AnswerPage(
            answers, [cursors.encode(CURSOR, i.sk) for i in items[:size]], len(items) > size
        )


@dataclass(frozen=True)
class _Turn:
    """The member is due: whether the sample takes them, and the throttle's writes."""

    chosen: bool
    next_at: datetime | None  # NPS: when they are next due
    new: list[TableItem]
    changed: list[TableItem]


def _turn(
    snapshot: Snapshot,
    data: AskInput,
    member_id: str,
    throttle: Key,
    *,
    surveys: SurveySettings,
    now: datetime,
) -> Asked | _Turn:
    """Not due (an Asked without invitation), or this consideration's turn."""
    if data.subject is None or data.reference is None:  # NPS
        due = snapshot.get(throttle, store.NpsDueItem)
        wait = timedelta(days=surveys.recontact_days)
        if due is not None and now < due.considered_at + wait:
            return Asked(None, NotDueReason.RECENTLY_ASKED, due.considered_at + wait)
        mark = store.NpsDueItem(*throttle, considered_at=now)
        if due is not None:
            mark.version = due.version
        window, _ = nps_window(now, surveys)
        chosen = sampled(surveys.nps_sample_percent, member_id, "NPS", window)
        return _Turn(chosen, now + wait, [], [mark])
    if snapshot.get(throttle, store.CsatAskedItem) is not None:
        return Asked(None, NotDueReason.ALREADY_ASKED)
    chosen = sampled(surveys.csat_sample_percent, data.subject.value, data.reference)
    return _Turn(chosen, None, [store.CsatAskedItem(*throttle, considered_at=now)], [])


def _record(keyed: Keyed, asked: Asked, now: datetime, expires: datetime) -> IdempotencyItem:
    return IdempotencyItem(
        *keyed.record,
        request_hash=keyed.fingerprint,
        answer={
            "invitation": None if asked.invitation is None else asked.invitation.id,
            "reason": None if asked.reason is None else asked.reason.value,
            "next_ask_at": None if asked.next_ask_at is None else asked.next_ask_at.isoformat(),
        },
        created_at=now,
        expires=expires,
    )
