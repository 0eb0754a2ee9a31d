"""Nudge rules, pure: who gets which nudge, on which channel, when, and why not. No I/O and
no clock: `now` is given. The scheduler (finding due nudges) and the sender (re-checking
before it sends) call these; they are built next, so today only the tests do.

Invariants (tests/nudges/test_rules.py checks each on random inputs):
- No consent, no message: a Send's channel is one the member consented to and the candidate
  lists.
- Holdout members are never sent anything: a candidate of theirs that would be sent is
  HELD_OUT instead (recorded as the control group); the others fall as anyone's would.
- One nudge per member, kind and subject: one in the history, or sent earlier in the same
  decision, drops the others as ALREADY_SENT.
- Never in quiet hours: a Send's `at` is outside them in the member's local time; a Hold
  waits for `next_allowed`, or drops as QUIET_HOURS_STALE when that is past its deadline.
- Caps never exceeded, counting this decision's own sends: for each cap that applies to a
  Send's channel, the sends (history and this decision) in (at - window, at] are at most
  max_count. Candidates are served in priority order, so the most valuable kind wins.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from api import validation as v
from api.errors import InvalidInput
from api.members.model import Channel, Consent
from api.nudges.rules_model import (
    Candidate,
    Decision,
    Drop,
    DropReason,
    FrequencyCap,
    Hold,
    Lift,
    NudgeSettings,
    QuietHours,
    Send,
    SentNudge,
)

_BASIS_POINTS = 10_000
# Quiet hours last under 24 h of wall time; with a DST shift they still end within 50 h.
_HORIZON = timedelta(hours=50)
_HOUR = timedelta(hours=1)
# The 0.975 quantile of the standard normal distribution.
Z95 = 1.959963984540054


def in_holdout(member_id: str, salt: str, percent: Decimal) -> bool:
    """Whether the member is in the control group. Deterministic on every machine and run
    (sha256, not Python's salted hash()); each member falls in with probability `percent`
    (in 0.01 steps, as Holdout validates). The NUL separator keeps ("ab", "c") and ("a",
    "bc") apart."""
    digest = hashlib.sha256(f"{salt}\0{member_id}".encode()).digest()
    # 2**64 % 10_000 leaves a bias of about 1e-15: nothing.
    return int.from_bytes(digest[:8], "big") % _BASIS_POINTS < percent * 100


def zone(name: str) -> ZoneInfo:
    """The member's zone; an unknown name is InvalidInput (the pinned tzdata's list)."""
    return ZoneInfo(v.time_zone("timeZone", name))


def is_quiet(at: datetime, tz: ZoneInfo, quiet: QuietHours) -> bool:
    return quiet.covers(at.astimezone(tz).time())


def next_allowed(now_utc: datetime, tz: str, quiet: QuietHours) -> datetime:
    """The first instant >= now outside quiet hours in the zone `tz` (UTC).

    Local wall time advances continuously except at offset changes, so quiet hours can end
    only where the wall clock reads `end` (on either side of a fall-back) or at an offset
    change (a spring-forward gap that skips `end`, a fall-back to before `start`). The
    answer is the earliest of those that is allowed; a naive "today at `end`" is an hour
    off in a gap and a day off when a fall-back re-enters the window."""
    return _next_allowed(v.aware("now", now_utc), zone(tz), quiet)


def _next_allowed(now: datetime, local_zone: ZoneInfo, quiet: QuietHours) -> datetime:
    if not is_quiet(now, local_zone, quiet):
        return now
    day = now.astimezone(local_zone).date()
    candidates = set(_offset_changes(local_zone, now, now + _HORIZON))
    for days in range(3):
        for fold in (0, 1):
            wall = datetime.combine(day + timedelta(days=days), quiet.end, local_zone)
            instant = wall.replace(fold=fold).astimezone(UTC)
            # In a gap the wall time does not exist: converting back gives another reading.
            if instant.astimezone(local_zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
                candidates.add(instant)
    return min(t for t in candidates if t > now and not is_quiet(t, local_zone, quiet))


def _offset_changes(tz: ZoneInfo, start: datetime, stop: datetime) -> Iterator[datetime]:
    """The instants after `start` (and up to an hour past `stop`) where the zone's UTC offset
    changes, to the second: zones change at most once an hour, on whole seconds."""
    at, offset = start, start.astimezone(tz).utcoffset()
    while at < stop:
        after = at + _HOUR
        if after.astimezone(tz).utcoffset() != offset:
            lo, hi = math.floor(at.timestamp()), math.ceil(after.timestamp())
            while hi - lo > 1:  # offset(lo) is the old one, offset(hi) the new one
                mid = (lo + hi) // 2
                if datetime.fromtimestamp(mid, tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            yield datetime.fromtimestamp(hi, UTC)
            offset = after.astimezone(tz).utcoffset()
        at = after


def consented_channels(
    preferences: Sequence[Channel], consents: Sequence[Consent]
) -> tuple[Channel, ...]:
    """The preferred channels the member consented to, in order of preference, each once: no
    consent (or a withdrawn one, the newest record deciding), no channel."""
    granted: dict[Channel, bool] = {}
    for consent in sorted(consents, key=lambda c: c.updated_at):
        granted[consent.channel] = consent.granted
    return tuple(dict.fromkeys(c for c in preferences if granted.get(c, False)))


def decide(
    candidates: Sequence[Candidate],
    *,
    history: Sequence[SentNudge],
    consents: Sequence[Consent],
    tz: str,
    settings: NudgeSettings,
    now: datetime,
) -> list[Decision]:
    """One decision per candidate (in the candidates' order) for one member: Send, Hold or
    Drop with a reason; the invariants are the module's. Checks, in order: already sent,
    no consent, stale, quiet hours, caps, and last held out (instead of a Send).
    Candidates are decided in priority order (then oldest due first), each taking a place
    under the caps the next ones see."""
    now = v.aware("now", now)
    local_zone = zone(tz)  # an unknown zone is refused even when nothing is due
    if len({c.member_id for c in candidates}) > 1:
        raise InvalidInput("candidates", "All candidates must be for one member.")
    if not candidates:
        return []
    held_out = in_holdout(candidates[0].member_id, settings.holdout.salt, settings.holdout.percent)
    at = _next_allowed(now, local_zone, settings.quiet)
    sent = {h.key for h in history}
    sends = [(h.channel, h.sent_at) for h in history]

    def one(candidate: Candidate) -> Decision:
        if candidate.key in sent:
            return Drop(candidate, DropReason.ALREADY_SENT)
        channels = consented_channels(candidate.channels, consents)
        if not channels:
            return Drop(candidate, DropReason.NO_CONSENT)
        deadline = settings.staleness.deadline(candidate)
        if now > deadline:
            return Drop(candidate, DropReason.STALE)
        if at > now:
            if at > deadline:
                return Drop(candidate, DropReason.QUIET_HOURS_STALE)
            return Hold(candidate, at)
        for channel in channels:
            if all(_has_room(cap, channel, sends, now) for cap in settings.caps):
                sends.append((channel, now))
                sent.add(candidate.key)
                # The control group is those who would have been sent, decided last: then
                # treated and held-out members differ only in the message (lift compares
                # like with like), and held-out members fill their caps the same way.
                if held_out:
                    return Drop(candidate, DropReason.HELD_OUT)
                return Send(candidate, channel, now)
        return Drop(candidate, DropReason.CAPPED)

    order = sorted(
        range(len(candidates)),
        key=lambda i: (candidates[i].kind.priority, candidates[i].due_at, i),
    )
    decisions = {i: one(candidates[i]) for i in order}
    return [decisions[i] for i in range(len(candidates))]


def _has_room(
    cap: FrequencyCap, channel: Channel, sends: Sequence[tuple[Channel, datetime]], at: datetime
) -> bool:
    """Whether one more send on `channel` at `at` keeps this cap. Sends in (at - window, at]
    count; one recorded after `at` (another clock ran ahead) counts too, to stay safe."""
    if not cap.applies_to(channel):
        return True
    start = at - cap.window
    count = sum(1 for c, t in sends if cap.applies_to(c) and t > start)
    return count < cap.max_count


def _wilson(successes: int, total: int) -> tuple[float, float]:
    """Wilson's score interval for one proportion (total > 0)."""
    p = successes / total
    z2 = Z95 * Z95
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    return centre - half, centre + half


def lift(
    treated_conversions: int, treated_total: int, control_conversions: int, control_total: int
) -> Lift:
    """Conversion rates of treated and held-out members, their difference and its 95 %
    interval by Newcombe's hybrid score method (his method 10, from two Wilson intervals):
    unlike the Wald interval it stays inside [-1, 1] and is not degenerate at 0 % or 100 %.
    An empty group has no rate; then there is no difference either."""
    for field, conversions, total in (
        ("treated", treated_conversions, treated_total),
        ("control", control_conversions, control_total),
    ):
        if total < 0 or not 0 <= conversions <= total:
            raise InvalidInput(field, "Conversions must be 0 to the group's size.")
    rate_t = treated_conversions / treated_total if treated_total else None
    rate_c = control_conversions / control_total if control_total else None
    if rate_t is None or rate_c is None:
        return Lift(rate_t, rate_c, None, None)
    low_t, high_t = _wilson(treated_conversions, treated_total)
    low_c, high_c = _wilson(control_conversions, control_total)
    difference = rate_t - rate_c
    low = difference - math.sqrt((rate_t - low_t) ** 2 + (high_c - rate_c) ** 2)
    high = difference + math.sqrt((high_t - rate_t) ** 2 + (rate_c - low_c) ** 2)
    return Lift(rate_t, rate_c, difference, (low, high))
