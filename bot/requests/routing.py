"""Where messages to a person go: one lookup over their identities, for answers, notices and fallbacks."""

from __future__ import annotations

from collections.abc import Sequence

from bot.requests.models import Identity, PrivacyRequest


def routes(identities: Sequence[Identity], channel: str) -> list[tuple[str, str]]:
    """Where messages to a person may go, best first: the channel they wrote on, then any other proven
    identity that can carry messages. The one lookup behind answering, notifying and falling back."""
    reachable = [i for i in identities if i.proven and i.route]
    reachable.sort(key=lambda i: i.kind != channel)
    return [(i.kind, str(i.route)) for i in reachable]


def requester_route(request: PrivacyRequest, avoid: str | None = None) -> tuple[str, str] | None:
    """Where messages to the requester go; ``avoid``: a channel that just failed (the fallback)."""
    found = [route for route in routes(request.identities, request.channel.value) if route[0] != avoid]
    return found[0] if found else None
