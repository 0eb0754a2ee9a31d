"""What every resolver gets: the domain services, the verified caller and the request id."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from api.auth import Principal
from api.services import Services


@dataclass
class Context:
    services: Services
    principal: Principal
    request_id: str


Info = strawberry.Info[Context, None]
