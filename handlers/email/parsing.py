"""Reading a raw mail into what the channel needs: addresses, threading ids, text, attachments, auth results.

Never raises on bad input: unknown or lying charsets are guessed, broken base64/QP is decoded as far as
it goes, a mail with no readable text is marked ``unreadable`` (it goes to staff).
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import ClassVar

from bot.policy.quotes import strip_quotes_and_signature

_MSGID = re.compile(r"<[^<>\s]+>")
_CYR_LOWER = re.compile(r"[а-яё]")
_CYR_UPPER = re.compile(r"[А-ЯЁ]")
_UNDECODABLE = (email.errors.InvalidBase64CharactersDefect, email.errors.InvalidBase64LengthDefect)
_UNKNOWN_CHARSETS = {"", "unknown-8bit", "x-unknown", "unknown", "default", "us-ascii"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass
class ParsedMail:
    message_id: str
    from_addr: str
    from_name: str
    reply_to: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    # the whole readable text, and the part written now (quotes and signature removed), both capped
    full_text: str
    text: str
    content_language: str
    attachments: list[Attachment] = field(default_factory=list)
    auth_results: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    unreadable: bool = False
    truncated: bool = False

    @property
    def auth_failed(self) -> bool:
        return any(self.auth_results.get(k) in {"fail", "softfail", "permerror", "temperror"}
                   for k in ("spf", "dkim", "dmarc"))

    @property
    def thread_ids(self) -> list[str]:
        """Ids this mail answers, most specific first."""
        return [*self.in_reply_to, *reversed(self.references)]


# -- charsets --------------------------------------------------------------------------------------

def _guess_cyrillic(data: bytes) -> str:
    """cp1251 or koi8-r for undeclared 8-bit Russian: the right one yields mostly lower-case letters."""
    best, best_score = "cp1251", -1.0
    for codec in ("cp1251", "koi8_r"):
        text = data.decode(codec, errors="replace")
        lower, upper = len(_CYR_LOWER.findall(text)), len(_CYR_UPPER.findall(text))
        score = lower - 2 * upper
        if score > best_score:
            best, best_score = codec, score
    return best


def decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "").strip().strip('"').lower()
    if name not in _UNKNOWN_CHARSETS:
        try:
            return data.decode(name)
        except LookupError:
            pass  # unknown name: guess below
        except UnicodeDecodeError:
            # A declared charset that does not fit (clients lie): fall through to guessing.
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if all(b < 0x80 for b in data):
        return data.decode("ascii")
    return data.decode(_guess_cyrillic(data), errors="replace")


def decode_header_value(value: object) -> str:
    """RFC 2047 words, raw 8-bit headers (decoded by guess), folded lines; never raises."""
    if value is None:
        return ""
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        # compat32 keeps undeclared 8-bit header bytes as surrogates: recover the bytes and guess.
        raw = decode_bytes(raw.encode("ascii", "surrogateescape"), None)
    try:
        parts = decode_header(raw)
    except Exception:
        return _unfold(raw)
    try:
        return _unfold(str(make_header(parts)))
    except Exception:
        pieces = []
        for data, charset in parts:
            pieces.append(decode_bytes(data, charset) if isinstance(data, bytes) else data)
        return _unfold("".join(pieces))


def _unfold(text: str) -> str:
    return re.sub(r"\s*\r?\n\s*", " ", text).strip()


# -- HTML ------------------------------------------------------------------------------------------

class _HtmlText(HTMLParser):
    _BLOCK: ClassVar[frozenset[str]] = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr"})
    _SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = " ".join(v or "" for k, v in attrs if k == "class")
        if tag in self._SKIP:
            self._skip += 1
        # Quoted history in HTML mail: <blockquote>, Gmail's gmail_quote, Yandex/Outlook reply blocks.
        elif tag == "blockquote" or "gmail_quote" in classes or "moz-cite-prefix" in classes:
            self._quote += 1
            self.parts.append("\n> ")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag == "blockquote" and self._quote:
            self._quote -= 1
            self.parts.append("\n")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._quote:
            # keep it marked as quoted so the quote stripper removes it like ">" text
            data = data.replace("\n", "\n> ")
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except Exception:
        text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    text = text.replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# -- structure -------------------------------------------------------------------------------------

def _part_payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("ascii", "surrogateescape")
    return b""


def _filename(part: Message) -> str:
    name = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if isinstance(name, tuple):  # RFC 2231
        try:
            return email.utils.collapse_rfc2231_value(name)
        except Exception:
            return str(name[2])
    return decode_header_value(name) if name else ""


def _walk(message: Message) -> tuple[list[str], list[str], list[Attachment]]:
    plain: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    try:
        parts = list(message.walk())
    except Exception:
        parts = [message]
    for part in parts:
        try:
            if part.is_multipart():
                continue
            ctype = (part.get_content_type() or "text/plain").lower()
            disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
            filename = _filename(part)
            payload = _part_payload(part)
            if any(isinstance(d, _UNDECODABLE) for d in part.defects):
                # Garbage in a transfer encoding decodes to noise; note it, do not read it.
                attachments.append(Attachment(filename or "", ctype, len(payload)))
                continue
            if disposition == "attachment" or (filename and not ctype.startswith("text/")) \
                    or not ctype.startswith("text/"):
                attachments.append(Attachment(filename or "", ctype, len(payload)))
                continue
            text = decode_bytes(payload, part.get_content_charset())
            if ctype == "text/html":
                htmls.append(text)
            else:
                plain.append(text)
        except Exception:
            continue  # one broken part must not hide the others
    return plain, htmls, attachments


def _auth_results(message: Message) -> dict[str, str]:
    """The topmost Authentication-Results (added by our receiving server): spf, dkim, dmarc verdicts."""
    header = _header(message, "Authentication-Results")
    if not header:
        return {}
    results: dict[str, str] = {}
    for method in ("spf", "dkim", "dmarc"):
        match = re.search(rf"\b{method}\s*=\s*([a-z]+)", str(header), re.IGNORECASE)
        if match:
            results[method] = match.group(1).lower()
    return results


def _header(message: Message, name: str) -> str | None:
    """The raw header value (compat32 would wrap undeclared 8-bit text in a lossy Header object)."""
    try:
        for key, value in message.raw_items():
            if key.lower() == name.lower():
                return str(value)
    except Exception:
        return None
    return None


def _ids(value: object) -> list[str]:
    return _MSGID.findall(str(value or ""))


_KEPT_HEADERS = ("Auto-Submitted", "Precedence", "List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond",
                 "X-Auto-Response-Suppress", "Return-Path", "Content-Type", "X-Loop", "X-Mailer", "X-Failed-Recipients")


def parse_mail(raw: bytes, *, max_text_chars: int = 20_000, truncated: bool = False) -> ParsedMail:
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:
        message = Message()
    headers = {}
    for name in _KEPT_HEADERS:
        value = _header(message, name)
        if value is not None:
            headers[name.lower()] = decode_header_value(value)
    from_name, from_addr = parseaddr(decode_header_value(_header(message, "From")))
    _, reply_to = parseaddr(decode_header_value(_header(message, "Reply-To")))
    ids = _ids(_header(message, "Message-ID"))
    message_id = ids[0] if ids else f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    plain, htmls, attachments = _walk(message)
    if plain and any(p.strip() for p in plain):
        full = "\n\n".join(p.strip() for p in plain if p.strip())
    elif htmls:
        full = "\n\n".join(html_to_text(h) for h in htmls)
    else:
        full = ""
    full = full.replace("\r\n", "\n").replace("\r", "\n")[:max_text_chars * 2]
    text = strip_quotes_and_signature(full)[:max_text_chars].strip()
    try:
        content_type = message.get_content_type()
    except Exception:
        content_type = "text/plain"
    return ParsedMail(
        message_id=message_id,
        from_addr=from_addr.strip().lower(),
        from_name=from_name,
        reply_to=reply_to.strip().lower(),
        subject=decode_header_value(_header(message, "Subject")),
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        full_text=full[:max_text_chars],
        text=text,
        content_language=str(_header(message, "Content-Language") or "").strip().lower()[:2],
        attachments=attachments,
        auth_results=_auth_results(message),
        headers=headers,
        content_type=content_type,
        unreadable=not text and not full.strip(),
        truncated=truncated,
    )


def header_message_id(raw: bytes) -> str:
    """The Message-ID of a raw mail (headers only), or a digest of the bytes when it has none."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        message = email.message_from_bytes(head, policy=email.policy.compat32)
        ids = _ids(_header(message, "Message-ID"))
    except Exception:
        ids = []
    return ids[0] if ids else f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
