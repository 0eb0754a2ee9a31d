"""Unsubscribe links: tokens signed, checked and refused by kind; keys rotated; production
never signs with a known key; revoking one channel's consent, idempotently and without
telling whether the member exists."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from api.clock import ManualClock
from api.config import LOCAL_BASE_URL, Config, Stage
from api.errors import Forbidden
from api.ids import member_id_for
from api.members.model import Channel, ConsentInput, EnrollInput
from api.nudges.unsubscribe import (
    InvalidUnsubscribeToken,
    TokenProblem,
    TokenSigner,
    UnsubscribeNotConfigured,
    UnsubscribeToken,
    parse_keys,
)
from api.services import Services, build_services
from tests.support import ADMIN, SERVICE, START, count_requests, member, stored_member

OLD = "1:" + "o" * 32
NEW = "2:" + "n" * 32
MEMBER_ID = member_id_for("cust-1")
TOKEN = UnsubscribeToken(MEMBER_ID, Channel.SMS, START + timedelta(days=60))


def enroll_with_consents(services: Services) -> str:
    consents = [ConsentInput(c, True, "checkout") for c in (Channel.EMAIL, Channel.SMS)]
    data = EnrollInput("cust-1", "Europe/Paris", "fr-FR", email="a@example.com", consents=consents)
    return services.members.enroll(SERVICE, data).id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refused(signer: TokenSigner, token: str) -> TokenProblem:
    with pytest.raises(InvalidUnsubscribeToken) as caught:
        signer.verify(token, START)
    assert caught.value.code == "INVALID_TOKEN"
    return caught.value.problem


def test_a_token_round_trips_and_is_url_safe() -> None:
    signer = TokenSigner(parse_keys(NEW))
    token = signer.sign(TOKEN)
    assert token.startswith("v1.")
    assert len(token) < 80
    assert all(c.isalnum() or c in "-_." for c in token)
    assert signer.verify(token, START) == TOKEN


def _flipped(token: str, part: int, index: int) -> str:
    parts = token.split(".")
    data = bytearray(_unb64(parts[part]))
    data[index] ^= 0x01
    parts[part] = _b64(bytes(data))
    return ".".join(parts)


@pytest.mark.parametrize(
    ("what", "index", "problem"),
    [
        ("key id", 0, TokenProblem.UNKNOWN_KEY),  # 2 -> 3, not configured
        ("channel", 1, TokenProblem.TAMPERED),  # SMS (2) -> PUSH (3)
        ("expiry", 5, TokenProblem.TAMPERED),
        ("member id", 10, TokenProblem.TAMPERED),
    ],
)
def test_any_altered_byte_of_the_payload_is_refused(
    what: str, index: int, problem: TokenProblem
) -> None:
    signer = TokenSigner(parse_keys(NEW))
    assert refused(signer, _flipped(signer.sign(TOKEN), 1, index)) is problem, what


def test_an_altered_tag_or_another_members_tag_is_refused() -> None:
    signer = TokenSigner(parse_keys(NEW))
    token = signer.sign(TOKEN)
    assert refused(signer, _flipped(token, 2, 0)) is TokenProblem.TAMPERED
    other = signer.sign(replace(TOKEN, member_id=member_id_for("cust-2")))
    spliced = ".".join([*token.split(".")[:2], other.split(".")[2]])
    assert refused(signer, spliced) is TokenProblem.TAMPERED


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v1..",
        "v2.AAAA.AAAA",
        "v1.!!!!.AAAA",
        "v1.é.AAAA",
        "v1.A.AAAA",  # impossible base64 length
        "v1." + _b64(b"\x02\x02\x00\x00\x00\x01") + "." + _b64(bytes(16)),  # no member id
        "v1." + _b64(b"\x02\x09\x00\x00\x00\x01" + MEMBER_ID.encode()) + "." + _b64(bytes(16)),
        "v1." + _b64(b"\x02\x02\x00\x00\x00\x01cust-1") + "." + _b64(bytes(16)),
        "v1." + _b64(b"\x02\x02\x00\x00\x00\x01" + MEMBER_ID.encode()) + "." + _b64(bytes(15)),
        "v1." + "A" * 300 + ".AAAA",
        "v1.a.b.c",
    ],
)
def test_garbage_is_malformed(token: str) -> None:
    assert refused(TokenSigner(parse_keys(NEW)), token) is TokenProblem.MALFORMED


def _last_bits_changed(text: str) -> str:
    """The same bytes spelled otherwise: the last character's unused low bits set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:-1] + alphabet[alphabet.index(text[-1]) ^ 0b11]


@pytest.mark.parametrize(
    "respell",
    [
        lambda tag: tag + "==",  # padded
        lambda tag: tag[:4] + "!!!!" + tag[4:],  # junk the decoder would skip
        lambda tag: tag[:4] + "+/" + tag[6:],  # the standard alphabet
        _last_bits_changed,
    ],
)
def test_only_the_minted_spelling_is_accepted(respell: Callable[[str], str]) -> None:
    signer = TokenSigner(parse_keys(NEW))
    version, payload, tag = signer.sign(TOKEN).split(".")
    altered = ".".join([version, payload, respell(tag)])
    assert refused(signer, altered) in (TokenProblem.MALFORMED, TokenProblem.TAMPERED)


def test_keys_rotate_the_first_signs_and_every_one_verifies() -> None:
    old_token = TokenSigner(parse_keys(OLD)).sign(TOKEN)
    rotated = TokenSigner(parse_keys(f"{NEW}, {OLD}"))
    assert rotated.verify(old_token, START) == TOKEN
    assert rotated.sign(TOKEN).split(".")[1] != old_token.split(".")[1]  # key id 2 now
    assert refused(TokenSigner(parse_keys(NEW)), old_token) is TokenProblem.UNKNOWN_KEY
    same_id = TokenSigner(parse_keys("1:" + "x" * 32))  # a key id reused with a new secret
    assert refused(same_id, old_token) is TokenProblem.TAMPERED


@pytest.mark.parametrize(
    "spec",
    ["x" * 40, "one:" + "s" * 32, "256:" + "s" * 32, "1:short", f"{OLD},{OLD}", f"{NEW},"],
)
def test_bad_key_settings_fail_loudly_without_showing_the_secret(spec: str) -> None:
    with pytest.raises(UnsubscribeNotConfigured) as caught:
        parse_keys(spec)
    assert "s" * 32 not in str(caught.value)
    assert "o" * 32 not in str(caught.value)


def test_a_minted_link_and_its_headers(services: Services) -> None:
    link = services.unsubscribe.link(SERVICE, Channel.EMAIL, MEMBER_ID)
    token = link.url.removeprefix(f"{LOCAL_BASE_URL}/unsubscribe?token=")
    assert token.startswith("v1.")
    assert link.token == UnsubscribeToken(MEMBER_ID, Channel.EMAIL, START + timedelta(days=60))
    assert link.list_unsubscribe == f"<{link.url}>"
    assert link.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert services.unsubscribe.check(token) == link.token
    assert services.unsubscribe.link(ADMIN, Channel.EMAIL, MEMBER_ID) == link
    with pytest.raises(Forbidden):
        services.unsubscribe.link(member("cust-1"), Channel.EMAIL, MEMBER_ID)
    with pytest.raises(Forbidden):  # before the input is looked at: a member learns nothing
        services.unsubscribe.link(member("cust-1"), Channel.EMAIL, "nonsense", "both")
    by_customer = services.unsubscribe.link(SERVICE, Channel.EMAIL, customer_id="cust-1")
    assert by_customer == link


def test_links_expire_by_program_time(services: Services, clock: ManualClock) -> None:
    link = services.unsubscribe.link(SERVICE, Channel.PUSH, MEMBER_ID)
    token = link.url.partition("token=")[2]
    clock.advance(timedelta(days=60, seconds=-1))
    assert services.unsubscribe.check(token).channel is Channel.PUSH
    clock.advance(timedelta(seconds=1))
    with pytest.raises(InvalidUnsubscribeToken) as caught:
        services.unsubscribe.check(token)
    assert caught.value.problem is TokenProblem.EXPIRED
    with pytest.raises(InvalidUnsubscribeToken):
        services.unsubscribe.unsubscribe(token)


def test_a_configured_lifetime_key_and_address(aws: None, clock: ManualClock) -> None:
    config = Config(
        stage=Stage.PROD,
        table_name="loyalty-test",
        unsubscribe_keys=NEW,
        unsubscribe_days=90,
        public_base_url="https://api.shop.example/",
    )
    link = build_services(config, clock).unsubscribe.link(SERVICE, Channel.SMS, MEMBER_ID)
    assert link.url.startswith("https://api.shop.example/unsubscribe?token=v1.")
    assert link.token.expires_at == START + timedelta(days=90)
    assert TokenSigner(parse_keys(NEW)).verify(link.url.partition("=")[2], START) == link.token


@pytest.mark.parametrize(
    ("keys", "url", "days"),
    [
        ("", "https://api.shop.example", 60),  # no key: never the local one
        (NEW, "", 60),  # no address: never 127.0.0.1
        (NEW, "http://api.shop.example", 60),  # not HTTPS (RFC 8058)
        (NEW, "https://api.shop.example/?x=1", 60),
        ("1:short", "https://api.shop.example", 60),
        (NEW, "https://api.shop.example", 0),  # links that would be born expired
    ],
)
def test_production_without_a_key_or_an_address_fails_at_use(
    aws: None, clock: ManualClock, keys: str, url: str, days: int
) -> None:
    config = Config(
        stage=Stage.PROD,
        table_name="loyalty-test",
        unsubscribe_keys=keys,
        public_base_url=url,
        unsubscribe_days=days,
    )
    services = build_services(config, clock)  # starting is fine: the rest of the API works
    with pytest.raises(UnsubscribeNotConfigured):
        services.unsubscribe.link(SERVICE, Channel.EMAIL, MEMBER_ID)


def test_production_without_a_key_checks_nothing(aws: None, clock: ManualClock) -> None:
    config = Config(stage=Stage.PROD, table_name="loyalty-test")
    local = TokenSigner(parse_keys("0:loyalty-local-unsubscribe-secret-not-for-production"))
    with pytest.raises(UnsubscribeNotConfigured):
        build_services(config, clock).unsubscribe.unsubscribe(local.sign(TOKEN))


def test_unsubscribing_withdraws_that_channel_once(services: Services, clock: ManualClock) -> None:
    member_id = enroll_with_consents(services)
    link = services.unsubscribe.link(SERVICE, Channel.EMAIL, member_id)
    token = link.url.partition("token=")[2]
    clock.advance(timedelta(days=3))

    assert services.unsubscribe.unsubscribe(token).channel is Channel.EMAIL

    after = stored_member(member_id)
    consents = {c.channel: c for c in after.consents}
    assert consents[Channel.EMAIL].granted is False
    assert consents[Channel.EMAIL].source == "unsubscribe link"
    assert consents[Channel.EMAIL].updated_at == START + timedelta(days=3)
    assert consents[Channel.SMS].granted is True  # another channel: untouched
    assert after.updated_at == START + timedelta(days=3)
    with count_requests() as requests:
        assert services.unsubscribe.unsubscribe(token).channel is Channel.EMAIL  # again: fine
    assert "TransactWriteItems" not in requests
    assert stored_member(member_id) == after


def test_a_channel_never_granted_is_left_as_it_is(services: Services) -> None:
    member_id = enroll_with_consents(services)
    before = stored_member(member_id)
    link = services.unsubscribe.link(SERVICE, Channel.PUSH, member_id)
    services.unsubscribe.unsubscribe(link.url.partition("token=")[2])
    assert stored_member(member_id) == before


def test_an_unknown_member_gets_the_same_answer_and_nothing_is_written(
    services: Services,
) -> None:
    link = services.unsubscribe.link(SERVICE, Channel.EMAIL, member_id_for("nobody"))
    with count_requests() as requests:
        result = services.unsubscribe.unsubscribe(link.url.partition("token=")[2])
    assert result.channel is Channel.EMAIL
    assert not {"TransactWriteItems", "PutItem", "UpdateItem"} & set(requests)
