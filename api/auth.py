"""Who is calling, and what each role may do.

Claims arrive verified: by API Gateway's JWT authorizer, or by the local dev server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from api.config import Config
from api.errors import Forbidden, Unauthenticated
from api.ids import is_external_id, member_id_for


class Role(StrEnum):
    MEMBER = "member"
    SERVICE = "service"
    ADMIN = "admin"


class Permission(StrEnum):
    READ_OWN_MEMBER = "read_own_member"
    UPDATE_OWN_PROFILE = "update_own_profile"
    REDEEM_OWN_POINTS = "redeem_own_points"
    READ_ANY_MEMBER = "read_any_member"
    READ_ORDERS = "read_orders"
    ENROLL_MEMBER = "enroll_member"
    RECORD_ORDER = "record_order"
    REFUND_ORDER = "refund_order"
    REDEEM_ANY_POINTS = "redeem_any_points"
    ADJUST_POINTS = "adjust_points"
    READ_PROGRAM = "read_program"
    UPDATE_PROGRAM = "update_program"
    USE_TEST_CLOCK = "use_test_clock"
    READ_TIERS = "read_tiers"
    UPDATE_TIERS = "update_tiers"
    SET_MEMBER_TIER = "set_member_tier"
    READ_TIER_STATS = "read_tier_stats"
    MANAGE_PROMOTIONS = "manage_promotions"
    EVALUATE_OWN_CART = "evaluate_own_cart"  # and reserve, release: a member's own checkout
    CHECKOUT_ANY_CART = "checkout_any_cart"  # the shop backend's checkout, any member
    CHECK_REFERRAL_CODE = "check_referral_code"  # whose code it is, before an enrolment
    MANAGE_REWARDS = "manage_rewards"  # the catalog, pools
    FULFIL_REWARDS = "fulfil_rewards"  # perks delivered; any member's reward cancelled
    WRITE_OWN_REVIEWS = "write_own_reviews"  # submit, edit, delete, list one's own reviews
    READ_REVIEWS = "read_reviews"  # a product's approved reviews and rating
    MODERATE_REVIEWS = "moderate_reviews"  # approve, reject, remove; the queue
    VOTE_ON_REVIEWS = "vote_on_reviews"  # one's own helpful / unhelpful votes
    ANSWER_OWN_SURVEYS = "answer_own_surveys"  # be asked NPS, CSAT of own orders; answer
    ASK_ANY_SURVEYS = "ask_any_surveys"  # the shop asks any member, and relays answers
    READ_SURVEY_SCORES = "read_survey_scores"  # NPS and CSAT scores, by tier
    MANAGE_FOLLOW_UPS = "manage_follow_ups"  # list, assign, note, resolve (goodwill points)
    MINT_UNSUBSCRIBE_LINKS = "mint_unsubscribe_links"  # for the shop's own emails
    MANAGE_NUDGES = "manage_nudges"  # triggers, rules, templates; preview, explain, run
    READ_NUDGES = "read_nudges"  # nudge records per member and kind, lift
    REGISTER_OWN_DEVICES = "register_own_devices"  # push device tokens of one's own app


# The whole authorization policy; tests/graphql/test_authorization.py walks every cell.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.MEMBER: frozenset(
        {
            Permission.READ_OWN_MEMBER,
            Permission.UPDATE_OWN_PROFILE,
            Permission.REDEEM_OWN_POINTS,
            Permission.READ_TIERS,
            Permission.EVALUATE_OWN_CART,
            Permission.WRITE_OWN_REVIEWS,
            Permission.READ_REVIEWS,
            Permission.VOTE_ON_REVIEWS,
            Permission.ANSWER_OWN_SURVEYS,
            Permission.REGISTER_OWN_DEVICES,
        }
    ),
    Role.SERVICE: frozenset(
        {
            Permission.READ_ANY_MEMBER,
            Permission.READ_ORDERS,
            Permission.ENROLL_MEMBER,
            Permission.RECORD_ORDER,
            Permission.REFUND_ORDER,
            Permission.REDEEM_ANY_POINTS,
            Permission.READ_PROGRAM,
            Permission.READ_TIERS,
            Permission.CHECKOUT_ANY_CART,
            Permission.CHECK_REFERRAL_CODE,
            Permission.FULFIL_REWARDS,
            Permission.READ_REVIEWS,
            Permission.ASK_ANY_SURVEYS,
            Permission.MINT_UNSUBSCRIBE_LINKS,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.READ_ANY_MEMBER,
            Permission.READ_ORDERS,
            Permission.ADJUST_POINTS,
            Permission.READ_PROGRAM,
            Permission.UPDATE_PROGRAM,
            Permission.USE_TEST_CLOCK,
            Permission.READ_TIERS,
            Permission.UPDATE_TIERS,
            Permission.SET_MEMBER_TIER,
            Permission.READ_TIER_STATS,
            Permission.MANAGE_PROMOTIONS,
            Permission.CHECKOUT_ANY_CART,
            Permission.CHECK_REFERRAL_CODE,
            Permission.MANAGE_REWARDS,
            Permission.FULFIL_REWARDS,
            Permission.READ_REVIEWS,
            Permission.MODERATE_REVIEWS,
            Permission.READ_SURVEY_SCORES,
            Permission.MANAGE_FOLLOW_UPS,
            Permission.MINT_UNSUBSCRIBE_LINKS,
            Permission.MANAGE_NUDGES,
            Permission.READ_NUDGES,
        }
    ),
}


@dataclass(frozen=True)
class Principal:
    role: Role | None
    subject: str = ""
    member_id: str | None = None
    # An admin's own membership, where their token's member claim names a customer: what
    # they may not moderate or reward themselves for. Never grants a member's access.
    own_member_id: str | None = None

    def is_self(self, member_id: str) -> bool:
        return member_id in (self.member_id, self.own_member_id)

    @property
    def actor(self) -> str:
        """Recorded on ledger entries: who did it (never an email or a token)."""
        return f"{self.role or 'anonymous'}:{self.subject}" if self.subject else str(self.role)

    def require(self, permission: Permission) -> None:
        if self.role is None:
            raise Unauthenticated()
        if permission not in ROLE_PERMISSIONS[self.role]:
            raise Forbidden()


ANONYMOUS = Principal(role=None)
# The scheduled jobs act as the system itself.
SYSTEM = Principal(role=Role.ADMIN, subject="system")


def group_values(value: object) -> list[str]:
    """The groups claim as API Gateway's JWT authorizer passes it: a JSON array in a token
    becomes the string "[a b]" (bracketed, space-separated); a string claim arrives as it
    is, one group. Native lists come from tokens the local server decodes itself."""
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    if not isinstance(value, str):
        return []
    if value.startswith("[") and value.endswith("]"):
        return value[1:-1].split(" ")
    return [value]


def scope_values(value: object) -> list[str]:
    """OAuth's scope claim: one space-separated string (RFC 8693 §4.2)."""
    return value.split(" ") if isinstance(value, str) else []


def principal_from_claims(claims: Mapping[str, object], config: Config) -> Principal:
    subject = str(claims.get("sub", ""))[:128]
    customer_id = claims.get(config.member_claim)
    if config.admin_group in group_values(claims.get(config.groups_claim)):
        own = member_id_for(customer_id) if isinstance(customer_id, str) else None
        return Principal(role=Role.ADMIN, subject=subject, own_member_id=own)
    if config.service_scope in scope_values(claims.get("scope")):
        client = str(claims.get("client_id", subject))[:128]
        return Principal(role=Role.SERVICE, subject=client)
    if isinstance(customer_id, str) and is_external_id(customer_id):
        member_id = member_id_for(customer_id)
        return Principal(role=Role.MEMBER, subject=member_id, member_id=member_id)
    return ANONYMOUS
