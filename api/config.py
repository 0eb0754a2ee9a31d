"""Configuration, read once from the environment (Lambda sets it from serverless.yml)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    LOCAL = "local"
    DEV = "dev"
    PROD = "prod"


# Signs the tokens `make run` prints. Only the local stage accepts them.
LOCAL_DEV_SECRET = "loyalty-local-dev-secret-not-for-production"
# Signs unsubscribe links outside production when UNSUBSCRIBE_KEYS is not set (key id 0).
LOCAL_UNSUBSCRIBE_KEYS = "0:loyalty-local-unsubscribe-secret-not-for-production"
# Where `make run` serves the API: unsubscribe links point there outside production.
LOCAL_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Config:
    stage: Stage = Stage.LOCAL
    table_name: str = "loyalty-local"
    region: str = "us-east-1"
    # DynamoDB Local, moto's server or None for AWS itself.
    dynamodb_endpoint: str | None = None
    # Which JWT claims carry identity and roles (API Gateway's authorizer has verified them).
    member_claim: str = "sub"
    groups_claim: str = "cognito:groups"
    admin_group: str = "admin"
    service_scope: str = "loyalty/service"
    local_jwt_secret: str = LOCAL_DEV_SECRET
    # Replays of redemptions/adjustments are recognised this long; orders and refunds forever.
    idempotency_days: int = 90
    # Threads of the daily job (one per shard of the due index at most).
    maintenance_workers: int = 8
    # The EventBridge bus that new follow-ups are announced on; None: not announced (DynamoDB
    # Local alone has no EventBridge). Its endpoint: moto's server locally, None for AWS.
    event_bus_name: str | None = None
    events_endpoint: str | None = None
    # Unsubscribe links' keys, "kid:secret" (kid 0-255, secret 32+ characters), comma-separated:
    # the first signs, every one verifies. Empty: LOCAL_UNSUBSCRIBE_KEYS outside production;
    # in production, minting or checking a link fails (api/nudges/unsubscribe.py).
    unsubscribe_keys: str = ""
    unsubscribe_days: int = 60  # how long a link works (mailbox providers POST late)
    # Where /unsubscribe is served, e.g. https://api.example.com. Empty: LOCAL_BASE_URL outside
    # production; in production, minting a link fails.
    public_base_url: str = ""
    # Nudges (api/nudges/). The queue the scheduler fills and the sender drains; None: the
    # scheduler decides and records but enqueues nothing (DynamoDB Local alone has no SQS).
    nudge_queue_url: str | None = None
    # SES, SNS and SQS endpoint: moto's server locally, None for AWS.
    messaging_endpoint: str | None = None
    email_from: str = "Loyalty <no-reply@example.com>"  # an SES verified identity
    ses_configuration_set: str | None = None  # bounces and complaints are published from it
    sns_apns_arn: str | None = None  # SNS platform applications for push; None: no platform
    sns_fcm_arn: str | None = None
    sms_sender_id: str | None = None  # where the country allows alphanumeric sender ids
    shop_name: str = "Demo Shop"  # what messages sign with
    shop_url: str = "http://127.0.0.1:8000"  # where messages' buttons lead

    @property
    def is_production(self) -> bool:
        return self.stage is Stage.PROD

    @property
    def introspection(self) -> bool:
        """Introspection and GraphiQL: local and dev only."""
        return self.stage in (Stage.LOCAL, Stage.DEV)

    @property
    def test_clock(self) -> bool:
        """The admin test clock exists outside production only."""
        return not self.is_production

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        try:
            stage = Stage(env.get("STAGE", Stage.LOCAL.value))
        except ValueError as exc:
            raise ValueError(f"STAGE must be one of {[s.value for s in Stage]}") from exc
        default = cls()
        return cls(
            stage=stage,
            table_name=env.get("TABLE_NAME", default.table_name),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", default.region)),
            dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
            member_claim=env.get("MEMBER_CLAIM", default.member_claim),
            groups_claim=env.get("GROUPS_CLAIM", default.groups_claim),
            admin_group=env.get("ADMIN_GROUP", default.admin_group),
            service_scope=env.get("SERVICE_SCOPE", default.service_scope),
            local_jwt_secret=env.get("LOCAL_JWT_SECRET", default.local_jwt_secret),
            idempotency_days=int(env.get("IDEMPOTENCY_DAYS", default.idempotency_days)),
            maintenance_workers=int(env.get("MAINTENANCE_WORKERS", default.maintenance_workers)),
            event_bus_name=env.get("EVENT_BUS_NAME") or None,
            events_endpoint=env.get("EVENTS_ENDPOINT") or None,
            unsubscribe_keys=env.get("UNSUBSCRIBE_KEYS", default.unsubscribe_keys),
            unsubscribe_days=int(env.get("UNSUBSCRIBE_DAYS", default.unsubscribe_days)),
            public_base_url=env.get("PUBLIC_BASE_URL", default.public_base_url),
            nudge_queue_url=env.get("NUDGE_QUEUE_URL") or None,
            messaging_endpoint=env.get("MESSAGING_ENDPOINT") or None,
            email_from=env.get("EMAIL_FROM", default.email_from),
            ses_configuration_set=env.get("SES_CONFIGURATION_SET") or None,
            sns_apns_arn=env.get("SNS_APNS_ARN") or None,
            sns_fcm_arn=env.get("SNS_FCM_ARN") or None,
            sms_sender_id=env.get("SMS_SENDER_ID") or None,
            shop_name=env.get("SHOP_NAME", default.shop_name),
            shop_url=env.get("SHOP_URL", default.shop_url),
        )
