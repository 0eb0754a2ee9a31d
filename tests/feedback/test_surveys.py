"""Surveys on moto: asking (throttled across channels, sampled), answering once, exact
scores by day and tier."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.auth import Principal
from api.errors import (
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    NotFound,
    OrderNotFound,
)
from api.feedback import surveys_store as store
from api.feedback.surveys import MAX_SCORE_DAYS, nps_window, sampled
from api.feedback.surveys_model import (
    INVITATION_DAYS,
    MAX_COMMENT,
    AskInput,
    CsatSubject,
    NotDueReason,
    Scores,
    SurveyChannel,
    SurveyKind,
)
from api.ids import member_id_for
from api.program.model import SettingsChange, SurveyChange
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from api.store.records import IdempotencyItem, record_key
from api.tiers.model import SetTierInput
from tests.support import ADMIN, SERVICE, START, enroll, member, order
from tests.tiers.test_tiers import config_input

M1, M2 = member("cust-1"), member("cust-2")
NPS = AskInput(SurveyKind.NPS, SurveyChannel.APP)


def csat(reference: str = "o-1", subject: CsatSubject = CsatSubject.ORDER) -> AskInput:
    return AskInput(SurveyKind.CSAT, SurveyChannel.EMAIL, subject, reference)


@pytest.fixture(autouse=True)
def members(services: Services) -> None:
    for c in ("cust-1", "cust-2"):
        enroll(services, c)


def items() -> list[dict[str, object]]:
    found: list[dict[str, object]] = TableItem._get_connection().scan()["Items"]
    return found


def surveys(services: Services, **change: int) -> None:
    services.program.update(ADMIN, SettingsChange(surveys=SurveyChange(**change)))


def invite(services: Services, key: str = "a1", data: AskInput = NPS, who: Principal = M1) -> str:
    asked = services.surveys.ask(who, data, key)
    assert asked.invitation is not None, asked
    return asked.invitation.id


def test_nps_is_asked_once_per_recontact_days_across_channels(services: Services) -> None:
    asked = services.surveys.ask(M1, NPS, "a1")
    assert asked.invitation is not None
    assert asked.invitation.member_id == M1.member_id
    assert asked.invitation.expires_at == START + timedelta(days=INVITATION_DAYS)
    assert asked.next_ask_at == START + timedelta(days=90)
    assert services.surveys.ask(M1, NPS, "a1") == asked  # a replay
    with pytest.raises(IdempotencyConflict):
        services.surveys.ask(M1, AskInput(SurveyKind.NPS, SurveyChannel.WEB), "a1")
    by_email = AskInput(SurveyKind.NPS, SurveyChannel.EMAIL)
    again = services.surveys.ask(SERVICE, by_email, "e1", customer_id="cust-1")
    assert (again.invitation, again.reason) == (None, NotDueReason.RECENTLY_ASKED)
    assert again.next_ask_at == START + timedelta(days=90)
    services.program.advance_clock(ADMIN, days=89)
    assert services.surveys.ask(M1, NPS, "a2").reason is NotDueReason.RECENTLY_ASKED
    services.program.advance_clock(ADMIN, days=1)
    later = services.surveys.ask(SERVICE, by_email, "e2", member_id=M1.member_id)
    assert later.invitation is not None
    assert later.invitation.channel is SurveyChannel.EMAIL
    assert services.surveys.ask(M2, NPS, "a1").invitation is not None  # each member apart


def test_recontact_days_is_read_at_each_ask(services: Services) -> None:
    invite(services)
    surveys(services, recontact_days=7)
    services.program.advance_clock(ADMIN, days=6)
    assert services.surveys.ask(M1, NPS, "a2").reason is NotDueReason.RECENTLY_ASKED
    services.program.advance_clock(ADMIN, days=1)
    assert services.surveys.ask(M1, NPS, "a3").invitation is not None


def test_a_member_passed_over_by_sampling_waits_like_one_asked(services: Services) -> None:
    surveys(services, nps_sample_percent=0)
    out = services.surveys.ask(M1, NPS, "a1")
    assert (out.invitation, out.reason) == (None, NotDueReason.NOT_SAMPLED)
    assert out.next_ask_at == START + timedelta(days=90)
    surveys(services, nps_sample_percent=100)
    assert services.surveys.ask(M1, NPS, "a2").reason is NotDueReason.RECENTLY_ASKED
    services.program.advance_clock(ADMIN, days=90)
    assert services.surveys.ask(M1, NPS, "a3").invitation is not None


def test_sampling_takes_about_the_share_and_the_same_members(services: Services) -> None:
    surveys(services, nps_sample_percent=30)
    customers = [f"c-{i}" for i in range(60)]
    taken = []
    for c in customers:
        enroll(services, c)
        asked = services.surveys.ask(member(c), NPS, "k")
        window = str(START.date().toordinal() // 90)
        assert (asked.invitation is not None) == sampled(30, member_id_for(c), "NPS", window)
        taken.append(asked.invitation is not None)
    assert 8 <= sum(taken) <= 28  # 18 expected; the hash is fixed, so this never flakes


def test_csat_once_per_order_and_only_ones_own(services: Services) -> None:
    order(services, "o-1", "20")
    order(services, "o-2", "20", customer_id="cust-2")
    asked = services.surveys.ask(M1, csat(), "c1")
    assert asked.invitation is not None
    assert (asked.invitation.subject, asked.invitation.reference) == (CsatSubject.ORDER, "o-1")
    assert asked.next_ask_at is None
    assert services.surveys.ask(M1, csat(), "c2").reason is NotDueReason.ALREADY_ASKED
    assert services.surveys.ask(M1, NPS, "n1").invitation is not None  # NPS is apart
    before = items()
    for ref in ("o-2", "o-404"):
        with pytest.raises(OrderNotFound):
            services.surveys.ask(M1, csat(ref), f"c-{ref}")
    with pytest.raises(InvalidInput) as exc:
        services.surveys.ask(M1, csat("t-1", CsatSubject.SUPPORT), "c3")
    assert exc.value.field == "subject"
    assert items() == before
    support = services.surveys.ask(
        SERVICE, csat("t-1", CsatSubject.SUPPORT), "s1", customer_id="cust-1"
    )
    assert support.invitation is not None
    surveys(services, csat_sample_percent=0)
    order(services, "o-3", "20")
    out = services.surveys.ask(M1, csat("o-3"), "c4")
    assert out.reason is NotDueReason.NOT_SAMPLED
    surveys(services, csat_sample_percent=100)
    assert services.surveys.ask(M1, csat("o-3"), "c5").reason is NotDueReason.ALREADY_ASKED


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (AskInput(SurveyKind.NPS, SurveyChannel.APP, CsatSubject.ORDER, "o-1"), "subject"),
        (AskInput(SurveyKind.CSAT, SurveyChannel.APP, None, "o-1"), "subject"),
        (AskInput(SurveyKind.CSAT, SurveyChannel.APP, CsatSubject.ORDER, None), "reference"),
        (AskInput(SurveyKind.CSAT, SurveyChannel.APP, CsatSubject.ORDER, "o 1"), "reference"),
        (AskInput(SurveyKind.CSAT, SurveyChannel.APP, CsatSubject.ORDER, ""), "reference"),
        (AskInput(SurveyKind.CSAT, SurveyChannel.APP, CsatSubject.ORDER, "x" * 129), "reference"),
        (AskInput(SurveyKind.CSAT, SurveyChannel.APP, CsatSubject.ORDER, "o\u202e1"), "reference"),
    ],
)
def test_bad_asks_write_nothing(services: Services, data: AskInput, field: str) -> None:
    before = items()
    with pytest.raises(InvalidInput) as exc:
        services.surveys.ask(SERVICE, data, "k", customer_id="cust-1")
    assert exc.value.field == field
    assert items() == before


def test_who_asks_whom(services: Services) -> None:
    with pytest.raises(Forbidden):
        services.surveys.ask(ADMIN, NPS, "k", customer_id="cust-1")
    with pytest.raises(InvalidInput) as exc:
        services.surveys.ask(M1, NPS, "k", member_id=M2.member_id)
    assert exc.value.field == "memberId"
    with pytest.raises(InvalidInput):
        services.surveys.ask(SERVICE, NPS, "k")  # names nobody
    with pytest.raises(InvalidInput):
        services.surveys.ask(SERVICE, NPS, "bad key", customer_id="cust-1")
    with pytest.raises(MemberNotFound):
        services.surveys.ask(SERVICE, NPS, "k", customer_id="nobody")
    with pytest.raises(MemberNotFound):
        services.surveys.ask(member("nobody"), NPS, "k")


def test_an_invitation_is_answered_once(services: Services) -> None:
    inv = invite(services)
    answer = services.surveys.answer(M1, inv, 3, "  Slow delivery.\nAgain.  ", "x1")
    assert (answer.kind, answer.score, answer.comment) == (
        SurveyKind.NPS,
        3,
        "Slow delivery.\nAgain.",
    )
    assert answer.needs_follow_up
    assert answer.channel is SurveyChannel.APP
    assert answer.answered_at == START
    assert services.surveys.answer(M1, inv, 3, "Slow delivery.\nAgain.", "x1") == answer
    with pytest.raises(IdempotencyConflict):
        services.surveys.answer(M1, inv, 4, None, "x1")
    before = items()
    with pytest.raises(InvalidInput) as exc:
        services.surveys.answer(M1, inv, 9, None, "x2")
    assert exc.value.field == "invitationId"
    assert items() == before
    # The answer item is the closed loop's contract: its key and its mapping.
    stored = reads.get(store.answer_key(answer), store.SurveyAnswerItem)
    assert stored is not None
    assert store.answer_from_item(stored) == answer


def test_answers_keep_the_members_tier_when_they_answered(services: Services) -> None:
    services.tiers.update(ADMIN, config_input())
    data = SetTierInput("GOLD", "Deal", START + timedelta(days=300), "t1", customer_id="cust-1")
    services.tiers.set_member_tier(ADMIN, data)
    answer = services.surveys.answer(M1, invite(services), 10, None, "x1")
    assert answer.tier_id == "GOLD"
    plain = services.surveys.answer(M2, invite(services, who=M2), 10, None, "x1")
    assert plain.tier_id == "BRONZE"  # no tier yet: the ladder's base tier


def test_the_shop_may_relay_an_answer_and_others_see_nothing(services: Services) -> None:
    inv = invite(services)
    with pytest.raises(NotFound):
        services.surveys.answer(M2, inv, 9, None, "x1")  # another member's
    with pytest.raises(Forbidden):
        services.surveys.answer(ADMIN, inv, 9, None, "x1")
    assert services.surveys.answer(SERVICE, inv, 9, None, "x1").member_id == M1.member_id
    with pytest.raises(NotFound):
        services.surveys.answer(M1, "svy_" + "0" * 26 + "_" + "0" * 16, 9, None, "x2")


def test_an_invitation_closes_after_its_days(services: Services) -> None:
    inv = invite(services)
    services.program.advance_clock(ADMIN, days=INVITATION_DAYS)
    with pytest.raises(InvalidInput) as exc:
        services.surveys.answer(M1, inv, 9, None, "x1")
    assert exc.value.field == "invitationId"


@pytest.mark.parametrize(
    ("kind", "score", "comment", "field"),
    [
        (SurveyKind.NPS, 11, None, "score"),
        (SurveyKind.NPS, -1, None, "score"),
        (SurveyKind.NPS, True, None, "score"),
        (SurveyKind.CSAT, 0, None, "score"),
        (SurveyKind.CSAT, 6, None, "score"),
        (SurveyKind.NPS, 5, "x" * (MAX_COMMENT + 1), "comment"),
        (SurveyKind.NPS, 5, "ok\u0000", "comment"),
        (SurveyKind.NPS, 5, "ok\u200b", "comment"),
        (SurveyKind.NPS, 5, "ok\ud800", "comment"),
    ],
)
def test_bad_answers_write_nothing(
    services: Services, kind: SurveyKind, score: int, comment: str | None, field: str
) -> None:
    order(services, "o-1", "20")
    inv = invite(services, data=NPS if kind is SurveyKind.NPS else csat())
    before = items()
    with pytest.raises(InvalidInput) as exc:
        services.surveys.answer(M1, inv, score, comment, "x1")
    assert exc.value.field == field
    assert items() == before


@pytest.mark.parametrize("value", ["", "svy_1", "svy_" + "0" * 26 + "_" + "g" * 16, "x" * 5000])
def test_not_an_invitation_id(services: Services, value: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.surveys.answer(M1, value, 5, None, "x1")
    assert exc.value.field == "invitationId"


def test_a_blank_comment_is_none(services: Services) -> None:
    assert services.surveys.answer(M1, invite(services), 7, " \n ", "x1").comment is None


def test_scores_are_exact_by_day_and_tier(services: Services) -> None:
    services.tiers.update(ADMIN, config_input())
    customers = [f"s-{i}" for i in range(6)]
    for i, c in enumerate(customers):
        enroll(services, c)
        if i % 2:
            until = START + timedelta(days=300)
            services.tiers.set_member_tier(
                ADMIN, SetTierInput("GOLD", "x", until, "t", customer_id=c)
            )
    day1 = [10, 9, 8, 6, 0, 10]  # 3 promoters, 2 detractors
    for c, score in zip(customers, day1, strict=True):
        services.surveys.answer(member(c), invite(services, who=member(c)), score, None, "k")
    services.program.advance_clock(ADMIN, days=100)
    for c, score in zip(customers[:2], [0, 0], strict=True):
        asked = services.surveys.ask(member(c), NPS, "k2")
        assert asked.invitation is not None
        services.surveys.answer(member(c), asked.invitation.id, score, None, "k2")
    first = START.date()
    report = services.surveys.scores(ADMIN, SurveyKind.NPS, first, first, None)
    total = report.total
    assert (total.count, total.promoters, total.detractors) == (6, 3, 2)
    assert total.histogram == (1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 2)
    assert total.nps == 16.7
    assert total.average == 7.17
    assert total.csat_percent is None
    tiers = {t: s.histogram for t, s in report.by_tier}
    assert tiers == {
        "BRONZE": (1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1),  # s-0: 10, s-2: 8, s-4: 0
        "GOLD": (0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1),  # s-1: 9, s-3: 6, s-5: 10
    }
    both = services.surveys.scores(ADMIN, SurveyKind.NPS, first, first + timedelta(days=100), None)
    assert (both.total.count, both.total.detractors) == (8, 4)
    assert both.total.nps == -12.5
    later = services.surveys.scores(
        ADMIN, SurveyKind.NPS, first + timedelta(days=1), first + timedelta(days=200), "GOLD"
    )
    assert (later.total.count, [t for t, _ in later.by_tier]) == (1, ["GOLD"])
    none = services.surveys.scores(ADMIN, SurveyKind.CSAT, first, first, None)
    assert (none.total.count, none.total.csat_percent, none.total.average) == (0, None, None)
    assert none.by_tier == ()


def test_csat_scores(services: Services) -> None:
    for i, score in enumerate([5, 4, 2, 1, 5]):
        order(services, f"o-{i}", "20")
        services.surveys.answer(
            M1, invite(services, f"c{i}", csat(f"o-{i}")), score, None, "k" + str(i)
        )
    day = START.date()
    total = services.surveys.scores(ADMIN, SurveyKind.CSAT, day, day, None).total
    assert (total.count, total.histogram, total.csat_percent) == (5, (1, 1, 0, 1, 2), 60.0)
    assert (total.nps, total.promoters) == (None, 0)
    assert services.surveys.scores(ADMIN, SurveyKind.NPS, day, day, None).total.count == 0


@pytest.mark.parametrize(
    ("start", "end", "tier", "field"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), None, "to"),
        (date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=MAX_SCORE_DAYS), None, "to"),
        (date.min, date.max, None, "to"),
        (date(2026, 1, 1), date(2026, 1, 2), "a b", "tierId"),
    ],
)
def test_bad_score_ranges(
    services: Services, start: date, end: date, tier: str | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.surveys.scores(ADMIN, SurveyKind.NPS, start, end, tier)
    assert exc.value.field == field


def test_the_widest_range_at_the_calendars_ends(services: Services) -> None:
    last = date.max
    first = last - timedelta(days=MAX_SCORE_DAYS - 1)
    assert services.surveys.scores(ADMIN, SurveyKind.NPS, first, last, None).total.count == 0
    assert services.surveys.scores(ADMIN, SurveyKind.NPS, date.min, date.min, None).by_tier == ()


def test_only_admins_read_scores(services: Services) -> None:
    for who in (M1, SERVICE):
        with pytest.raises(Forbidden):
            services.surveys.scores(who, SurveyKind.NPS, START.date(), START.date(), None)


def test_an_asks_record_goes_after_the_idempotency_days(services: Services) -> None:
    """Apps may ask at every launch: their records must not pile up for good."""
    invite(services)
    services.surveys.ask(M1, NPS, "a2")  # not due: a record too
    for key in ("a1", "a2"):
        found = reads.get(record_key("ASK_SURVEY", f"{M1.member_id}#{key}"), IdempotencyItem)
        assert found is not None
        assert found.expires == START + timedelta(days=services.config.idempotency_days)


def test_surveys_due_tells_what_ask_would_answer_and_writes_nothing(services: Services) -> None:
    member_id = M1.member_id or ""
    assert services.surveys.nps_due(M1, member_id).due
    before = items()
    assert services.surveys.nps_due(SERVICE, member_id).due  # the shop asks for anyone
    assert items() == before
    invite(services)
    due = services.surveys.nps_due(M1, member_id)
    assert (due.due, due.reason, due.next_ask_at) == (
        False,
        NotDueReason.RECENTLY_ASKED,
        START + timedelta(days=90),
    )
    services.program.advance_clock(ADMIN, days=90)
    assert services.surveys.nps_due(M1, member_id).due
    with pytest.raises(Forbidden):
        services.surveys.nps_due(M2, member_id)  # another member's
    with pytest.raises(Forbidden):
        services.surveys.nps_due(ADMIN, member_id)


def test_surveys_due_and_ask_agree_on_sampling_for_the_whole_window(services: Services) -> None:
    surveys(services, nps_sample_percent=50, recontact_days=7)
    customers = [f"w-{i}" for i in range(12)]
    for c in customers:
        enroll(services, c)
    _, next_window = nps_window(START, services.program.load().surveys)
    days_left = (next_window - START).days
    for day in range(days_left):  # reading every day re-rolls nobody within the window
        for c in customers:
            due = services.surveys.nps_due(member(c), member_id_for(c))
            window = str((START.date().toordinal() + day) // 7)
            assert due.due == sampled(50, member_id_for(c), "NPS", window)
            if not due.due:
                assert (due.reason, due.next_ask_at) == (NotDueReason.NOT_SAMPLED, next_window)
        if day < days_left - 1:
            services.program.advance_clock(ADMIN, days=1)
    for c in customers:
        due = services.surveys.nps_due(member(c), member_id_for(c))
        asked = services.surveys.ask(member(c), NPS, f"k-{c}")
        assert (asked.invitation is not None) == due.due


def test_admins_read_answers_with_comments_newest_first(services: Services) -> None:
    ids = []
    for i, who in enumerate((M1, M2)):
        asked = services.surveys.ask(who, NPS, f"a{i}")
        assert asked.invitation is not None
        services.program.advance_clock(ADMIN, seconds=60)
        given = services.surveys.answer(who, asked.invitation.id, 3 + i, f"Comment {i}", f"k{i}")
        ids.append(given.answer_id)
    day = START.date()
    page = services.surveys.answers(ADMIN, SurveyKind.NPS, day, day, first=1, after=None)
    assert [a.answer_id for a in page.answers] == [ids[1]]
    assert page.has_next
    assert page.answers[0].comment == "Comment 1"
    rest = services.surveys.answers(ADMIN, SurveyKind.NPS, day, day, first=5, after=page.cursors[0])
    assert [a.answer_id for a in rest.answers] == [ids[0]]
    assert not rest.has_next
    before = services.surveys.answers(
        ADMIN, SurveyKind.NPS, day - timedelta(days=3), day - timedelta(days=1), first=5, after=None
    )
    assert before.answers == []
    assert (
        services.surveys.answers(ADMIN, SurveyKind.CSAT, day, day, first=5, after=None).answers
        == []
    )
    with pytest.raises(InvalidInput):
        services.surveys.answers(ADMIN, SurveyKind.NPS, day, day, first=5, after="bogus")
    with pytest.raises(InvalidInput):  # a cursor from outside the period asked
        services.surveys.answers(
            ADMIN,
            SurveyKind.NPS,
            day + timedelta(days=1),
            day + timedelta(days=2),
            first=5,
            after=page.cursors[0],
        )
    with pytest.raises(InvalidInput):
        services.surveys.answers(
            ADMIN, SurveyKind.NPS, day, day - timedelta(days=1), first=5, after=None
        )
    with pytest.raises(Forbidden):
        services.surveys.answers(M1, SurveyKind.NPS, day, day, first=5, after=None)


@pytest.mark.parametrize(
    ("kind", "histogram", "nps", "csat"),
    [
        # 1 promoter of 16: 6.25, half up as by hand (a float's round() gives 6.2)
        (SurveyKind.NPS, (0,) * 8 + (15, 0, 1), 6.3, None),
        (SurveyKind.NPS, (1,) + (0,) * 7 + (15, 0, 0), -6.3, None),  # half away from zero
        (SurveyKind.NPS, (0,) * 8 + (79, 0, 1), 1.3, None),  # 1.25
        (SurveyKind.NPS, (0,) * 7 + (2, 0, 1, 0), 33.3, None),  # a third, down
        (SurveyKind.NPS, (0,) * 11, None, None),
        (SurveyKind.CSAT, (15, 0, 0, 0, 1), None, 6.3),
        (SurveyKind.CSAT, (1, 0, 1, 0, 1), None, 33.3),
    ],
)
def test_scores_round_half_up_to_one_decimal(
    kind: SurveyKind, histogram: tuple[int, ...], nps: float | None, csat: float | None
) -> None:
    scores = Scores(kind, histogram)
    assert (scores.nps, scores.csat_percent) == (nps, csat)
