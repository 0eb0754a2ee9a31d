"""Bounces and complaints that SES publishes to SNS (the configuration set's event
destination; identity notifications have the same shape, with `notificationType`).

- A permanent bounce suppresses each bounced address. Transient and undetermined bounces
  (a full mailbox, an auto-reply) change nothing: SES retried them already.
- A complaint suppresses each complaining address and withdraws the EMAIL consent of the
  member the email was for (its `member` tag, as AwsChannels.send_email set it), with the
  source "complaint". A "not-spam" feedback report is not a complaint.
- Idempotent under SNS's redelivery: an address suppressed stays as it was, a consent
  already withdrawn is not withdrawn again (no second consent record); an unknown or erased
  member is no error.
- A notification that is not what SES sends (not an object, fields missing or of the
  wrong type) is logged and ignored: retrying it cannot help. Other event types (Send,
  Delivery, Open...) are ignored. Failures of the table raise, for SNS's retries.
Logs carry SES's message id, never an address.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from api.ids import is_member_id
from api.members.model import Channel
from api.members.service import MemberService
from api.nudges.channels import MEMBER_TAG, decode_tag
from api.nudges.suppressions import SuppressionService
from api.nudges.suppressions_model import SuppressionReason
from api.observability import count, logger

SOURCE = "complaint"  # recorded as the consent change's source
PERMANENT = "Permanent"
NOT_SPAM = "not-spam"


class Malformed(Exception):
    """Not a notification SES would send."""


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not an object")
    return value


def _addresses(recipients: Any) -> list[str]:
    if not isinstance(recipients, list) or not recipients:
        raise Malformed("no recipients")
    addresses = []
    for recipient in recipients:
        raw = _object(recipient, "a recipient").get("emailAddress")
        address = parseaddr(raw)[1] if isinstance(raw, str) else ""
        if "@" not in address:
            raise Malformed("a recipient without an address")
        addresses.append(address)
    return addresses


def _member_id(mail: dict[str, Any]) -> str | None:
    """The member the email was for, from its tags ({"name": ["value"]} in SES events)."""
    values = _object(mail.get("tags") or {}, "mail.tags").get(MEMBER_TAG)
    if not isinstance(values, list) or len(values) != 1 or not isinstance(values[0], str):
        return None
    member_id = decode_tag(values[0])
    return member_id if member_id is not None and is_member_id(member_id) else None


class BounceHandler:
    def __init__(self, suppressions: SuppressionService, members: MemberService) -> None:
        self._suppressions = suppressions
        self._members = members

    def handle(self, notification: Any) -> None:
        try:
            self._handle(_object(notification, "the notification"))
        except Malformed as exc:
            count("MalformedMailFeedback")
            logger.warning("Mail feedback ignored: %s", exc)

    def _handle(self, notification: dict[str, Any]) -> None:
        kind = notification.get("eventType") or notification.get("notificationType")
        mail = _object(notification.get("mail"), "mail")
        message_id = str(mail.get("messageId", ""))[:100]
        if kind == "Bounce":
            bounce = _object(notification.get("bounce"), "bounce")
            addresses = _addresses(bounce.get("bouncedRecipients"))
            bounce_type = bounce.get("bounceType")
            if bounce_type != PERMANENT:
                logger.info(
                    "Soft bounce: nothing suppressed",
                    extra={"message_id": message_id, "bounce_type": str(bounce_type)[:40]},
                )
                return
            for address in addresses:
                self._suppressions.suppress(address, SuppressionReason.HARD_BOUNCE)
            count("HardBounces", len(addresses))
            logger.info("Hard bounce: addresses suppressed", extra={"message_id": message_id})
        elif kind == "Complaint":
            complaint = _object(notification.get("complaint"), "complaint")
            addresses = _addresses(complaint.get("complainedRecipients"))
            if complaint.get("complaintFeedbackType") == NOT_SPAM:
                logger.info("Not-spam feedback: nothing changed", extra={"message_id": message_id})
                return
            member_id = _member_id(mail)  # before any write: a malformed one changes nothing
            for address in addresses:
                self._suppressions.suppress(address, SuppressionReason.COMPLAINT)
            withdrawn = member_id is not None and self._members.withdraw_consent(
                member_id, Channel.EMAIL, SOURCE
            )
            count("Complaints")
            logger.info(
                "Complaint: addresses suppressed",
                extra={
                    "message_id": message_id,
                    "member_id": member_id,
                    "consent_withdrawn": withdrawn,
                },
            )
        else:
            logger.debug("Mail event ignored", extra={"event_type": str(kind)[:40]})
