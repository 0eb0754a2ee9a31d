"""One-click unsubscribe (RFC 8058): signed, expiring links that withdraw one channel's
consent for one member, without logging in.

Invariants:
- A token is `v1.<payload>.<tag>`, both parts base64url without padding (URL-safe as it is):
  payload = key id (1 byte), channel (1 byte), expiry (4 bytes, Unix seconds, big-endian),
  member id (ASCII); tag = HMAC-SHA256(key, "unsubscribe.v1|" + payload), first 16 bytes,
  compared in constant time.
- Checked in this order, each refusal an InvalidUnsubscribeToken with its problem: the shape
  (MALFORMED), the key id among the configured keys (UNKNOWN_KEY), the tag (TAMPERED), then
  the expiry against program time (EXPIRED). No member is read before the tag holds.
- The first configured key signs; every configured key verifies (rotation: put a new key
  first, keep the old one until the links it signed have expired).
- Production never falls back to a known key or a local address: without UNSUBSCRIBE_KEYS
  (or PUBLIC_BASE_URL, for minting) a link is neither minted nor checked
  (UnsubscribeNotConfigured, logged as the bug it is; so is a lifetime under a day, anywhere).
- Minting is refused to anyone without the permission before its input is looked at.
- Unsubscribing is idempotent and tells nothing about the member: an unknown member and a
  consent already withdrawn answer the same success as a withdrawal, without writing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from urllib.parse import urlsplit

from api.auth import Permission, Principal
from api.config import LOCAL_BASE_URL, LOCAL_UNSUBSCRIBE_KEYS, Config
from api.errors import DomainError, ErrorCode
from api.ids import is_member_id
from api.members.model import Channel
from api.members.service import MemberService
from api.program.service import ProgramService
from api.validation import member_ref

_B64URL = re.compile(r"[A-Za-z0-9_-]+")
VERSION = "v1"
_CONTEXT = b"unsubscribe.v1|"
_HEADER = struct.Struct(">BBI")  # key id, channel, expiry
TAG_BYTES = 16  # 128 bits
MIN_SECRET_CHARS = 32
MAX_TOKEN_CHARS = 200  # a real one is about 60
PATH = "/unsubscribe"
SOURCE = "unsubscribe link"  # recorded as the consent change's source
ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058: the List-Unsubscribe-Post header and body
# Stable numbers in tokens (never the enum's order).
CHANNEL_CODES = {Channel.EMAIL: 1, Channel.SMS: 2, Channel.PUSH: 3}
_CHANNELS = {code: channel for channel, code in CHANNEL_CODES.items()}


class UnsubscribeNotConfigured(RuntimeError):
    """Production without a key or a public address: a deployment bug, never a client's."""


class TokenProblem(StrEnum):
    MALFORMED = "MALFORMED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    TAMPERED = "TAMPERED"
    EXPIRED = "EXPIRED"


_MESSAGES = {
    TokenProblem.MALFORMED: "This is not an unsubscribe link (it may have been cut short).",
    TokenProblem.UNKNOWN_KEY: "This unsubscribe link is no longer valid.",
    TokenProblem.TAMPERED: "This unsubscribe link is not valid (it was altered).",
    TokenProblem.EXPIRED: "This unsubscribe link has expired.",
}


class InvalidUnsubscribeToken(DomainError):
    code = ErrorCode.INVALID_TOKEN

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(_MESSAGES[problem])
        self.problem = problem


@dataclass(frozen=True)
class UnsubscribeToken:
    member_id: str
    channel: Channel
    expires_at: datetime  # whole seconds, UTC


@dataclass(frozen=True)
class UnsubscribeLink:
    token: UnsubscribeToken
    url: str

    @property
    def list_unsubscribe(self) -> str:
        """The List-Unsubscribe header's value: exactly one URI, in angle brackets."""
        return f"<{self.url}>"

    @property
    def list_unsubscribe_post(self) -> str:
        return ONE_CLICK


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: only the unpadded base64url a token is minted with. Python's decoder drops
    characters outside the alphabet and ignores a last character's unused bits, so other
    spellings of the same bytes would pass; re-encoding must give the text back."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidUnsubscribeToken(TokenProblem.MALFORMED)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidUnsubscribeToken(TokenProblem.MALFORMED) from None
    if _b64encode(raw) != text:
        raise InvalidUnsubscribeToken(TokenProblem.MALFORMED)
    return raw


def parse_keys(spec: str) -> tuple[tuple[int, bytes], ...]:
    """UNSUBSCRIBE_KEYS as (key id, secret) pairs, the signing key first. The messages name
    the variable, never a secret."""
    keys: list[tuple[int, bytes]] = []
    for entry in spec.split(","):
        kid, sep, secret = entry.strip().partition(":")
        if not sep or not kid.isdigit() or not 0 <= int(kid) <= 255:
            raise UnsubscribeNotConfigured(
                "UNSUBSCRIBE_KEYS must be comma-separated kid:secret entries, kid 0-255."
            )
        if len(secret) < MIN_SECRET_CHARS:
            raise UnsubscribeNotConfigured(
                f"UNSUBSCRIBE_KEYS: key {kid}'s secret is shorter than {MIN_SECRET_CHARS}."
            )
        if any(int(kid) == known for known, _ in keys):
            raise UnsubscribeNotConfigured(f"UNSUBSCRIBE_KEYS: key id {kid} appears twice.")
        keys.append((int(kid), secret.encode()))
    return tuple(keys)


class TokenSigner:
    """Signs and verifies tokens with the configured keys (the first one signs)."""

    def __init__(self, keys: tuple[tuple[int, bytes], ...]) -> None:
        assert keys, "at least one key"
        self._keys = dict(keys)
        self._signing_kid = keys[0][0]

    def _tag(self, kid: int, payload: bytes) -> bytes:
        return hmac.new(self._keys[kid], _CONTEXT + payload, hashlib.sha256).digest()[:TAG_BYTES]

    def sign(self, token: UnsubscribeToken) -> str:
        kid = self._signing_kid
        expiry = int(token.expires_at.timestamp())
        payload = _HEADER.pack(kid, CHANNEL_CODES[token.channel], expiry)
        payload += token.member_id.encode("ascii")
        return f"{VERSION}.{_b64encode(payload)}.{_b64encode(self._tag(kid, payload))}"

    def verify(self, text: str, now: datetime) -> UnsubscribeToken:
        parts = text.split(".") if len(text) <= MAX_TOKEN_CHARS else []
        if len(parts) != 3 or parts[0] != VERSION:
            raise InvalidUnsubscribeToken(TokenProblem.MALFORMED)
        payload, tag = _b64decode(parts[1]), _b64decode(parts[2])
        if len(payload) <= _HEADER.size or len(tag) != TAG_BYTES:
            raise InvalidUnsubscribeToken(TokenProblem.MALFORMED)
        kid, code, expiry = _HEADER.unpack_from(payload)
        member_id = payload[_HEADER.size :].decode("ascii", errors="replace")
        if code not in _CHANNELS or not is_member_id(member_id):
            raise InvalidUnsubscribeToken(TokenProblem.MALFORMED)
        if kid not in self._keys:
            raise InvalidUnsubscribeToken(TokenProblem.UNKNOWN_KEY)
        if not hmac.compare_digest(self._tag(kid, payload), tag):
            raise InvalidUnsubscribeToken(TokenProblem.TAMPERED)
        expires_at = datetime.fromtimestamp(expiry, UTC)
        if now >= expires_at:
            raise InvalidUnsubscribeToken(TokenProblem.EXPIRED)
        return UnsubscribeToken(member_id, _CHANNELS[code], expires_at)


class UnsubscribeService:
    def __init__(self, config: Config, program: ProgramService, members: MemberService) -> None:
        self._config = config
        self._program = program
        self._members = members

    @cached_property
    def _signer(self) -> TokenSigner:
        spec = self._config.unsubscribe_keys.strip()
        if not spec:
            if self._config.is_production:
                raise UnsubscribeNotConfigured("UNSUBSCRIBE_KEYS is not set.")
            spec = LOCAL_UNSUBSCRIBE_KEYS
        return TokenSigner(parse_keys(spec))

    @cached_property
    def _base_url(self) -> str:
        url = self._config.public_base_url.strip().rstrip("/")
        if not url:
            if self._config.is_production:
                raise UnsubscribeNotConfigured("PUBLIC_BASE_URL is not set.")
            url = LOCAL_BASE_URL
        parts = urlsplit(url)
        schemes = ("https",) if self._config.is_production else ("https", "http")
        if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
            raise UnsubscribeNotConfigured(
                f"PUBLIC_BASE_URL must be an {'/'.join(schemes)} URL without query or fragment."
            )
        return url

    def link(
        self,
        actor: Principal,
        channel: Channel,
        member_id: str | None = None,
        customer_id: str | None = None,
    ) -> UnsubscribeLink:
        """A link for the shop's own emails, for the member named by exactly one of the ids
        (no read: a link for a customer who is not a member unsubscribes nothing)."""
        actor.require(Permission.MINT_UNSUBSCRIBE_LINKS)
        member_id = member_ref(member_id, customer_id)
        if self._config.unsubscribe_days < 1:
            raise UnsubscribeNotConfigured("UNSUBSCRIBE_DAYS must be at least 1.")
        expires_at = self._program.current_time() + timedelta(days=self._config.unsubscribe_days)
        token = UnsubscribeToken(member_id, channel, expires_at.replace(microsecond=0))
        url = f"{self._base_url}{PATH}?token={self._signer.sign(token)}"
        return UnsubscribeLink(token, url)

    def check(self, token: str) -> UnsubscribeToken:
        """The link's token, verified (the confirmation page): changes nothing."""
        return self._signer.verify(token, self._program.current_time())

    def unsubscribe(self, token: str) -> UnsubscribeToken:
        """Withdraw the consent the token names; the same answer whether anything changed."""
        verified = self.check(token)
        self._members.withdraw_consent(verified.member_id, verified.channel, SOURCE)
        return verified
