"""`unsubscribeLink`: a one-click unsubscribe link and its RFC 8058 headers, for the shop's
own emails (the public page that answers it is schema/nudges/unsubscribe_page.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.members.model import Channel
from api.nudges import unsubscribe
from schema.context import Info


@strawberry.type(description="The two headers RFC 8058 asks of a one-click unsubscribe email.")
class UnsubscribeHeaders:
    list_unsubscribe: str = strawberry.field(
        description="The List-Unsubscribe header's value: the link, in angle brackets."
    )
    list_unsubscribe_post: str = strawberry.field(
        description="The List-Unsubscribe-Post header's value: List-Unsubscribe=One-Click."
    )


@strawberry.type(description="A link that withdraws one channel's consent, without a login.")
class UnsubscribeLink:
    url: str = strawberry.field(
        description="For the footer and List-Unsubscribe: a GET shows a confirmation page, "
        "a POST unsubscribes."
    )
    expires_at: datetime
    headers: UnsubscribeHeaders

    @classmethod
    def from_domain(cls, link: unsubscribe.UnsubscribeLink) -> UnsubscribeLink:
        return cls(
            url=link.url,
            expires_at=link.token.expires_at,
            headers=UnsubscribeHeaders(
                list_unsubscribe=link.list_unsubscribe,
                list_unsubscribe_post=link.list_unsubscribe_post,
            ),
        )


@strawberry.type
class NudgeQuery:
    @strawberry.field(
        description=(
            "Shop backend and admins: a one-click unsubscribe link for one member and "
            "channel (by member id or customer id), with the email headers that carry it."
        )
    )
    def unsubscribe_link(
        self,
        info: Info,
        channel: Channel,
        member_id: strawberry.ID | None = None,
        customer_id: str | None = None,
    ) -> UnsubscribeLink:
        ctx = info.context
        link = ctx.services.unsubscribe.link(ctx.principal, channel, member_id, customer_id)
        return UnsubscribeLink.from_domain(link)
