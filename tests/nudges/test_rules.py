"""Nudge rules (api/nudges/rules.py): examples, the module's invariants on random inputs, quiet
hours against a minute-by-minute scan around every 2026 offset change, lift against
Newcombe's published values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.errors import InvalidInput
from api.members.model import Channel, Consent
from api.nudges.rules import (
    consented_channels,
    decide,
    in_holdout,
    is_quiet,
    lift,
    next_allowed,
)
from api.nudges.rules_model import (
    Candidate,
    Decision,
    Drop,
    DropReason,
    FrequencyCap,
    Hold,
    Holdout,
    NudgeKind,
    NudgeSettings,
    QuietHours,
    Send,
    SentNudge,
    Staleness,
)

SALT = "nudges-2026"
# Golden values: the group is a pure function of (salt, id), the same on every machine.
IDS = [f"mbr_{i:026x}" for i in range(200)]
HELD_OUT_INDEXES = [27, 51, 105, 119, 125, 128, 136, 154]
MEMBER = IDS[0]  # treated
HELD = IDS[27]
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
# 12:00 in Paris: outside the default quiet hours.
NOON_PARIS = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
ALL = (Channel.EMAIL, Channel.SMS, Channel.PUSH)


def consents(*channels: Channel) -> tuple[Consent, ...]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return tuple(Consent(c, True, at, "signup-form") for c in channels)


def candidate(
    kind: NudgeKind = NudgeKind.POINTS_EXPIRING,
    subject: str = "2026-07-01",
    due_at: datetime = NOON_PARIS - timedelta(hours=1),
    channels: tuple[Channel, ...] = (Channel.EMAIL,),
    member_id: str = MEMBER,
) -> Candidate:
    return Candidate(member_id, kind, subject, due_at, channels)


def rules(caps: tuple[FrequencyCap, ...] = (FrequencyCap(2, WEEK),)) -> NudgeSettings:
    return NudgeSettings(Holdout(SALT), caps=caps)


def run(
    candidates: list[Candidate],
    history: tuple[SentNudge, ...] = (),
    given: tuple[Consent, ...] = consents(*ALL),
    tz: str = "Europe/Paris",
    settings_: NudgeSettings | None = None,
    now: datetime = NOON_PARIS,
) -> list[Decision]:
    return decide(
        candidates,
        history=history,
        consents=given,
        tz=tz,
        settings=settings_ or rules(),
        now=now,
    )


# --- the model ---------------------------------------------------------------------------


def test_priority_is_the_documented_order() -> None:
    assert sorted(NudgeKind, key=lambda k: k.priority) == [
        NudgeKind.POINTS_EXPIRING,
        NudgeKind.TIER_AT_RISK,
        NudgeKind.REWARD_AFFORDABLE,
        NudgeKind.CLOSE_TO_NEXT_TIER,
        NudgeKind.BIRTHDAY,
        NudgeKind.WIN_BACK,
        NudgeKind.REVIEW_REQUEST,
        NudgeKind.NPS_SURVEY,
    ]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: QuietHours(time(8), time(8)), "quietHours.end"),
        (lambda: QuietHours(time(21, tzinfo=UTC), time(8)), "quietHours.start"),
        (lambda: FrequencyCap(0, WEEK), "caps.maxCount"),
        (lambda: FrequencyCap(101, WEEK), "caps.maxCount"),
        (lambda: FrequencyCap(2, timedelta(minutes=59)), "caps.window"),
        (lambda: FrequencyCap(2, timedelta(days=366)), "caps.window"),
        (lambda: Holdout(""), "holdout.salt"),
        (lambda: Holdout("s" * 129), "holdout.salt"),
        (lambda: Holdout(SALT, Decimal("50.01")), "holdout.percent"),
        (lambda: Holdout(SALT, Decimal(-1)), "holdout.percent"),
        (lambda: Holdout(SALT, Decimal("2.505")), "holdout.percent"),
        (lambda: Staleness(((NudgeKind.BIRTHDAY, DAY), (NudgeKind.BIRTHDAY, DAY))), "staleness"),
        (lambda: Staleness(((NudgeKind.WIN_BACK, timedelta(days=31)),)), "staleness.WIN_BACK"),
        (lambda: NudgeSettings(Holdout(SALT), caps=(FrequencyCap(1, DAY),) * 11), "caps"),
        (lambda: candidate(due_at=NOON_PARIS.replace(tzinfo=None)), "dueAt"),
        (
            lambda: SentNudge(NudgeKind.BIRTHDAY, "2026", Channel.SMS, datetime(2026, 1, 1)),
            "sentAt",
        ),
    ],
)
def test_settings_out_of_range_are_refused(build: object, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        build()  # type: ignore[operator]
    assert refused.value.field == field


def test_quiet_hours_wrap_midnight_or_not() -> None:
    night, day = QuietHours(), QuietHours(time(9), time(17))
    assert [night.covers(time(h)) for h in (20, 21, 0, 7, 8)] == [False, True, True, True, False]
    assert [day.covers(time(h)) for h in (8, 9, 16, 17)] == [False, True, True, False]


def test_staleness_defaults_and_overrides() -> None:
    late = candidate(NudgeKind.BIRTHDAY, due_at=NOON_PARIS)
    assert Staleness().deadline(late) == NOON_PARIS + timedelta(hours=16)
    assert Staleness(((NudgeKind.BIRTHDAY, DAY),)).deadline(late) == NOON_PARIS + DAY


# --- holdout -----------------------------------------------------------------------------


def test_holdout_is_stable_across_runs_and_machines() -> None:
    held = [i for i, m in enumerate(IDS) if in_holdout(m, SALT, Decimal(5))]
    assert held == HELD_OUT_INDEXES


def test_holdout_share_is_the_percent_on_a_big_sample() -> None:
    ids = [f"m-{i}" for i in range(100_000)]
    for percent, share in ((Decimal(5), 0.05), (Decimal("2.5"), 0.025), (Decimal(50), 0.5)):
        held = sum(in_holdout(m, SALT, percent) for m in ids) / len(ids)
        assert abs(held - share) < 0.003  # over 4 standard deviations of a binomial share
    assert not any(in_holdout(m, SALT, Decimal(0)) for m in ids[:1000])
    assert all(in_holdout(m, SALT, Decimal(100)) for m in ids[:1000])


def test_a_new_salt_draws_a_new_group() -> None:
    ids = [f"m-{i}" for i in range(2000)]
    first = {m for m in ids if in_holdout(m, SALT, Decimal(5))}
    second = {m for m in ids if in_holdout(m, "another", Decimal(5))}
    assert first
    assert second
    assert first != second


# --- quiet hours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "quiet", "expected"),
    [
        # Outside quiet hours: now itself.
        (NOON_PARIS, "Europe/Paris", QuietHours(), NOON_PARIS),
        # 23:00 the night Paris springs forward: 08:00 CEST, not 08:00 CET.
        (
            datetime(2026, 3, 28, 22, tzinfo=UTC),
            "Europe/Paris",
            QuietHours(),
            datetime(2026, 3, 29, 6, tzinfo=UTC),
        ),
        # The window ends at 02:30, which the gap skips: quiet ends at the jump (03:00 EDT).
        (
            datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
            "America/New_York",
            QuietHours(time(1), time(2, 30)),
            datetime(2026, 3, 8, 7, tzinfo=UTC),
        ),
        # Falling back, 01:30 comes twice: the first one ends it.
        (
            datetime(2026, 11, 1, 4, 15, tzinfo=UTC),
            "America/New_York",
            QuietHours(time(0), time(1, 30)),
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        ),
        # No DST, half-hour offset: 22:00 IST -> 08:00 IST.
        (
            datetime(2026, 3, 29, 16, 30, tzinfo=UTC),
            "Asia/Kolkata",
            QuietHours(),
            datetime(2026, 3, 30, 2, 30, tzinfo=UTC),
        ),
    ],
)
def test_next_allowed_examples(
    now: datetime, tz: str, quiet: QuietHours, expected: datetime
) -> None:
    assert next_allowed(now, tz, quiet) == expected


def test_next_allowed_refuses_unknown_zones_and_naive_times() -> None:
    with pytest.raises(InvalidInput) as unknown:
        next_allowed(NOON_PARIS, "Mars/Olympus_Mons", QuietHours())
    assert unknown.value.field == "timeZone"
    with pytest.raises(InvalidInput):
        next_allowed(NOON_PARIS, "../etc/passwd", QuietHours())
    with pytest.raises(InvalidInput):
        next_allowed(NOON_PARIS.replace(tzinfo=None), "Europe/Paris", QuietHours())


MINUTE = timedelta(minutes=1)
DST_ZONES = ["Europe/Paris", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe"]
QUIET_CASES = [
    QuietHours(),
    QuietHours(time(1), time(2, 30)),  # ends in a spring-forward gap (Europe, US)
    QuietHours(time(0), time(1, 30)),  # ends in a repeated hour (US)
    QuietHours(time(2, 30), time(9)),  # starts in a repeated hour (Europe, Sydney)
    QuietHours(time(2), time(3)),  # exactly the gap / the repeated hour
    QuietHours(time(1, 45), time(2, 15)),  # across Lord Howe's 30-minute shifts
    QuietHours(time(9), time(17)),  # daytime, not wrapping
    QuietHours(time(3), time(2)),  # all but an hour
]


def offset_changes_2026(name: str) -> list[datetime]:
    """Found independently of the code under test: a 30-minute scan, then minute steps."""
    tz, found = ZoneInfo(name), []
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at.year == 2026:
        offset = at.astimezone(tz).utcoffset()
        if (at + 30 * MINUTE).astimezone(tz).utcoffset() != offset:
            change = at
            while change.astimezone(tz).utcoffset() == offset:
                change += MINUTE
            found.append(change)
        at += 30 * MINUTE
    return found


def moments() -> list[tuple[str, datetime]]:
    cases = [(name, change) for name in DST_ZONES for change in offset_changes_2026(name)]
    assert len(cases) == 2 * len(DST_ZONES)  # one change each way in 2026
    # Without DST: any day will do.
    return [*cases, ("Asia/Kolkata", datetime(2026, 3, 29, tzinfo=UTC))]


@pytest.mark.parametrize(("tz", "change"), moments(), ids=str)
def test_next_allowed_matches_a_minute_scan_around_every_2026_change(
    tz: str, change: datetime
) -> None:
    """Every boundary (quiet-hour ends, offset changes) is on a whole UTC minute, so scanning
    minutes is exact: from each `now`, the first minute that is not quiet."""
    zone = ZoneInfo(tz)
    start = change - timedelta(hours=30)
    span = int(timedelta(hours=90) / MINUTE)
    for quiet in QUIET_CASES:
        quiet_at = [is_quiet(start + i * MINUTE, zone, quiet) for i in range(span)]
        first_allowed = [span] * (span + 1)
        for i in range(span - 1, -1, -1):
            first_allowed[i] = first_allowed[i + 1] if quiet_at[i] else i
        steps = [*range(0, 60 * 60, 13), *range(30 * 60 - 2, 30 * 60 + 3)]  # and the change
        for i in steps:
            expected = first_allowed[i]
            assert expected < span
            now = start + i * MINUTE
            assert next_allowed(now, tz, quiet) == start + expected * MINUTE, (quiet, now)
            # Quiet-ness holds for the whole minute: half a minute in, the same answer.
            later = now + timedelta(seconds=30)
            assert next_allowed(later, tz, quiet) == (
                later if expected == i else start + expected * MINUTE
            )


ODD_ZONES = [
    *DST_ZONES,
    "Asia/Kolkata",
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Havana",  # changes at midnight
    "America/Santiago",  # changes at midnight, southern
    "America/St_Johns",  # -03:30 / -02:30
    "UTC",
]


@st.composite
def near_changes(draw: st.DrawFn) -> tuple[datetime, str]:
    """A zone and an instant, mostly within a day and a half of one of its offset changes."""
    tz = draw(st.sampled_from(ODD_ZONES))
    around = [datetime(2026, 6, 1, tzinfo=UTC), *changes_2026(tz)]
    shift = st.integers(-36 * 3600, 36 * 3600).map(lambda s: timedelta(seconds=s))
    return draw(st.sampled_from(around)) + draw(shift), tz


@cache
def changes_2026(tz: str) -> list[datetime]:
    return offset_changes_2026(tz)


@settings(max_examples=500, deadline=None)
@given(
    near_changes(),
    st.tuples(st.integers(0, 1439), st.integers(0, 1439)).filter(lambda se: se[0] != se[1]),
)
def test_next_allowed_is_the_first_allowed_minute_anywhere(
    now_tz: tuple[datetime, str], start_end: tuple[int, int]
) -> None:
    now, tz = now_tz
    quiet = QuietHours(*(time(m // 60, m % 60) for m in start_end))
    zone = ZoneInfo(tz)
    found = next_allowed(now, tz, quiet)
    assert found >= now
    assert not is_quiet(found, zone, quiet)
    # Every whole minute before it is quiet (boundaries fall on whole minutes).
    minute = now.replace(second=0, microsecond=0)
    while minute + MINUTE <= found:
        assert is_quiet(max(minute, now), zone, quiet), minute
        minute += MINUTE


# --- consent -----------------------------------------------------------------------------


def test_no_consent_no_channel_in_order_of_preference() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    given = (
        Consent(Channel.EMAIL, True, at, "checkout"),
        Consent(Channel.SMS, True, at, "checkout"),
        Consent(Channel.PUSH, False, at, "app-settings"),
    )
    assert consented_channels((Channel.PUSH, Channel.SMS, Channel.EMAIL), given) == (
        Channel.SMS,
        Channel.EMAIL,
    )
    assert consented_channels((Channel.SMS, Channel.SMS), given) == (Channel.SMS,)
    assert consented_channels(ALL, ()) == ()
    withdrawn = (*given, Consent(Channel.SMS, False, at + DAY, "unsubscribe"))
    assert consented_channels(ALL, withdrawn) == (Channel.EMAIL,)


# --- decide: examples --------------------------------------------------------------------


def test_sends_on_the_first_consented_channel_now() -> None:
    due = candidate(channels=(Channel.PUSH, Channel.SMS, Channel.EMAIL))
    assert run([due], given=consents(Channel.SMS, Channel.EMAIL)) == [
        Send(due, Channel.SMS, NOON_PARIS)
    ]


def test_the_most_valuable_kind_wins_a_capped_budget() -> None:
    win_back = candidate(NudgeKind.WIN_BACK, "spell-1", due_at=NOON_PARIS - 3 * DAY)
    survey = candidate(NudgeKind.NPS_SURVEY, "2026-06")
    expiring = candidate(NudgeKind.POINTS_EXPIRING, "2026-07-01")
    history = (SentNudge(NudgeKind.BIRTHDAY, "2026", Channel.EMAIL, NOON_PARIS - 2 * DAY),)
    assert run([win_back, survey, expiring], history) == [
        Drop(win_back, DropReason.CAPPED),
        Drop(survey, DropReason.CAPPED),
        Send(expiring, Channel.EMAIL, NOON_PARIS),
    ]


def test_a_channel_cap_moves_the_nudge_to_the_next_channel() -> None:
    caps = (FrequencyCap(1, DAY, Channel.SMS), FrequencyCap(3, WEEK))
    history = (SentNudge(NudgeKind.BIRTHDAY, "2026", Channel.SMS, NOON_PARIS - timedelta(hours=2)),)
    due = candidate(channels=(Channel.SMS, Channel.PUSH))
    assert run([due], history, settings_=rules(caps)) == [Send(due, Channel.PUSH, NOON_PARIS)]


def test_the_rolling_window_excludes_its_start() -> None:
    caps = (FrequencyCap(1, WEEK),)
    due = candidate()
    at_edge = (SentNudge(NudgeKind.WIN_BACK, "s", Channel.EMAIL, NOON_PARIS - WEEK),)
    inside = (SentNudge(NudgeKind.WIN_BACK, "s", Channel.EMAIL, NOON_PARIS - WEEK + MINUTE),)
    assert run([due], at_edge, settings_=rules(caps)) == [Send(due, Channel.EMAIL, NOON_PARIS)]
    assert run([due], inside, settings_=rules(caps)) == [Drop(due, DropReason.CAPPED)]


def test_quiet_hours_hold_until_they_end_or_drop_when_stale_by_then() -> None:
    night = datetime(2026, 6, 10, 21, tzinfo=UTC)  # 23:00 in Paris; 08:00 is 06:00Z
    fresh = candidate(NudgeKind.WIN_BACK, due_at=night)
    birthday = candidate(NudgeKind.BIRTHDAY, "2026", due_at=night - timedelta(hours=8))
    assert run([fresh, birthday], now=night) == [
        Hold(fresh, datetime(2026, 6, 11, 6, tzinfo=UTC)),
        Drop(birthday, DropReason.QUIET_HOURS_STALE),
    ]


def test_members_in_other_zones_at_the_same_instant() -> None:
    now = datetime(2026, 6, 10, 21, tzinfo=UTC)  # 23:00 Paris, 17:00 New York, 07:00 Sydney
    due = candidate(due_at=now)
    assert run([due], tz="America/New_York", now=now) == [Send(due, Channel.EMAIL, now)]
    assert run([due], tz="Europe/Paris", now=now) == [
        Hold(due, datetime(2026, 6, 11, 6, tzinfo=UTC))
    ]
    assert run([due], tz="Australia/Sydney", now=now) == [
        Hold(due, datetime(2026, 6, 10, 22, tzinfo=UTC))
    ]


def test_a_nudge_goes_out_until_its_deadline_inclusive() -> None:
    on_time = candidate(due_at=NOON_PARIS - 2 * DAY)  # POINTS_EXPIRING: 2 days
    late = candidate(due_at=NOON_PARIS - 2 * DAY - timedelta(microseconds=1))
    assert run([on_time]) == [Send(on_time, Channel.EMAIL, NOON_PARIS)]
    assert run([late]) == [Drop(late, DropReason.STALE)]


def test_drops_say_why() -> None:
    sent = candidate(NudgeKind.REWARD_AFFORDABLE, "rwd-1")
    history = (SentNudge(NudgeKind.REWARD_AFFORDABLE, "rwd-1", Channel.SMS, NOON_PARIS - WEEK),)
    stale = candidate(NudgeKind.REVIEW_REQUEST, "ord-1", due_at=NOON_PARIS - 6 * DAY)
    sms_only = candidate(NudgeKind.WIN_BACK, "spell-1", channels=(Channel.SMS,))
    twice = [candidate(NudgeKind.TIER_AT_RISK, "2027-01-01")] * 2
    assert run([sent, stale, sms_only, *twice], history, given=consents(Channel.EMAIL)) == [
        Drop(sent, DropReason.ALREADY_SENT),
        Drop(stale, DropReason.STALE),
        Drop(sms_only, DropReason.NO_CONSENT),
        Send(twice[0], Channel.EMAIL, NOON_PARIS),
        Drop(twice[1], DropReason.ALREADY_SENT),
    ]


def test_held_out_members_get_nothing() -> None:
    due = [candidate(member_id=HELD), candidate(NudgeKind.BIRTHDAY, "2026", member_id=HELD)]
    assert run(due) == [Drop(c, DropReason.HELD_OUT) for c in due]


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput) as mixed:
        run([candidate(), candidate(member_id=IDS[1])])
    assert mixed.value.field == "candidates"
    with pytest.raises(InvalidInput) as zone:
        run([], tz="Europe/Atlantis")
    assert zone.value.field == "timeZone"


# --- decide: the invariants on random inputs ---------------------------------------------

ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
SUBJECTS = ["a", "b", "c"]
channel_lists = st.lists(st.sampled_from(Channel), max_size=4).map(tuple)
minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))


@dataclass(frozen=True)
class Situation:
    candidates: list[Candidate]
    history: tuple[SentNudge, ...]
    consents: tuple[Consent, ...]
    tz: str
    settings: NudgeSettings
    now: datetime


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    now = draw(st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)))
    member = draw(st.sampled_from([MEMBER, HELD, IDS[1], IDS[2]]))
    ago = st.integers(0, 14 * 24 * 60).map(lambda m: now - m * MINUTE)
    candidates = st.builds(
        Candidate,
        st.just(member),
        st.sampled_from(NudgeKind),
        st.sampled_from(SUBJECTS),
        ago,
        channel_lists,
    )
    sent = st.builds(
        SentNudge,
        st.sampled_from(NudgeKind),
        st.sampled_from(SUBJECTS),
        st.sampled_from(Channel),
        ago,
    )
    caps = st.builds(
        FrequencyCap,
        st.integers(1, 3),
        st.integers(1, 10 * 24).map(lambda h: h * timedelta(hours=1)),
        st.none() | st.sampled_from(Channel),
    )
    start, end = draw(st.tuples(minutes, minutes).filter(lambda se: se[0] != se[1]))
    percent = draw(st.sampled_from([Decimal(0), Decimal(5), Decimal(50)]))
    return Situation(
        candidates=draw(st.lists(candidates, max_size=8)),
        history=tuple(draw(st.lists(sent, max_size=6))),
        consents=consents(*draw(st.lists(st.sampled_from(Channel), unique=True))),
        tz=draw(st.sampled_from(ZONES)),
        settings=NudgeSettings(
            Holdout(SALT, percent), QuietHours(start, end), tuple(draw(st.lists(caps, max_size=4)))
        ),
        now=now,
    )


@settings(max_examples=400, deadline=None)
@given(situations())
def test_decisions_keep_every_rule(situation: Situation) -> None:
    candidates, history, now = situation.candidates, situation.history, situation.now
    rules_, given_ = situation.settings, situation.consents
    decisions = decide(
        candidates, history=history, consents=given_, tz=situation.tz, settings=rules_, now=now
    )

    assert [d.candidate for d in decisions] == candidates
    sends = [d for d in decisions if isinstance(d, Send)]
    if candidates and in_holdout(candidates[0].member_id, SALT, rules_.holdout.percent):
        assert not sends
    else:
        assert not [d for d in decisions if isinstance(d, Drop) and d.reason is DropReason.HELD_OUT]

    # Dedupe: nothing sent twice, nothing sent that the history holds.
    keys = [d.candidate.key for d in sends]
    assert len(keys) == len(set(keys))
    assert not set(keys) & {h.key for h in history}

    zone = ZoneInfo(situation.tz)
    timeline = [(h.channel, h.sent_at) for h in history] + [(d.channel, d.at) for d in sends]
    for send in sends:
        assert send.channel in consented_channels(send.candidate.channels, given_)
        assert send.at == now
        assert not is_quiet(send.at, zone, rules_.quiet)
        assert send.at <= rules_.staleness.deadline(send.candidate)
        for cap in rules_.caps:
            if cap.applies_to(send.channel):
                counted = [t for c, t in timeline if cap.applies_to(c) and send.at - cap.window < t]
                assert len(counted) <= cap.max_count, (cap, send)

    for d in decisions:
        if isinstance(d, Hold):
            assert is_quiet(now, zone, rules_.quiet)
            assert now < d.until <= rules_.staleness.deadline(d.candidate)
            assert not is_quiet(d.until, zone, rules_.quiet)
        elif isinstance(d, Drop) and d.reason is DropReason.CAPPED:
            # A capped nudge lost its channels to more valuable kinds, never to less.
            mine = consented_channels(d.candidate.channels, given_)
            assert not any(
                s.channel in mine and s.candidate.kind.priority > d.candidate.kind.priority
                for s in sends
            )
        elif isinstance(d, Drop) and d.reason is DropReason.STALE:
            assert now > rules_.staleness.deadline(d.candidate)


# --- lift --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "difference", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10.
        ((56, 70, 48, 80), 0.2, 0.0524, 0.3339),
        ((9, 10, 3, 10), 0.6, 0.1705, 0.8090),
        ((5, 56, 0, 29), 0.0893, -0.0381, 0.1926),
        ((0, 10, 0, 20), 0.0, -0.1611, 0.2775),
        ((0, 10, 0, 10), 0.0, -0.2775, 0.2775),
        ((10, 10, 0, 20), 1.0, 0.6791, 1.0),
        ((10, 10, 0, 10), 1.0, 0.6075, 1.0),
        # The research memo's 5 % holdout case (Wald said [0.0024, 0.1176]).
        ((95, 950, 2, 50), 0.06, -0.0362, 0.0956),
    ],
)
def test_lift_matches_published_values(
    counts: tuple[int, int, int, int], difference: float, low: float, high: float
) -> None:
    result = lift(*counts)
    assert result.difference is not None
    assert result.interval is not None
    assert (round(result.difference, 4), *(round(x, 4) for x in result.interval)) == (
        difference,
        low,
        high,
    )
    assert result.rate_treated == counts[0] / counts[1]
    assert result.rate_control == counts[2] / counts[3]


def test_lift_by_hand_when_nobody_converts() -> None:
    # Wilson for 0/n is [0, z²/(n + z²)]; Newcombe then gives ±that for two groups of n.
    z2 = 1.959963984540054**2
    upper = z2 / (10 + z2)
    result = lift(0, 10, 0, 10)
    assert result.interval is not None
    assert result.interval[0] == pytest.approx(-upper, abs=1e-15)
    assert result.interval[1] == pytest.approx(upper, abs=1e-15)


def test_lift_with_an_empty_group() -> None:
    empty_control = lift(3, 10, 0, 0)
    assert (empty_control.rate_treated, empty_control.rate_control) == (0.3, None)
    assert (empty_control.difference, empty_control.interval) == (None, None)
    empty_both = lift(0, 0, 0, 0)
    assert (empty_both.rate_treated, empty_both.rate_control) == (None, None)


@pytest.mark.parametrize("counts", [(11, 10, 0, 10), (-1, 10, 0, 10), (0, 10, 1, 0)])
def test_lift_refuses_impossible_counts(counts: tuple[int, int, int, int]) -> None:
    with pytest.raises(InvalidInput):
        lift(*counts)
