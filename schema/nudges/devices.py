"""Members' push devices: `registerDevice`, `unregisterDevice`, `myDevices`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.nudges import devices
from api.nudges.channels import Platform
from api.nudges.devices_model import Device as DomainDevice
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    InvalidInput,
    MemberNotFound,
    UserError,
    mutation,
    user_error,
)

strawberry.enum(Platform, name="DevicePlatform", description="IOS: APNs; ANDROID: FCM.")


@user_error(devices.PushNotConfigured)
@strawberry.type(description="The shop has not set up push notifications for this platform.")
class PushNotConfigured(UserError):
    pass


@strawberry.type(description="A device of the member's that push notifications go to.")
class Device:
    id: strawberry.ID = strawberry.field(description="Stands for the token (never the token).")
    platform: Platform
    registered_at: datetime = strawberry.field(description="Its last registration.")

    @classmethod
    def from_domain(cls, device: DomainDevice) -> Device:
        return cls(
            id=strawberry.ID(device.id),
            platform=device.platform,
            registered_at=device.registered_at,
        )


@strawberry.type
class DeviceRegistered:
    device: Device


@strawberry.type
class DeviceUnregistered:
    removed: bool = strawberry.field(description="false: the token was not registered.")


RegisterDeviceResult = Annotated[
    DeviceRegistered | InvalidInput | PushNotConfigured | MemberNotFound | ConcurrentUpdate,
    strawberry.union("RegisterDeviceResult"),
]
UnregisterDeviceResult = Annotated[
    DeviceUnregistered | InvalidInput | ConcurrentUpdate,
    strawberry.union("UnregisterDeviceResult"),
]


@strawberry.type
class DeviceMutation:
    @mutation(
        "Members: register their app's push token (at each start of the app: the same token "
        "again changes nothing but its time). At most 10 devices; another replaces the one "
        "registered longest ago."
    )
    def register_device(self, info: Info, platform: Platform, token: str) -> RegisterDeviceResult:
        ctx = info.context
        device = ctx.services.devices.register(ctx.principal, platform, token)
        return DeviceRegistered(device=Device.from_domain(device))

    @mutation("Members: stop push notifications to a token (at sign-out).")
    def unregister_device(self, info: Info, token: str) -> UnregisterDeviceResult:
        ctx = info.context
        return DeviceUnregistered(removed=ctx.services.devices.unregister(ctx.principal, token))


@strawberry.type
class DeviceQuery:
    @strawberry.field(description="Members: their registered devices, the latest first.")
    def my_devices(self, info: Info) -> list[Device]:
        ctx = info.context
        return [Device.from_domain(d) for d in ctx.services.devices.own_devices(ctx.principal)]
