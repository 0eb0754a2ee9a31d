"""The sender: one queued nudge at a time (handlers/nudge_sender.py feeds it SQS messages).

A message only names a record; the record decides. Only a QUEUED record is sent, and only
after it is claimed: QUEUED -> SENDING under the record's version, then the provider call,
then SENT (or FAILED, SUPPRESSED). So a message delivered twice, or a second message from
the scheduler's redrive, finds the record claimed or done and sends nothing. A sender that
dies between claim and outcome leaves SENDING: its redelivery finds the lease over and
records FAILED (INTERRUPTED) rather than risk a second send (at most once).

Everything is checked again at sending, since the queue may have held the message a while:
the channel's consent (withdrawn: SUPPRESSED), quiet hours (back to HELD until they end),
staleness (DROPPED), the address (a hard bounce or complaint suppressed it: SUPPRESSED).
A transient provider error puts the record back to QUEUED and raises, so SQS retries it
with backoff; after MAX_ATTEMPTS it is FAILED and the message is done.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from api.auth import SYSTEM
from api.clock import Clock
from api.config import Config
from api.idempotency import Plan, versioned_write
from api.members import store as members
from api.members.model import Channel, Member
from api.nudges import store
from api.nudges.channels import (
    KIND_TAG,
    MEMBER_TAG,
    SUBJECT_TAG,
    Channels,
    EndpointDisabled,
    PermanentFailure,
)
from api.nudges.devices import DeviceService
from api.nudges.model import MessageContext, NudgeConfig, NudgeRecord, NudgeStatus, Rendered
from api.nudges.queue import Message
from api.nudges.rules import consented_channels, is_quiet, next_allowed, zone
from api.nudges.rules_model import Candidate, DropReason, NudgeKind
from api.nudges.scheduler import ConfigSource
from api.nudges.suppressions import SuppressionService
from api.nudges.unsubscribe import UnsubscribeService
from api.observability import count, logger
from api.program import store as program_store
from api.program.service import ProgramService
from api.store.reads import Snapshot

MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=60)  # longer than a send's bounded provider calls

# Where a nudge's button leads, under the shop's URL.
ACTION_PATHS = {
    NudgeKind.POINTS_EXPIRING: "/account/points",
    NudgeKind.TIER_AT_RISK: "/account/tier",
    NudgeKind.REWARD_AFFORDABLE: "/rewards",
    NudgeKind.CLOSE_TO_NEXT_TIER: "/account/tier",
    NudgeKind.BIRTHDAY: "/",
    NudgeKind.WIN_BACK: "/",
    NudgeKind.REVIEW_REQUEST: "/account/orders",
    NudgeKind.NPS_SURVEY: "/survey/nps",
}


class Suppressed(PermanentFailure):
    """Not to be sent at all: the address bounced hard or complained."""


class Renderer(Protocol):
    def render(self, name: str, context: MessageContext) -> Rendered: ...


class Outcome(StrEnum):
    SENT = "SENT"
    SKIPPED = "SKIPPED"  # not QUEUED (done, claimed elsewhere, or unknown): nothing to do
    HELD = "HELD"
    SUPPRESSED = "SUPPRESSED"
    DROPPED = "DROPPED"
    FAILED = "FAILED"
    RETRY = "RETRY"  # transient: put back to QUEUED, to be retried


@dataclass(frozen=True)
class Claim:
    record: NudgeRecord
    member: Member
    now: datetime
    currency: str


class RetryLater(Exception):
    """Retry later: the record is QUEUED again, and the handler reports the message failed
    (SQS redelivers it after a backoff)."""


class Sender:
    def __init__(
        self,
        *,
        clock: Clock,
        config: Config,
        program: ProgramService,
        configs: ConfigSource,
        renderer: Renderer,
        channels: Channels,
        devices: DeviceService,
        suppressions: SuppressionService,
        unsubscribe: UnsubscribeService,
    ) -> None:
        self._clock = clock
        self._config = config
        self._program = program
        self._configs = configs
        self._renderer = renderer
        self._channels = channels
        self._devices = devices
        self._suppressions = suppressions
        self._unsubscribe = unsubscribe

    def send(self, message: Message) -> Outcome:
        """Send the nudge the message names, at most once. Raises RetryLater when a retry
        may succeed (the record is QUEUED again)."""
        nudge = self._configs.get()
        claimed = self._claim(message, nudge)
        if not isinstance(claimed, Claim):
            return claimed
        record, member = claimed.record, claimed.member
        try:
            rendered, message_id = self._deliver(claimed, nudge)
        except Suppressed as exc:
            self._finish(record, claimed.now, NudgeStatus.SUPPRESSED, reason=exc.reason)
            count("NudgesSuppressed")
            return Outcome.SUPPRESSED
        except PermanentFailure as exc:
            self._finish(record, claimed.now, NudgeStatus.FAILED, reason=exc.reason)
            count("NudgesFailed")
            return Outcome.FAILED
        except Exception as exc:
            if record.attempts >= MAX_ATTEMPTS:
                logger.exception("Nudge failed for good", extra={"member": member.id})
                self._finish(record, claimed.now, NudgeStatus.FAILED, reason="RETRIES_EXHAUSTED")
                count("NudgesFailed")
                return Outcome.FAILED
            self._finish(record, claimed.now, NudgeStatus.QUEUED)
            raise RetryLater(str(exc)) from exc
        self._finish(record, claimed.now, NudgeStatus.SENT, message_id=message_id)
        count("NudgesSent")
        logger.info(
            "Nudge sent",
            extra={"kind": record.kind, "channel": record.channel, "locale": rendered.locale},
        )
        return Outcome.SENT

    # ---- claiming ------------------------------------------------------------------------

    def _claim(self, message: Message, nudge: NudgeConfig) -> Claim | Outcome:
        key = store.record_key(message.member_id, message.kind, message.subject)
        member_key = members.member_key(message.member_id)

        def decide(snapshot: Snapshot) -> Plan[Claim | Outcome]:
            item = snapshot.get(key, store.NudgeItem)
            settings = program_store.settings(snapshot)
            now = self._program.now(settings)
            if item is None:
                return Plan(Outcome.SKIPPED)
            record = store.record_from_item(item)
            if record.status is NudgeStatus.SENDING:
                if record.claimed_until is not None and record.claimed_until > now:
                    return Plan(Outcome.SKIPPED)  # another sender is on it
                # Its sender died mid-send: the message may have gone. Never twice.
                failed = replace(
                    record, status=NudgeStatus.FAILED, reason="INTERRUPTED", updated_at=now
                )
                return Plan(Outcome.FAILED, changed=[store.record_to_item(failed)])
            if record.status is not NudgeStatus.QUEUED or record.channel is None:
                return Plan(Outcome.SKIPPED)
            member = members.load(snapshot, message.member_id)
            if member is None:
                return _end(record, now, NudgeStatus.SUPPRESSED, "MEMBER_GONE", Outcome.SUPPRESSED)
            if not consented_channels([record.channel], member.consents):
                return _end(record, now, NudgeStatus.SUPPRESSED, "NO_CONSENT", Outcome.SUPPRESSED)
            candidate = Candidate(member.id, record.kind, record.subject, record.due_at, ())
            if now > nudge.rules.staleness.deadline(candidate):
                return _end(record, now, NudgeStatus.DROPPED, DropReason.STALE, Outcome.DROPPED)
            if is_quiet(now, zone(member.time_zone), nudge.rules.quiet):
                # Held in the queue into quiet hours: wait for them to end, then decide again.
                until = next_allowed(now, member.time_zone, nudge.rules.quiet)
                held = replace(record, status=NudgeStatus.HELD, send_at=until, updated_at=now)
                return Plan(Outcome.HELD, changed=[store.record_to_item(held)])
            claimed = replace(
                record,
                status=NudgeStatus.SENDING,
                claimed_until=now + LEASE,
                attempts=record.attempts + 1,
                updated_at=now,
            )
            currency = settings.accepted_currencies[0]
            return Plan(
                Claim(claimed, member, now, currency), changed=[store.record_to_item(claimed)]
            )

        return versioned_write(self._clock, [key, member_key, program_store.SETTINGS_KEY], decide)

    def _finish(
        self,
        record: NudgeRecord,
        now: datetime,
        status: NudgeStatus,
        *,
        reason: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """The outcome, on the record as it is now: an order may have marked it converted
        meanwhile (api/nudges/reactions.py), which must not turn a sent nudge into a
        conflict. Only our own claim is finished."""
        key = store.record_key(record.member_id, record.kind, record.subject)

        def decide(snapshot: Snapshot) -> Plan[None]:
            item = snapshot.get(key, store.NudgeItem)
            current = None if item is None else store.record_from_item(item)
            if (
                current is None
                or current.status is not NudgeStatus.SENDING
                or current.claimed_until != record.claimed_until
            ):
                return Plan(None)
            done = replace(
                current,
                status=status,
                reason=reason,
                message_id=message_id,
                claimed_until=None,
                updated_at=now,  # the claim's time: the send follows it within the lease
            )
            return Plan(None, changed=[store.record_to_item(done)])

        versioned_write(self._clock, [key], decide)

    # ---- delivering ----------------------------------------------------------------------

    def _deliver(self, claim: Claim, nudge: NudgeConfig) -> tuple[Rendered, str]:
        record, member = claim.record, claim.member
        channel = record.channel
        assert channel is not None
        links = {"shop": self._config.shop_url, "action": self._action(record)}
        if channel in (Channel.EMAIL, Channel.SMS):
            link = self._unsubscribe.link(SYSTEM, channel, member_id=member.id)
            links["unsubscribe"] = link.url
        context = MessageContext(
            kind=record.kind,
            channel=channel,
            locale=member.locale,
            time_zone=member.time_zone,
            member_name=member.name,
            shop_name=self._config.shop_name,
            currency=claim.currency,
            values=record.values,
            links=links,
        )
        try:
            rendered = self._renderer.render(nudge.trigger(record.kind).template_name, context)
        except Exception as exc:  # a template that renders once renders again the same way
            logger.exception("Nudge template failed", extra={"kind": record.kind})
            raise PermanentFailure("TEMPLATE_ERROR") from exc
        if channel is Channel.EMAIL:
            if member.email is None:
                raise PermanentFailure("NO_ADDRESS")
            if self._suppressions.is_suppressed(member.email):
                raise Suppressed("ADDRESS_SUPPRESSED")
            headers = {
                "List-Unsubscribe": link.list_unsubscribe,
                "List-Unsubscribe-Post": link.list_unsubscribe_post,
            }
            # Complaints find the member by these tags (api/nudges/bounces.py).
            tags = {MEMBER_TAG: member.id, KIND_TAG: record.kind.value, SUBJECT_TAG: record.subject}
            return rendered, self._channels.send_email(member.email, rendered, headers, tags)
        if channel is Channel.SMS:
            if member.phone is None:
                raise PermanentFailure("NO_PHONE")
            return rendered, self._channels.send_sms(member.phone, rendered)
        return rendered, self._push(member.id, rendered)

    def _push(self, member_id: str, rendered: Rendered) -> str:
        """To every device of the member; a disabled one is removed. The first message id."""
        sent: list[str] = []
        for device in self._devices.devices(member_id):
            try:
                sent.append(self._channels.send_push(device.endpoint_arn, rendered))
            except EndpointDisabled:
                self._devices.remove(member_id, device.endpoint_arn)
        if not sent:
            raise PermanentFailure("NO_DEVICE")
        return sent[0]

    def _action(self, record: NudgeRecord) -> str:
        base = self._config.shop_url.rstrip("/")
        return f"{base}{ACTION_PATHS[record.kind]}"


def _end(
    record: NudgeRecord, now: datetime, status: NudgeStatus, reason: str, outcome: Outcome
) -> Plan[Claim | Outcome]:
    done = replace(record, status=status, reason=reason, updated_at=now)
    return Plan(outcome, changed=[store.record_to_item(done)])
