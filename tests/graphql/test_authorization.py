"""Every operation x every role: allowed, or refused with a code before anything is written."""

from __future__ import annotations

from typing import Any

import pytest

from api.clock import ManualClock
from api.ids import member_id_for
from api.nudges import config_store as nudge_config
from api.program.model import SettingsChange
from api.referrals.codes import candidate
from api.services import Services
from api.tiers.store import read_config
from schema.schema import build_schema
from tests.graphql.conftest import (
    ADMIN,
    ANONYMOUS,
    MEMBER,
    SERVICE,
    Invoke,
)
from tests.support import ADMIN as ADMIN_PRINCIPAL
from tests.support import enroll, ledger_entries, order, stored_member, unhappy_answer

CODE_1 = candidate(member_id_for("cust-1"), 0)  # cust-1's referral code
ROLES = {"anonymous": ANONYMOUS, "member": MEMBER, "service": SERVICE, "admin": ADMIN}
_NOT_ADMIN = {"member": "FORBIDDEN", "service": "FORBIDDEN"}
OK = "ok"

# operation: (document, variables, {role: OK or the error code})
CASES: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    "me": (
        "{ me { id points { balance } } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "member (someone else)": (
        '{ member(customerId: "cust-2") { id } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "member (themselves)": (
        '{ member(customerId: "cust-1") { id } }',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "order": (
        '{ order(id: "o-1") { pointsEarned refunded { amount } } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "program": (
        "{ program { acceptedCurrencies } }",
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "enrollMember": (
        'mutation { enrollMember(input: {customerId: "cust-3", timeZone: "UTC", '
        'locale: "en"}) { __typename } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "enrollMember (with a referral code)": (
        'mutation { enrollMember(input: {customerId: "cust-3", timeZone: "UTC", '
        f'locale: "en", referralCode: "{CODE_1}"}}) {{ __typename }} }}',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "me (referral card and referrals)": (
        "{ me { referral { code summary { pending } } referrals { edges { cursor } } } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "member (someone else's referral card and referrals)": (
        '{ member(customerId: "cust-2") { referral { code } referrals { edges { cursor } } } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "referralCode": (
        f'{{ referralCode(code: "{CODE_1}") {{ referrerName }} }}',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "updateMyProfile": (
        'mutation { updateMyProfile(input: {name: "New"}) { __typename } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "recordOrder": (
        'mutation { recordOrder(input: {orderId: "o-9", customerId: "cust-1", '
        'placedAt: "2026-03-01T12:00:00Z", total: {amount: "10", currency: "EUR"}}) '
        "{ __typename } }",
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "commitReservation": (
        'mutation { commitReservation(reservationId: "rsv_000000000000000000000000", order: '
        '{orderId: "o-9", customerId: "cust-1", placedAt: "2026-03-01T12:00:00Z", '
        'total: {amount: "10", currency: "EUR"}}) { __typename } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "refundOrder": (
        'mutation { refundOrder(input: {refundId: "r-9", orderId: "o-1", '
        'amount: {amount: "10", currency: "EUR"}}) { __typename } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "redeemPoints (own)": (
        'mutation { redeemPoints(input: {points: 5, reference: "cart", '
        'idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "redeemPoints (for cust-1)": (
        'mutation { redeemPoints(input: {customerId: "cust-1", points: 5, '
        'reference: "cart", idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": OK, "service": OK, "admin": "FORBIDDEN"},
    ),
    "redeemPoints (for cust-2)": (
        'mutation { redeemPoints(input: {customerId: "cust-2", points: 5, '
        'reference: "cart", idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "adjustPoints": (
        'mutation { adjustPoints(input: {customerId: "cust-1", points: 5, reason: "r", '
        'idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "updateProgram": (
        "mutation { updateProgram(input: {returnWindowDays: 3}) { __typename } }",
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "updateProgram (referrals)": (
        "mutation { updateProgram(input: {referrals: {enabled: true, monthlyCap: 5}}) "
        "{ __typename } }",
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "advanceTestClock": (
        "mutation { advanceTestClock(input: {days: 1}) { __typename } }",
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "tiers": (
        "{ tiers { tiers { code } metric } }",
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "earnPreview (own)": (
        '{ earnPreview(total: {amount: "10", currency: "EUR"}) { points } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "earnPreview (a member)": (
        '{ earnPreview(customerId: "cust-2", total: {amount: "10", currency: "EUR"}) { points } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "tierDistribution": (
        "{ tierDistribution { members } }",
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "updateTiers": (
        'mutation { updateTiers(input: {tiers: [{code: "BASE", name: "Base", threshold: "0"}]})'
        " { __typename } }",
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "setMemberTier": (
        'mutation { setMemberTier(input: {customerId: "cust-1", tier: "GOLD", reason: "VIP", '
        'until: "2027-01-01T00:00:00Z", idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "evaluateCart (own or a guest's)": (
        '{ evaluateCart(cart: {currency: "EUR", lines: [{sku: "A", quantity: 1, '
        'unitPrice: "10"}]}) { total { amount } } }',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "evaluateCart (a member's)": (
        '{ evaluateCart(cart: {customerId: "cust-2", currency: "EUR", lines: [{sku: "A", '
        'quantity: 1, unitPrice: "10"}]}) { total { amount } } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "promotions": ("{ promotions { id } }", {}, {"admin": OK, **_NOT_ADMIN}),
    "promotion": ('{ promotion(id: "p-1") { id } }', {}, {"admin": "NOT_FOUND", **_NOT_ADMIN}),
    "codeBatches": ('{ codeBatches(promotionId: "p-1") { id } }', {}, {"admin": OK, **_NOT_ADMIN}),
    "createPromotion": (
        'mutation { createPromotion(input: {id: "p-1", name: "P", effect: {kind: PERCENT_OFF, '
        'percent: "10"}}) { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "updatePromotion": (
        'mutation { updatePromotion(input: {id: "p-1", name: "P", effect: {kind: PERCENT_OFF, '
        'percent: "10"}}) { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "pausePromotion": (
        'mutation { pausePromotion(id: "p-1") { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "resumePromotion": (
        'mutation { resumePromotion(id: "p-1") { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "archivePromotion": (
        'mutation { archivePromotion(id: "p-1") { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "createCodeBatch": (
        'mutation { createCodeBatch(input: {promotionId: "p-1", idempotencyKey: "k", count: 5}) '
        "{ __typename } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "reserveCart": (
        'mutation { reserveCart(input: {idempotencyKey: "k", cart: {currency: "EUR", lines: '
        '[{sku: "A", quantity: 1, unitPrice: "10"}]}}) { __typename } }',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "releaseReservation": (
        'mutation { releaseReservation(id: "rsv_000000000000000000000000") { __typename } }',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "commitGuestReservation": (
        'mutation { commitGuestReservation(id: "rsv_000000000000000000000000", '
        'orderId: "g-1") { __typename } }',
        {},
        {"service": OK, "admin": OK, "member": "FORBIDDEN"},
    ),
    "returnGuestReservation": (
        'mutation { returnGuestReservation(id: "rsv_000000000000000000000000") { __typename } }',
        {},
        {"service": OK, "admin": OK, "member": "FORBIDDEN"},
    ),
    "rewards (own)": (
        "{ rewards(first: 5) { edges { node { redeemable } } } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "rewards (for cust-2)": (
        '{ rewards(customerId: "cust-2") { edges { cursor } } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "myRewards (own)": (
        "{ myRewards { edges { node { status } } } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "myRewards (for cust-2)": (
        '{ myRewards(customerId: "cust-2") { edges { cursor } } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "rewardCatalog": (
        "{ rewardCatalog { remaining } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "reward": (
        '{ reward(id: "nope") { remaining } }',
        {},
        {"admin": "NOT_FOUND", **_NOT_ADMIN},
    ),
    "rewardUploads": (
        '{ rewardUploads(rewardId: "gift") { status } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "createReward": (
        'mutation { createReward(input: {id: "tote", name: "Tote", pointsCost: 300, '
        "type: PERK}) { __typename } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "updateReward": (
        'mutation { updateReward(input: {id: "tote", name: "Tote", pointsCost: 300, '
        "type: PERK}) { __typename } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "archiveReward": (
        'mutation { archiveReward(id: "tote") { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "uploadRewardCodes": (
        'mutation { uploadRewardCodes(input: {rewardId: "gift", idempotencyKey: "k", '
        'codes: ["GIFT-1"]}) { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "redeemReward (own)": (
        'mutation { redeemReward(input: {rewardId: "tote", idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "redeemReward (for cust-2)": (
        'mutation { redeemReward(input: {rewardId: "tote", idempotencyKey: "k", '
        'customerId: "cust-2"}) { __typename } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "cancelRedemption": (
        f'mutation {{ cancelRedemption(id: "rdm_{"0" * 26}_1") {{ __typename }} }}',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "fulfilRedemption": (
        f'mutation {{ fulfilRedemption(id: "rdm_{"0" * 26}_1") {{ __typename }} }}',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "productReviews": (
        '{ productReviews(sku: "sku-1", sort: HIGHEST) { edges { node { rating } } } }',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "productRating": (
        '{ productRating(sku: "sku-1") { count average histogram } }',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "registerDevice": (
        'mutation { registerDevice(platform: IOS, token: "a1b2c3") { __typename } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "unregisterDevice": (
        'mutation { unregisterDevice(token: "a1b2c3") { __typename } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "myDevices": (
        "{ myDevices { id platform registeredAt } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "myReviews": (
        "{ myReviews { edges { node { status } } } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "pendingReviews": (
        "{ pendingReviews { edges { node { id } } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "submitReview": (
        'mutation { submitReview(input: {idempotencyKey: "k", review: {sku: "sku-1", '
        'rating: 5, title: "T", body: "B"}}) { __typename } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "updateReview": (
        'mutation { updateReview(input: {sku: "sku-1", rating: 4, title: "T", body: "B"}) '
        "{ __typename } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "deleteReview": (
        'mutation { deleteReview(sku: "sku-1") { __typename } }',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "moderateReview": (
        f'mutation {{ moderateReview(input: {{id: "rev_{"0" * 26}_sku-1", decision: APPROVE}}) '
        "{ __typename } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "productReviews (most helpful)": (
        '{ productReviews(sku: "sku-1", sort: MOST_HELPFUL) { edges { node { helpfulVotes } } } }',
        {},
        {"member": OK, "service": OK, "admin": OK},
    ),
    "voteReview": (
        f'mutation {{ voteReview(reviewId: "rev_{"0" * 26}_sku-1", helpful: true) '
        "{ __typename } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "withdrawReviewVote": (
        f'mutation {{ withdrawReviewVote(reviewId: "rev_{"0" * 26}_sku-1") {{ __typename }} }}',
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "askSurvey (own)": (
        'mutation { askSurvey(input: {kind: NPS, channel: APP, idempotencyKey: "k"}) '
        "{ __typename } }",
        {},
        {"member": OK, "service": OK, "admin": "FORBIDDEN"},
    ),
    "askSurvey (a member)": (
        "mutation { askSurvey(input: {kind: CSAT, channel: EMAIL, subject: SUPPORT, "
        'reference: "t-1", customerId: "cust-2", idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": OK, "service": OK, "admin": "FORBIDDEN"},
    ),
    "submitSurveyAnswer": (
        f'mutation {{ submitSurveyAnswer(input: {{invitationId: "svy_{"0" * 26}_{"0" * 16}", '
        'score: 9, idempotencyKey: "k"}) { __typename } }',
        {},
        {"member": OK, "service": OK, "admin": "FORBIDDEN"},
    ),
    "me (surveysDue)": (
        "{ me { surveysDue { nps { due reason nextAskAt } } } }",
        {},
        {"member": OK, "service": "FORBIDDEN", "admin": "FORBIDDEN"},
    ),
    "member (someone else's surveysDue)": (
        '{ member(customerId: "cust-2") { surveysDue { nps { due } } } }',
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": "FORBIDDEN"},
    ),
    "surveyAnswers": (
        '{ surveyAnswers(kind: NPS, from: "2026-01-01", to: "2026-03-31") '
        "{ edges { cursor node { comment } } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "surveyScores": (
        '{ surveyScores(kind: NPS, from: "2026-01-01", to: "2026-03-31") { total { nps } } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "followUps": (
        "{ followUps(status: OVERDUE) { edges { node { id overdue } } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "followUp": (
        '{ followUp(id: "fu_ans_1") { id notes { text } } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "assignFollowUp": (
        'mutation { assignFollowUp(input: {id: "fu_ans_1", assignee: "ana@shop.example"}) '
        "{ __typename } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "addFollowUpNote": (
        'mutation { addFollowUpNote(input: {id: "fu_ans_1", text: "Called.", '
        'idempotencyKey: "k"}) { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "resolveFollowUp": (
        'mutation { resolveFollowUp(input: {id: "fu_ans_1", note: "Done.", goodwillPoints: 5, '
        'idempotencyKey: "k"}) { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "unsubscribeLink": (
        '{ unsubscribeLink(customerId: "cust-1", channel: EMAIL) '
        "{ url expiresAt headers { listUnsubscribe listUnsubscribePost } } }",
        {},
        {"member": "FORBIDDEN", "service": OK, "admin": OK},
    ),
    "nudgeTemplates": (
        "{ nudgeTemplates(kind: BIRTHDAY) { name locale saved { version } default { locale } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "nudgePreview": (
        f'{{ nudgePreview(memberId: "{member_id_for("cust-1")}", kind: POINTS_EXPIRING, '
        "channel: EMAIL) { subject html text locale } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "saveNudgeTemplate": (
        'mutation { saveNudgeTemplate(input: {kind: BIRTHDAY, name: "birthday", locale: "it", '
        'emailSubject: "Auguri", emailHtml: "<p>Auguri</p>", emailText: "Auguri", '
        'smsText: "Auguri", pushTitle: "Auguri", pushBody: "Auguri"}) { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "deleteNudgeTemplate": (
        'mutation { deleteNudgeTemplate(kind: BIRTHDAY, name: "birthday", locale: "it") '
        "{ __typename } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "resetTestClock": (
        "mutation { resetTestClock { __typename } }",
        {},
        {"member": "FORBIDDEN", "service": "FORBIDDEN", "admin": OK},
    ),
    "nudgeSettings": (
        "{ nudgeSettings { version triggers { kind leadDays } quietHours { start } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "updateNudgeSettings": (
        "mutation { updateNudgeSettings(input: {expectedVersion: 0, attributionDays: 3, "
        'quietHours: {start: "22:00", end: "07:00"}}) { __typename } }',
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "memberNudges": (
        f'{{ memberNudges(memberId: "{member_id_for("cust-1")}") '
        "{ edges { node { kind status } } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "nudges": (
        "{ nudges(kind: BIRTHDAY) { edges { cursor } pageInfo { hasNextPage } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "nudgeLift": (
        '{ nudgeLift(kind: WIN_BACK, from: "2026-01-01", to: "2026-03-01") '
        "{ treated control difference low high } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "explainNudges": (
        "{ explainNudges(kind: POINTS_EXPIRING) { memberId outcome reason } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
    "runNudges": (
        "mutation { runNudges { __typename ... on NudgeRun { members queued } } }",
        {},
        {"admin": OK, **_NOT_ADMIN},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", CASES)
def test_authorization(
    services: Services, clock: ManualClock, invoke: Invoke, operation: str, role: str
) -> None:
    services.program.update(ADMIN_PRINCIPAL, SettingsChange(return_window_days=0))
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    order(services, "o-1", "100")
    unhappy_answer(services)  # its follow-up: fu_ans_1
    before = _snapshot(services)
    document, variables, expected = CASES[operation]
    want = expected.get(role, "UNAUTHENTICATED")

    response = invoke(document, variables, ROLES[role])

    if want == OK:
        assert not {"FORBIDDEN", "UNAUTHENTICATED"} & set(response.error_codes), response.raw
        assert response.body.get("errors") is None, response.raw
    else:
        assert response.error_codes == [want], response.raw
        assert not any((response.data or {}).values())  # no result for a non-null field
        assert _snapshot(services) == before  # refused before anything was written


def _snapshot(services: Services) -> Any:
    members = [member_id_for(c) for c in ("cust-1", "cust-2")]
    return (
        [(stored_member(m).version, len(ledger_entries(m))) for m in members],
        services.program.load(),
        read_config(),
        services.member_views.view(ADMIN_PRINCIPAL, member_id_for("cust-3"), None),
        [services.referrals.overview(ADMIN_PRINCIPAL, m) for m in members],
        services.follow_ups.get(ADMIN_PRINCIPAL, "fu_ans_1"),
        nudge_config.read_config(),
        services.templates.templates(ADMIN_PRINCIPAL),
    )


def test_every_operation_is_in_the_table() -> None:
    schema = build_schema(introspection=True)._schema
    fields = {*schema.query_type.fields, *schema.mutation_type.fields}  # type: ignore[union-attr]
    covered = {name.split(" ")[0] for name in CASES}
    assert fields == covered
