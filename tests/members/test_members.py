"""Members: enrolment, profile and consents, the home view and history pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.clock import ManualClock
from api.errors import Forbidden, IdempotencyConflict, InvalidInput
from api.ids import member_id_for
from api.members.model import UNCHANGED, Channel, ConsentInput, EnrollInput, ProfileChange
from api.members.view import decode_cursor, encode_cursor
from api.services import Services
from tests.support import ADMIN, SERVICE, count_requests, enroll, member, order

FULL = EnrollInput(
    customer_id="cust-1",
    time_zone="Europe/Paris",
    locale="fr-FR",
    email="alice@example.com",
    name="Alice Martin",
    phone="+33 6 12 34 56 78",
    birthday=date(1990, 5, 17),
    consents=[
        ConsentInput(Channel.EMAIL, True, "checkout"),
        ConsentInput(Channel.SMS, False, "checkout"),
    ],
)


def test_enrolment_is_idempotent_on_the_customer_id(
    services: Services,
    clock: ManualClock,
) -> None:
    first = services.members.enroll(SERVICE, FULL)
    assert first.id == member_id_for("cust-1")
    assert first.phone == "+33612345678"
    assert {c.channel: (c.granted, c.source) for c in first.consents} == {
        Channel.EMAIL: (True, "checkout"),
        Channel.SMS: (False, "checkout"),
    }
    assert all(c.updated_at == services.clock.now() for c in first.consents)
    clock.advance(timedelta(hours=1))
    assert services.members.enroll(SERVICE, FULL) == first  # a retry, later, same answer
    with pytest.raises(IdempotencyConflict):
        services.members.enroll(SERVICE, EnrollInput("cust-1", "Europe/Paris", "fr-FR"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "timeZone"),
        ({"time_zone": "../../etc/passwd"}, "timeZone"),
        ({"locale": "french"}, "locale"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "0612"}, "phone"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"birthday": date(2999, 1, 1)}, "birthday"),
        ({"customer_id": "no spaces"}, "customerId"),
    ],
)
def test_enrolment_refuses_bad_profiles(
    services: Services, change: dict[str, object], field: str
) -> None:
    values = {**FULL.__dict__, **change}
    with pytest.raises(InvalidInput) as error:
        services.members.enroll(SERVICE, EnrollInput(**values))
    assert error.value.field == field
    assert (
        services.member_views.view(ADMIN, member_id_for(str(values["customer_id"])), None) is None
    )


def test_consent_given_earlier_keeps_its_time_but_not_a_future_one(services: Services) -> None:
    earlier = services.clock.now() - timedelta(days=3)
    m = services.members.enroll(
        SERVICE,
        EnrollInput(
            "cust-1", "UTC", "en", consents=[ConsentInput(Channel.PUSH, True, "app", earlier)]
        ),
    )
    assert m.consents[0].updated_at == earlier
    with pytest.raises(InvalidInput):
        services.members.enroll(
            SERVICE,
            EnrollInput(
                "cust-2",
                "UTC",
                "en",
                consents=[
                    ConsentInput(Channel.PUSH, True, "app", services.clock.now() + timedelta(1))
                ],
            ),
        )
    with pytest.raises(InvalidInput, match="once"):
        services.members.enroll(
            SERVICE,
            EnrollInput(
                "cust-3",
                "UTC",
                "en",
                consents=[
                    ConsentInput(Channel.PUSH, True, "app"),
                    ConsentInput(Channel.PUSH, False, "app"),
                ],
            ),
        )


def test_members_update_their_own_profile_and_consents(
    services: Services,
    clock: ManualClock,
) -> None:
    services.members.enroll(SERVICE, FULL)
    clock.advance(timedelta(days=1))
    updated = services.members.update_profile(
        member("cust-1"),
        ProfileChange(
            time_zone="America/New_York",
            phone=None,
            consents=[ConsentInput(Channel.EMAIL, False, "preference-center")],
        ),
    )
    assert updated.time_zone == "America/New_York"
    assert updated.phone is None
    assert updated.email == "alice@example.com"  # left UNCHANGED
    consents = {c.channel: c for c in updated.consents}
    assert consents[Channel.EMAIL].granted is False
    assert consents[Channel.EMAIL].updated_at == services.clock.now()
    assert consents[Channel.SMS].source == "checkout"
    with pytest.raises(InvalidInput):
        services.members.update_profile(member("cust-1"), ProfileChange(locale="??"))
    with pytest.raises(Forbidden):
        services.members.update_profile(ADMIN, ProfileChange(name="x"))
    assert ProfileChange().email is UNCHANGED


def test_the_home_view_is_one_query(services: Services) -> None:
    enroll(services)
    for i in range(5):
        order(services, f"o-{i}", "10")
    with count_requests() as calls:
        view = services.member_views.view(member("cust-1"), member_id_for("cust-1"), 3)
    assert view is not None
    assert view.history is not None
    assert [e.order_id for e in view.history.entries] == ["o-4", "o-3", "o-2"]
    assert view.history.has_next
    # One Query; the dev stage adds the test clock's settings read (absent in production).
    assert calls == {"Query": 1, "GetItem": 1}


def test_history_pages_with_cursors(services: Services) -> None:
    member_id = enroll(services)
    for i in range(7):
        order(services, f"o-{i}", "10")
    me = member("cust-1")
    seen: list[str | None] = []
    after = None
    while True:
        page = services.member_views.history(me, member_id, 3, after)
        seen += [e.order_id for e in page.entries]
        if not page.has_next:
            break
        after = page.end_cursor
    assert seen == [f"o-{i}" for i in reversed(range(7))]


@pytest.mark.parametrize(
    "cursor", ["", "garbage!", encode_cursor(3) + "x", "ZW50cnk6LTE", "a" * 200]
)
def test_bad_cursors_are_refused(services: Services, cursor: str) -> None:
    member_id = enroll(services)
    with pytest.raises(InvalidInput) as error:
        services.member_views.history(member("cust-1"), member_id, 3, cursor)
    assert error.value.field == "after"


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor(42)) == 42


def test_a_member_reads_only_their_own_data(services: Services) -> None:
    enroll(services)
    other = enroll(services, "cust-2")
    with pytest.raises(Forbidden):
        services.member_views.view(member("cust-1"), other, None)
    with pytest.raises(Forbidden):
        services.member_views.history(member("cust-1"), other, 5, None)
    assert services.member_views.view(SERVICE, other, None) is not None
