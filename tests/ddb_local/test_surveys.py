"""Surveys under real concurrency (DynamoDB Local): channels asking at once give one
invitation, an invitation takes one answer, and scores count every answer exactly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial

import pytest

from api.errors import InvalidInput
from api.feedback.surveys_model import (
    Answer,
    Asked,
    AskInput,
    CsatSubject,
    NotDueReason,
    SurveyChannel,
    SurveyKind,
)
from api.services import Services
from tests.ddb_local.test_concurrency import all_at_once
from tests.support import ADMIN, SERVICE, enroll, member, order

pytestmark = pytest.mark.ddb_local

M1 = member("cust-1")


def test_every_channel_at_once_asks_nps_once(local_services: Services) -> None:
    s = local_services
    enroll(s, "cust-1")
    app: list[Callable[[], Asked]] = [
        partial(s.surveys.ask, M1, AskInput(SurveyKind.NPS, SurveyChannel.APP), f"app-{i}")
        for i in range(5)
    ]
    shop: list[Callable[[], Asked]] = [
        partial(
            s.surveys.ask,
            SERVICE,
            AskInput(SurveyKind.NPS, channel),
            f"shop-{channel}",
            customer_id="cust-1",
        )
        for channel in (SurveyChannel.EMAIL, SurveyChannel.SMS, SurveyChannel.PUSH)
    ]
    asks = app + shop
    results = all_at_once(asks)
    assert all(isinstance(r, Asked) for r in results), results
    asked = [r for r in results if isinstance(r, Asked)]
    assert sum(r.invitation is not None for r in asked) == 1
    assert Counter(r.reason for r in asked if r.invitation is None) == {
        NotDueReason.RECENTLY_ASKED: len(asks) - 1
    }


def test_a_double_tap_asks_once_and_an_order_is_asked_once(local_services: Services) -> None:
    s = local_services
    enroll(s, "cust-1")
    order(s, "o-1", "20")
    nps = AskInput(SurveyKind.NPS, SurveyChannel.APP)
    same = all_at_once([partial(s.surveys.ask, M1, nps, "k")] * 10)
    assert all(isinstance(r, Asked) and r.invitation is not None for r in same), same
    assert len({r.invitation.id for r in same if isinstance(r, Asked) and r.invitation}) == 1
    csat = AskInput(SurveyKind.CSAT, SurveyChannel.WEB, CsatSubject.ORDER, "o-1")
    keys = all_at_once([partial(s.surveys.ask, M1, csat, f"c-{i}") for i in range(10)])
    assert all(isinstance(r, Asked) for r in keys), keys
    assert sum(isinstance(r, Asked) and r.invitation is not None for r in keys) == 1


def test_an_invitation_takes_one_answer(local_services: Services) -> None:
    s = local_services
    enroll(s, "cust-1")
    asked = s.surveys.ask(M1, AskInput(SurveyKind.NPS, SurveyChannel.APP), "k")
    assert asked.invitation is not None
    invitation = asked.invitation.id
    same = all_at_once([partial(s.surveys.answer, M1, invitation, 4, None, "a")] * 8)
    assert all(isinstance(r, Answer) for r in same), same
    assert len({r.answer_id for r in same if isinstance(r, Answer)}) == 1
    other = all_at_once(
        [partial(s.surveys.answer, M1, invitation, 9, None, f"b-{i}") for i in range(8)]
    )
    assert all(isinstance(r, InvalidInput) and r.field == "invitationId" for r in other), other
    day = asked.invitation.asked_at.date()
    total = s.surveys.scores(ADMIN, SurveyKind.NPS, day, day, None).total
    assert (total.count, total.histogram[4]) == (1, 1)


def test_forty_answers_at_once_are_all_counted(local_services: Services) -> None:
    s = local_services
    invitations = []
    for i in range(40):
        enroll(s, f"cust-{i}")
        asked = s.surveys.ask(member(f"cust-{i}"), AskInput(SurveyKind.NPS, SurveyChannel.APP), "k")
        assert asked.invitation is not None
        invitations.append(asked.invitation)
    answers = all_at_once(
        [
            partial(s.surveys.answer, member(f"cust-{i}"), inv.id, i % 11, None, "a")
            for i, inv in enumerate(invitations)
        ]
    )
    assert all(isinstance(r, Answer) for r in answers), answers
    day = invitations[0].asked_at.date()
    total = s.surveys.scores(ADMIN, SurveyKind.NPS, day, day, None).total
    assert total.count == 40
    assert total.histogram == tuple(len(range(score, 40, 11)) for score in range(11))
