"""Enrolling with a referral code: codes, acceptance, every refusal, the welcome code, what
each side sees, and nothing written when the code is bad."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from api.clock import ManualClock
from api.errors import ErrorCode, Forbidden, IdempotencyConflict, InvalidInput
from api.ids import member_id_for
from api.members.model import EnrollInput
from api.program.model import ReferralChange, SettingsChange
from api.promotions.codes import SAFE_CHARSET
from api.promotions.model import Activation, CartInput, Status
from api.referrals import codes
from api.referrals.joining import masked
from api.referrals.model import ReferralStatus, Refusal, Summary
from api.referrals.service import cursor
from api.referrals.store import CodeOwnerItem, MemberCodeItem, member_code_key, owner_key
from api.services import Services
from api.store.base import TableItem
from tests.referrals.conftest import ON, WELCOME, code_of, join, switch_on
from tests.support import ADMIN, SERVICE, count_requests, enroll, member, stored_member

ALICE = member_id_for("alice")


def summary(shop: Services, customer_id: str = "alice") -> Summary:
    return shop.referrals.overview(ADMIN, member_id_for(customer_id)).summary


def test_every_member_has_a_code_and_a_link(services: Services) -> None:
    enroll(services, "alice")
    view = services.referrals.overview(member("alice"), ALICE)
    assert view.code == codes.candidate(ALICE, 0)
    assert view.code is not None
    assert len(view.code) == 8
    assert set(view.code) <= set(SAFE_CHARSET)
    assert view.link == f"https://shop.example/r/{view.code}"
    assert view.enabled is False  # off until an admin turns it on
    assert view.summary == Summary()
    assert view.invitation is None
    with count_requests() as calls:
        services.referrals.overview(member("alice"), ALICE)
    assert calls == {"BatchGetItem": 1}  # the code was written at enrolment: no write


def test_a_code_brings_a_pending_referral_and_a_welcome_code(
    shop: Services, clock: ManualClock
) -> None:
    enroll(shop, "alice")
    code = code_of(shop, "alice")
    joined = join(shop, "bob", f"  {code.lower()} ", name="Bob Smith")
    referral = joined.referral
    assert referral is not None
    assert referral.status is ReferralStatus.PENDING
    assert referral.reason is None
    assert (referral.referrer_id, referral.referee_id) == (ALICE, member_id_for("bob"))
    assert referral.points == 250
    assert referral.referee_name == "Bob S."
    assert referral.welcome_code is not None
    assert referral.welcome_expires_at == clock.now() + timedelta(days=30)
    # The referee sees it on their card; the referrer in their list, without the code.
    bob = shop.referrals.overview(member("bob"), member_id_for("bob"))
    assert bob.invitation == referral
    assert bob.code is not None
    assert bob.code != code
    assert summary(shop) == Summary(pending=1)
    page = shop.referrals.referrals(member("alice"), ALICE, 10, None)
    assert [(r.referee_name, r.status) for r in page.referrals] == [
        ("Bob S.", ReferralStatus.PENDING)
    ]
    # The welcome code is Bob's alone, for the welcome promotion.
    cart = CartInput(
        "EUR", [("SKU", 1, Decimal(20), None)], codes=(referral.welcome_code,), customer_id="bob"
    )
    applied = shop.checkout.evaluate(SERVICE, cart).evaluation.applied
    assert [a.promotion_id for a in applied] == ["welcome"]


def test_an_enrolment_with_a_code_is_one_read_and_one_transaction(shop: Services) -> None:
    enroll(shop, "alice")
    code = code_of(shop, "alice")
    with count_requests() as calls:
        join(shop, "bob", code)
    # The code's owner (GetItem, never changes), the catalog (cached per container), the
    # settings read of the test clock, then one BatchGetItem and one transaction.
    assert calls["BatchGetItem"] == 1
    assert calls["TransactWriteItems"] == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("NOPE", ErrorCode.INVALID_INPUT),
        ("0OIL1SZB", ErrorCode.INVALID_INPUT),  # look-alikes are never in a code
        ("ACDEFGHJ", ErrorCode.REFERRAL_CODE_UNKNOWN),
        ("", ErrorCode.INVALID_INPUT),
    ],
)
def test_a_bad_code_refuses_the_enrolment_and_writes_nothing(
    shop: Services, code: str, error: ErrorCode
) -> None:
    enroll(shop, "alice")
    with pytest.raises(InvalidInput) as raised:
        join(shop, "bob", code)
    assert (raised.value.field, raised.value.code) == ("referralCode", error)
    assert shop.member_views.view(ADMIN, member_id_for("bob"), None) is None
    assert summary(shop) == Summary()


def test_referrals_switched_off_are_refused_but_the_member_is_enrolled(
    services: Services,
) -> None:
    enroll(services, "alice")
    joined = join(services, "bob", code_of(services, "alice"))
    assert joined.member.id == member_id_for("bob")
    assert joined.referral is not None
    assert (joined.referral.status, joined.referral.reason) == (
        ReferralStatus.REFUSED,
        Refusal.PROGRAM_OFF,
    )
    assert joined.referral.welcome_code is None
    assert summary(services) == Summary(refused=1)


@pytest.mark.parametrize(
    "same",
    [
        {"email": "Alice+promo@Example.COM"},
        {"phone": "+33 6 12 34 56 78"},
    ],
)
def test_referring_oneself_by_email_or_phone_is_refused(
    shop: Services, same: dict[str, str]
) -> None:
    shop.members.enroll(
        SERVICE,
        EnrollInput(
            "alice", "UTC", "en", email="alice@example.com", phone="+33612345678", name="Alice"
        ),
    )
    joined = join(shop, "alice-2", code_of(shop, "alice"), **same)
    assert joined.referral is not None
    assert joined.referral.reason is Refusal.SELF_REFERRAL
    assert joined.referral.welcome_code is None
    # Another person is welcome, a leading + being part of a name, not a tag.
    other = join(shop, "carol", code_of(shop, "alice"), email="carol@example.com")
    assert other.referral is not None
    assert other.referral.status is ReferralStatus.PENDING
    plus = join(shop, "dan", code_of(shop, "alice"), email="+dan@example.com")
    assert plus.referral is not None
    assert plus.referral.status is ReferralStatus.PENDING


def test_a_referrer_gets_so_many_a_month(shop: Services, clock: ManualClock) -> None:
    clock.advance(timedelta(days=27))  # 2026-03-28: the cap counts calendar months (UTC)
    enroll(shop, "alice")
    code = code_of(shop, "alice")
    outcomes = [join(shop, f"friend-{i}", code).referral for i in range(4)]
    assert [(r.status, r.reason) for r in outcomes if r is not None] == [
        (ReferralStatus.PENDING, None),
        (ReferralStatus.PENDING, None),
        (ReferralStatus.PENDING, None),
        (ReferralStatus.REFUSED, Refusal.REFERRER_CAP_REACHED),
    ]
    clock.advance(timedelta(days=5))  # April
    april = join(shop, "friend-4", code).referral
    assert april is not None
    assert april.status is ReferralStatus.PENDING
    assert summary(shop) == Summary(pending=4, refused=1)


def test_a_customer_enrolled_already_is_not_new(shop: Services) -> None:
    enroll(shop, "alice")
    enroll(shop, "dave")
    code = code_of(shop, "alice")
    again = shop.members.join(
        SERVICE, EnrollInput("dave", "Europe/Paris", "fr-FR", referral_code=code)
    )
    assert again.member == stored_member(member_id_for("dave"))  # the same member
    assert again.referral is not None
    assert (again.referral.status, again.referral.reason) == (
        ReferralStatus.REFUSED,
        Refusal.NOT_NEW_CUSTOMER,
    )
    # The same request again: the same answer, counted once.
    replay = shop.members.join(
        SERVICE, EnrollInput("dave", "Europe/Paris", "fr-FR", referral_code=code)
    )
    assert replay == again
    assert summary(shop) == Summary(refused=1)
    # Another referrer's code: refused too, not recorded (one referral per referee).
    enroll(shop, "erin")
    other = shop.members.join(
        SERVICE, EnrollInput("dave", "Europe/Paris", "fr-FR", referral_code=code_of(shop, "erin"))
    )
    assert other.referral is not None
    assert other.referral.reason is Refusal.NOT_NEW_CUSTOMER
    assert other.referral.version is None
    assert summary(shop, "erin") == Summary()
    # Their own code: a self-referral.
    own = shop.members.join(
        SERVICE, EnrollInput("erin", "Europe/Paris", "fr-FR", referral_code=code_of(shop, "erin"))
    )
    assert own.referral is not None
    assert own.referral.reason is Refusal.SELF_REFERRAL
    # A different profile is still a conflict, code or not.
    with pytest.raises(IdempotencyConflict):
        shop.members.join(SERVICE, EnrollInput("dave", "UTC", "en", referral_code=code))


def test_a_replayed_enrolment_answers_its_referral_once(shop: Services) -> None:
    enroll(shop, "alice")
    code = code_of(shop, "alice")
    first = join(shop, "bob", code, name="Bob Smith")
    again = join(shop, "bob", code, name="Bob Smith")
    assert again == first
    assert join(shop, "bob", None, name="Bob Smith").referral == first.referral
    assert summary(shop) == Summary(pending=1)
    page = shop.referrals.referrals(ADMIN, ALICE, 10, None)
    assert len(page.referrals) == 1


def test_a_member_enrolled_before_referrals_gets_a_code_when_it_is_first_shown(
    services: Services,
) -> None:
    enroll(services, "alice")
    # As if enrolled before referrals existed (and another member holds its first choice).
    connection = TableItem._get_connection()
    connection.delete_item(*member_code_key(ALICE))
    connection.delete_item(*owner_key(codes.candidate(ALICE, 0)))
    CodeOwnerItem(*owner_key(codes.candidate(ALICE, 0)), member_id="mbr_" + "0" * 26).save()
    view = services.referrals.overview(member("alice"), ALICE)
    assert view.code == codes.candidate(ALICE, 1)
    again = services.referrals.overview(member("alice"), ALICE)
    assert again.code == view.code
    stored = MemberCodeItem.get(*member_code_key(ALICE), consistent_read=True)
    assert stored.code == view.code


def test_a_new_member_whose_first_code_is_taken_gets_the_next(services: Services) -> None:
    bob = member_id_for("bob")
    CodeOwnerItem(*owner_key(codes.candidate(bob, 0)), member_id="mbr_" + "0" * 26).save()
    enroll(services, "bob")
    assert services.referrals.overview(ADMIN, bob).code == codes.candidate(bob, 1)


def test_referrals_list_newest_first_in_pages(shop: Services, clock: ManualClock) -> None:
    switch_on_more = replace(ON, monthly_cap=10)
    shop.program.update(ADMIN, SettingsChange(referrals=switch_on_more))
    enroll(shop, "alice")
    code = code_of(shop, "alice")
    for i in range(5):
        join(shop, f"friend-{i}", code, name=f"Friend{i} Number")
        clock.advance(timedelta(minutes=1))
    seen: list[str | None] = []
    after = None
    while True:
        page = shop.referrals.referrals(member("alice"), ALICE, 2, after)
        seen += [r.referee_name for r in page.referrals]
        if not page.has_next:
            break
        after = cursor(page.referrals[-1])
    assert seen == [f"Friend{i} N." for i in reversed(range(5))]


@pytest.mark.parametrize("bad", ["", "garbage!", "cmVmZXJyYWw6eA", "a" * 200])
def test_bad_cursors_are_refused(shop: Services, bad: str) -> None:
    enroll(shop, "alice")
    with pytest.raises(InvalidInput) as error:
        shop.referrals.referrals(member("alice"), ALICE, 2, bad)
    assert error.value.field == "after"


def test_members_see_only_their_own_referrals(shop: Services) -> None:
    enroll(shop, "alice")
    enroll(shop, "bob")
    with pytest.raises(Forbidden):
        shop.referrals.referrals(member("bob"), ALICE, 5, None)
    with pytest.raises(Forbidden):
        shop.referrals.overview(member("bob"), ALICE)
    assert shop.referrals.referrals(SERVICE, ALICE, 5, None).referrals == []


def test_names_are_masked() -> None:
    assert masked("Bob Smith") == "Bob S."
    assert masked("  Jean  Paul  Sartre ") == "Jean S."
    assert masked("Cher") == "Cher"
    assert masked(None) is None
    assert masked("  ") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (ReferralChange(welcome_promotion_id="nope"), "referrals.welcomePromotionId"),
        (ReferralChange(welcome_promotion_id="auto"), "referrals.welcomePromotionId"),
        (ReferralChange(welcome_promotion_id="gone"), "referrals.welcomePromotionId"),
        (ReferralChange(referrer_points=0), "referrals.referrerPoints"),
        (ReferralChange(monthly_cap=0), "referrals.monthlyCap"),
        (ReferralChange(welcome_validity_days=0), "referrals.welcomeValidityDays"),
        (ReferralChange(link_format="http://shop.example/r/{code}"), "referrals.linkFormat"),
        (ReferralChange(link_format="https://shop.example/r/"), "referrals.linkFormat"),
        (ReferralChange(link_format="https://shop.example/{code}/{code}"), "referrals.linkFormat"),
        (ReferralChange(link_format="https://shop.example/{id}/{code}"), "referrals.linkFormat"),
        (ReferralChange(link_format="https://shop example/{code}"), "referrals.linkFormat"),
        (ReferralChange(link_format='https://s.example/"><b>/{code}'), "referrals.linkFormat"),
        (
            ReferralChange(link_format="https://evil.example@s.example/{code}"),
            "referrals.linkFormat",
        ),
        (ReferralChange(link_format="https://{code}.evil.example/"), "referrals.linkFormat"),
        (ReferralChange(link_format="https://s.example/\\{code}"), "referrals.linkFormat"),
        (ReferralChange(link_format="https://s.example:99999/{code}"), "referrals.linkFormat"),
    ],
)
def test_referral_settings_are_checked(
    services: Services, change: ReferralChange, field: str
) -> None:
    services.promotions.create(ADMIN, replace(WELCOME, id="auto", activation=Activation.AUTOMATIC))
    services.promotions.create(ADMIN, replace(WELCOME, id="gone"))
    services.promotions.set_status(ADMIN, "gone", Status.ARCHIVED)
    before = services.program.load()
    with pytest.raises(InvalidInput) as error:
        services.program.update(ADMIN, SettingsChange(referrals=change))
    assert error.value.field == field
    assert services.program.load() == before


def test_referral_settings_are_saved(services: Services) -> None:
    switch_on(services, replace(ON, link_format="https://shop.example/invite?c={code}&utm=r"))
    saved = services.program.load().referrals
    assert saved.enabled
    assert (saved.referrer_points, saved.monthly_cap, saved.welcome_validity_days) == (250, 3, 30)
    assert saved.welcome_promotion_id == "welcome"
    assert saved.link("ABCD") == "https://shop.example/invite?c=ABCD&utm=r"
    cleared = services.program.update(
        ADMIN, SettingsChange(referrals=ReferralChange(clear_welcome_promotion=True))
    )
    assert cleared.referrals.welcome_promotion_id is None
    assert cleared.referrals.enabled


def test_an_archived_welcome_promotion_leaves_referrals_without_a_welcome(
    shop: Services,
) -> None:
    enroll(shop, "alice")
    shop.promotions.set_status(ADMIN, "welcome", Status.ARCHIVED)
    joined = join(shop, "bob", code_of(shop, "alice"))
    assert joined.referral is not None
    assert joined.referral.status is ReferralStatus.PENDING
    assert joined.referral.welcome_code is None
