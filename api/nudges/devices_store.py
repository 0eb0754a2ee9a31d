"""Push device items and their mapping both ways.

| item          | pk                   | sk       |
| ------------- | -------------------- | -------- |
| device list   | DEVICES#<member id>  | DEVICES  | versioned: the member's devices (at most 10)
| token's owner | DEVICE#<token id>    | DEVICE   | versioned: which member holds a token now

A token id is the first 128 bits of the token's SHA-256 (hex): keys and the API never carry
the token itself (SNS keeps it, in the endpoint). The owner item lets a token that moves to
another member (a shared phone, a new login) leave the previous member's list in the same
transaction, so nothing is ever pushed to a device for someone else.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute, VersionAttribute

from api.nudges.channels import Platform
from api.nudges.devices_model import Device
from api.store.base import JSONAttribute, Key, TableItem


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:32]


def list_key(member_id: str) -> Key:
    return (f"DEVICES#{member_id}", "DEVICES")


def owner_key(device_id: str) -> Key:
    return (f"DEVICE#{device_id}", "DEVICE")


class DeviceListItem(TableItem, discriminator="nudge_devices"):
    devices = JSONAttribute()  # {"devices": [device, ...]}
    version = VersionAttribute()


class DeviceOwnerItem(TableItem, discriminator="nudge_device_owner"):
    member_id = UnicodeAttribute()
    endpoint = UnicodeAttribute()
    version = VersionAttribute()


def _to_json(d: Device) -> dict[str, Any]:
    return {
        "id": d.id,
        "platform": d.platform.value,
        "endpoint": d.endpoint_arn,
        "registered_at": d.registered_at.isoformat(),
    }


def _from_json(d: dict[str, Any]) -> Device:
    return Device(
        id=d["id"],
        platform=Platform(d["platform"]),
        endpoint_arn=d["endpoint"],
        registered_at=datetime.fromisoformat(d["registered_at"]),
    )


def devices_of(item: DeviceListItem | None) -> list[Device]:
    return [] if item is None else [_from_json(d) for d in item.devices["devices"]]


def with_devices(item: DeviceListItem | None, member_id: str, devices: list[Device]) -> TableItem:
    """The list item holding `devices`: the one read (written under its version) or new."""
    if item is None:
        item = DeviceListItem(*list_key(member_id))
    item.devices = {"devices": [_to_json(d) for d in devices]}
    return item


def owner_item(
    item: DeviceOwnerItem | None, device_id: str, member_id: str, endpoint: str
) -> DeviceOwnerItem:
    if item is None:
        item = DeviceOwnerItem(*owner_key(device_id))
    item.member_id = member_id
    item.endpoint = endpoint
    return item
