"""Mail that must never be answered: auto-replies, bulk and list mail, bounces, robots, ourselves.

Returns the reason (for the record) or None. RFC 3834 (Auto-Submitted), RFC 2369/2919 (List-*),
RFC 3464 (delivery reports), plus the de-facto headers of Exchange, Yandex and Mail.ru.
"""

from __future__ import annotations

import re

from handlers.email.parsing import ParsedMail

_ROBOT_LOCAL_PARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|noreply-[\w.-]+|bounces?(\+.*)?|"
    r"notifications?|auto-?reply|autoresponder|daemon)$",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
_REPORT_TYPES = {"multipart/report", "message/delivery-status", "message/disposition-notification"}


def automatic_reason(mail: ParsedMail, own_addresses: set[str]) -> str | None:
    headers = mail.headers
    sender = mail.from_addr
    if not sender:
        return "no_sender"
    if sender in own_addresses:
        return "own_address"
    local = sender.split("@", 1)[0]
    if _ROBOT_LOCAL_PARTS.match(local):
        return "robot_sender"
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        return "auto_submitted"
    if headers.get("precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return "precedence"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing_list"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "autoreply_header"
    if "x-auto-response-suppress" in headers:
        # Set by Exchange on its own out-of-office and notification mail (and by us).
        return "auto_response_suppress"
    if mail.content_type in _REPORT_TYPES or "x-failed-recipients" in headers:
        return "delivery_report"
    if headers.get("return-path", "").strip() == "<>":
        return "null_return_path"
    return None
