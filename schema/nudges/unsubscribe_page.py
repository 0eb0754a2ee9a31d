"""The public one-click unsubscribe route (no JWT: the link's signed token is the proof).

- GET /unsubscribe?token=... checks the token and shows a confirmation page with a button;
  it changes nothing (mail scanners and link previews fetch links).
- POST /unsubscribe?token=... unsubscribes (RFC 8058: mailbox providers POST the body
  List-Unsubscribe=One-Click, form-encoded or multipart; the page's button posts the same).
  Whatever the body says, a POST is the click. Answered 200 with a short page, never a
  redirect; the same answer whether anything changed or whom the token names.
- A missing, malformed, altered, expired or retired token is a 400 page saying so; another
  method a 405; a body over the GraphQL limit a 413. A bug or a missing production key is
  logged and answered with a page (500, 503), never a stack trace.

Pages are small, self-contained HTML: every value rendered is escaped, and the only member
data shown is the channel's name. They are not cached, not indexed, leak no Referer (the
token is in the URL) and cannot be framed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from api.members.model import Channel
from api.nudges.unsubscribe import (
    InvalidUnsubscribeToken,
    UnsubscribeNotConfigured,
    UnsubscribeService,
)
from api.observability import count, count_error, logger
from schema.http import Answer, RequestRefused, read_body

HTML = "text/html; charset=utf-8"
CHANNEL_NAMES = {
    Channel.EMAIL: "emails",
    Channel.SMS: "text messages",
    Channel.PUSH: "push notifications",
}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
    "line-height:1.5}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}"
)


def page(status: int, title: str, text: str, form_token: str | None = None) -> Answer:
    """A page; with form_token, a button that POSTs the one-click body for that token."""
    form = ""
    if form_token is not None:
        form = (
            f'<form method="post" action="?token={html.escape(form_token)}">'
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            '<button type="submit">Unsubscribe</button></form>'
        )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</body></html>"
    )
    headers = dict(HEADERS)
    if status == 405:
        headers["Allow"] = "GET, POST"
    return Answer(status, body.encode("utf-8"), HTML, headers)


def _token(query_string: bytes) -> str | None:
    """The one `token` parameter, or None (absent or repeated). Bytes that are not UTF-8
    become U+FFFD, which no token holds."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    tokens = [value for name, value in pairs if name == "token"]
    return tokens[0] if len(tokens) == 1 else None


def _headers(scope: Scope) -> Mapping[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


class UnsubscribePage:
    """The /unsubscribe endpoint, as an ASGI app."""

    def __init__(self, service: UnsubscribeService, request_id: Callable[[Scope], str]) -> None:
        self.service = service
        self.request_id = request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = await self.answer(scope, receive)
        except UnsubscribeNotConfigured:
            logger.exception("Unsubscribe links are not configured")
            answer = page(503, "Unavailable", "Unsubscribing is unavailable; try again later.")
        except Exception:  # a bug: answered as one, never as a bare 500
            count("UnexpectedErrors")
            rid = self.request_id(scope)
            logger.exception("Unexpected error on the unsubscribe page (request %s)", rid)
            answer = page(500, "Something went wrong", f"Please try again later ({rid}).")
        await answer.send(send)

    async def answer(self, scope: Scope, receive: Receive) -> Answer:
        method = scope["method"]
        if method not in ("GET", "POST"):
            return page(405, "Not allowed", "Open the link from your message.")
        token = _token(scope.get("query_string", b""))
        try:
            if method == "POST":
                await read_body(_headers(scope).get("content-length"), receive)
            if token is None:
                return page(400, "Link not valid", "This link has no unsubscribe token.")
            if method == "GET":
                channel = self.service.check(token).channel
                return page(
                    200,
                    "Unsubscribe?",
                    f"Stop receiving {CHANNEL_NAMES[channel]} from us?",
                    form_token=token,
                )
            channel = self.service.unsubscribe(token).channel
        except RequestRefused as refused:
            return page(refused.status, "Request refused", refused.message)
        except InvalidUnsubscribeToken as invalid:
            count_error(invalid.code)
            return page(400, "Link not valid", invalid.message)
        count("UnsubscribeClicks")
        return page(200, "Unsubscribed", f"You will no longer receive {CHANNEL_NAMES[channel]}.")
