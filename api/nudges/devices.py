"""Members' push devices: each token registered becomes an SNS platform endpoint, which the
sender publishes to.

Rules:
- A member registers their own app's token (REGISTER_OWN_DEVICES). A token is 1 to 4096
  printable ASCII characters without spaces (APNs tokens are hex, FCM's base64url-like).
  Without the platform's SNS application configured: PushNotConfigured.
- Registering is idempotent: the same token again keeps its endpoint (SNS answers the
  same one) and only moves its registration time. A token another member holds moves to
  this member: it leaves their list in the same transaction (the owner item).
- At most MAX_DEVICES per member: registering another replaces the one registered longest
  ago (its endpoint is deleted).
- Unregistering a token the member does not hold changes nothing. Endpoints are deleted
  after the write; a failed deletion leaves an endpoint nothing publishes to (logged).
- `remove` is the sender's clean-up for an endpoint SNS disabled (the platform refused the
  token): the device leaves the list and the endpoint is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from api.auth import Permission, Principal
from api.clock import Clock
from api.config import Config
from api.errors import DomainError, ErrorCode, Forbidden, InvalidInput, MemberNotFound
from api.idempotency import Plan
from api.members import store as members
from api.nudges import devices_store as store
from api.nudges.channels import Channels, PermanentFailure, Platform, TransientFailure
from api.nudges.devices_model import Device
from api.observability import logger
from api.program.service import ProgramService
from api.store.base import TableItem
from api.store.reads import Snapshot, get
from api.store.tx import Cancelled, Retry, with_retries

R = TypeVar("R")
MAX_DEVICES = 10
MAX_TOKEN = 4096


class PushNotConfigured(DomainError):
    code = ErrorCode.PUSH_NOT_CONFIGURED

    def __init__(self, platform: Platform) -> None:
        super().__init__(f"Push notifications are not set up for {platform}.")


def check_token(token: str) -> str:
    if not token:
        raise InvalidInput("token", "Must not be empty.")
    if len(token) > MAX_TOKEN:
        raise InvalidInput("token", f"Must be at most {MAX_TOKEN} characters.")
    if not all("!" <= c <= "~" for c in token):
        raise InvalidInput("token", "Must be printable ASCII, without spaces.")
    return token


def _commit(clock: Clock, decide: Callable[[], Plan[R]]) -> R:
    """versioned_write's loop, for decisions whose reads depend on what they read first."""

    def attempt() -> R:
        plan = decide()
        try:
            return plan.commit()
        except Cancelled as exc:
            raise Retry() from exc

    return with_retries(clock, attempt)


class DeviceService:
    def __init__(
        self, config: Config, clock: Clock, program: ProgramService, channels: Channels
    ) -> None:
        self._config = config
        self._clock = clock
        self._program = program
        self._channels = channels

    def _application(self, platform: Platform) -> str:
        arn = self._config.sns_apns_arn if platform is Platform.IOS else self._config.sns_fcm_arn
        if arn is None:
            raise PushNotConfigured(platform)
        return arn

    def register(self, actor: Principal, platform: Platform, token: str) -> Device:
        actor.require(Permission.REGISTER_OWN_DEVICES)
        member_id = actor.member_id
        if member_id is None:
            raise Forbidden()
        check_token(token)
        application = self._application(platform)
        if get(members.member_key(member_id), members.MemberItem) is None:
            raise MemberNotFound()
        try:
            endpoint = self._channels.create_push_endpoint(application, token, member_id)
        except PermanentFailure as exc:
            raise InvalidInput("token", f"The platform refused this token ({exc.reason}).") from exc
        device_id = store.token_id(token)
        dropped: list[Device] = []

        def decide() -> Plan[Device]:
            snapshot = Snapshot([store.list_key(member_id), store.owner_key(device_id)])
            listed = snapshot.get(store.list_key(member_id), store.DeviceListItem)
            owner = snapshot.get(store.owner_key(device_id), store.DeviceOwnerItem)
            holder = None if owner is None else owner.member_id  # before it is rewritten
            now = self._program.current_time()
            device = Device(device_id, platform, endpoint, now)
            kept = [d for d in store.devices_of(listed) if d.id != device_id]
            kept.sort(key=lambda d: d.registered_at)
            over = max(0, len(kept) + 1 - MAX_DEVICES)  # the oldest make room
            out, kept = kept[:over], kept[over:]
            changed: list[TableItem] = []
            new: list[TableItem] = []
            for item, present in (
                (store.with_devices(listed, member_id, [*kept, device]), listed),
                (store.owner_item(owner, device_id, member_id, endpoint), owner),
            ):
                (new if present is None else changed).append(item)
            if holder is not None and holder != member_id:
                # The token moves: it leaves its previous member's list.
                previous_key = store.list_key(holder)
                previous = Snapshot([previous_key]).get(previous_key, store.DeviceListItem)
                if previous is not None:
                    rest = [d for d in store.devices_of(previous) if d.id != device_id]
                    changed.append(store.with_devices(previous, holder, rest))
            owners = Snapshot([store.owner_key(d.id) for d in out]) if out else None
            deleted = [
                o
                for d in out
                if owners is not None
                and (o := owners.get(store.owner_key(d.id), store.DeviceOwnerItem)) is not None
                and o.member_id == member_id
            ]
            dropped[:] = out
            return Plan(device, new=new, changed=changed, deleted=deleted)

        device = _commit(self._clock, decide)
        self._delete_endpoints(d.endpoint_arn for d in dropped)
        return device

    def unregister(self, actor: Principal, token: str) -> bool:
        """Whether the member held the token (False: nothing changed)."""
        actor.require(Permission.REGISTER_OWN_DEVICES)
        member_id = actor.member_id
        if member_id is None:
            raise Forbidden()
        check_token(token)
        return self._forget(member_id, lambda d: d.id == store.token_id(token))

    def remove(self, member_id: str, endpoint_arn: str) -> bool:
        """The sender's clean-up of a disabled or deleted endpoint: whether it was listed."""
        return self._forget(member_id, lambda d: d.endpoint_arn == endpoint_arn)

    def devices(self, member_id: str) -> list[Device]:
        """The member's devices, the most recently registered first (one GetItem)."""
        listed = get(store.list_key(member_id), store.DeviceListItem)
        return sorted(store.devices_of(listed), key=lambda d: d.registered_at, reverse=True)

    def own_devices(self, actor: Principal) -> list[Device]:
        actor.require(Permission.REGISTER_OWN_DEVICES)
        if actor.member_id is None:
            raise Forbidden()
        return self.devices(actor.member_id)

    def _forget(self, member_id: str, matches: Callable[[Device], bool]) -> bool:
        gone: list[Device] = []

        def decide() -> Plan[bool]:
            key = store.list_key(member_id)
            listed = Snapshot([key]).get(key, store.DeviceListItem)
            devices = store.devices_of(listed)
            found = [d for d in devices if matches(d)]
            gone[:] = found
            if listed is None or not found:
                return Plan(False)
            rest = [d for d in devices if not matches(d)]
            owners = Snapshot([store.owner_key(d.id) for d in found])
            deleted = [
                o
                for d in found
                if (o := owners.get(store.owner_key(d.id), store.DeviceOwnerItem)) is not None
                and o.member_id == member_id
            ]
            changed = [store.with_devices(listed, member_id, rest)]
            return Plan(True, changed=changed, deleted=deleted)

        removed = _commit(self._clock, decide)
        self._delete_endpoints(d.endpoint_arn for d in gone)
        return removed

    def _delete_endpoints(self, arns: Iterable[str]) -> None:
        for arn in arns:
            try:
                self._channels.delete_push_endpoint(arn)
            except (PermanentFailure, TransientFailure) as exc:
                # Nothing publishes to it any more; SNS keeps it until deleted by hand.
                logger.warning("Push endpoint not deleted", extra={"reason": exc.reason})
