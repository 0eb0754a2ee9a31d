"""The `me` and `member` queries."""

from __future__ import annotations

import strawberry

from api.auth import Permission
from api.validation import member_ref
from schema.context import Info
from schema.members.types import Member
from schema.points.types import history_first


def _view(info: Info, member_id: str) -> Member | None:
    ctx = info.context
    view = ctx.services.member_views.view(ctx.principal, member_id, history_first(info))
    return None if view is None else Member.from_view(view, ctx.principal)


@strawberry.type
class MemberQuery:
    @strawberry.field(description="The calling member: profile, consents and points.")
    def me(self, info: Info) -> Member | None:
        principal = info.context.principal
        principal.require(Permission.READ_OWN_MEMBER)
        assert principal.member_id is not None  # the member role always carries one
        return _view(info, principal.member_id)

    @strawberry.field(description="Admin and shop backend: any member, by id or customer id.")
    def member(
        self, info: Info, id: strawberry.ID | None = None, customer_id: str | None = None
    ) -> Member | None:
        return _view(info, member_ref(id, customer_id))
