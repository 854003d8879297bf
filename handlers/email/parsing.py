"""Reading a raw mail into what the channel needs: addresses, threading ids, text, attachments, auth results.

Never raises on bad input: unknown or lying charsets are guessed, broken base64/QP is decoded as far as
it goes, a mail with no readable text is marked ``unreadable`` (it goes to staff).
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import email.utils
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from html.parser import HTMLParser
from typing import ClassVar

from bot.policy.quotes import strip_quotes_and_signature

# A Message-ID we will write back in In-Reply-To/References: bounded, so a hostile one cannot push a
# header line past RFC 5322's 998 octets (longer ids are not used for threading).
MAX_MESSAGE_ID = 250
_MSGID = re.compile(rf"<[^<>\s]{{1,{MAX_MESSAGE_ID - 2}}}>")
# One plain address we are willing to write to: a dot-atom local part and a host name (no quoted local
# parts, no address literals, no comments), as mail from people has.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$")
MAX_ADDRESS = 254
# What stands for the Message-ID of mail without one: a digest of its bytes.
NO_MESSAGE_ID_PREFIX = "<sha256-"
# Nesting and part counts a person's mail never comes near; past them the rest is not read.
MAX_MIME_DEPTH = 30
MAX_MIME_PARTS = 500
_CYR_LOWER = re.compile(r"[а-яё]")
_CYR_UPPER = re.compile(r"[А-ЯЁ]")
_UNDECODABLE = (email.errors.InvalidBase64CharactersDefect, email.errors.InvalidBase64LengthDefect)
_UNKNOWN_CHARSETS = {"", "unknown-8bit", "x-unknown", "unknown", "default", "us-ascii"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Mailbox:
    """The one address of a From or Reply-To header, or why there is none we can trust."""

    address: str  # lower-cased; "" when ``problem`` is set
    name: str  # the display name, decoded (for people to read, never for routing)
    problem: str | None = None  # "missing", "several", "unparseable"


@dataclass(frozen=True)
class AuthVerdict:
    """What the receiving server's Authentication-Results say about the From domain."""

    results: dict[str, str] = field(default_factory=dict)  # method -> result, for staff to read
    untrusted: bool = False  # dmarc=fail, or no aligned pass and SPF or DKIM failing for the From domain
    present: bool = False  # a header from the receiving server was found


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
    # Why the From header names no single address we can answer (None: it does); such mail goes to staff.
    sender_problem: str | None = None
    # The raw From header, control characters removed and cut short: staff see what it was.
    raw_from: str = ""
    # The MIME structure could not be read at all (headers only): staff read it.
    broken: bool = False
    # Every Authentication-Results header, topmost first, as (authserv-id, header) pairs.
    auth_headers: list[tuple[str, str]] = field(default_factory=list)

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


def _leaf_parts(message: Message) -> Iterator[Message]:
    """Non-multipart parts in order, without recursion and within MAX_MIME_DEPTH / MAX_MIME_PARTS."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack and seen < MAX_MIME_PARTS:
        part, depth = stack.pop()
        seen += 1
        try:
            children = part.get_payload() if part.is_multipart() else None
        except Exception:
            continue
        if children is None:
            yield part
        elif depth < MAX_MIME_DEPTH and isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))


def _walk(message: Message) -> tuple[list[str], list[str], list[Attachment]]:
    plain: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    for part in _leaf_parts(message):
        try:
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


_RESULT = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"\b(smtp\.mailfrom|smtp\.helo|header\.d|header\.i|header\.from)\s*=\s*([^\s;]+)",
                       re.IGNORECASE)
_FAILING = frozenset({"fail", "softfail", "permerror"})


_COMMENT = re.compile(r"\([^()]*\)")


def _without_comments(text: str) -> str:
    """RFC 5322 comments removed (nested ones too): "mx.jetbit.ru (Postfix) 1" -> "mx.jetbit.ru  1"."""
    while True:
        stripped = _COMMENT.sub(" ", text)
        if stripped == text:
            return text
        text = stripped


def _auth_headers(message: Message) -> list[tuple[str, str]]:
    """(authserv-id, header without comments) of every Authentication-Results, topmost first (the
    receiving server adds its own on top). RFC 8601: the id may be followed by a version number."""
    found = []
    try:
        for key, value in message.raw_items():
            if key.lower() == "authentication-results":
                text = _without_comments(_unfold(str(value)))
                head = text.split(";", 1)[0].split()
                found.append((head[0].lower() if head else "", text))
    except Exception:
        return []
    return found


def _domain_of(value: str) -> str:
    return value.rpartition("@")[2].strip("<>\"' ").lower()


def _aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a sub-domain of the other."""
    return bool(domain) and (domain == from_domain or domain.endswith("." + from_domain)
                             or from_domain.endswith("." + domain))


def auth_verdict(headers: list[tuple[str, str]], from_addr: str, server_id: str = "") -> AuthVerdict:
    """The verdict of the receiving server's Authentication-Results on the From domain.

    Only the topmost header counts, or with ``server_id`` the topmost one that server wrote: headers below
    it came with the mail and anyone can write them. Never verifying: dmarc=fail, or SPF or DKIM failing for
    the From domain with neither passing for it.
    """
    wanted = server_id.strip().lower()
    header = next((text for sid, text in headers if not wanted or sid == wanted), None)
    if header is None:
        return AuthVerdict()
    from_domain = _domain_of(from_addr)
    results: dict[str, str] = {}
    aligned_pass = failing = False
    for resinfo in header.split(";")[1:]:
        match = _RESULT.match(resinfo)
        if match is None:
            continue
        method, result, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if method not in ("spf", "dkim", "dmarc"):
            continue
        results.setdefault(method, result)
        if method == "dmarc":
            failing |= result == "fail"
            continue
        domains = [_domain_of(v) for k, v in _PROPERTY.findall(rest)
                   if k.lower() in (("smtp.mailfrom", "smtp.helo") if method == "spf" else ("header.d", "header.i"))]
        # A verdict about another domain says nothing about the From address.
        about_from = not domains or any(_aligned(d, from_domain) for d in domains)
        if about_from and result == "pass":
            aligned_pass = True
        elif about_from and result in _FAILING:
            failing = True
    untrusted = results.get("dmarc") == "fail" or (failing and not aligned_pass)
    return AuthVerdict(results=results, untrusted=untrusted, present=True)


def _auth_results(headers: list[tuple[str, str]]) -> dict[str, str]:
    """The topmost header's spf, dkim and dmarc verdicts (for staff notes and flags)."""
    if not headers:
        return {}
    results: dict[str, str] = {}
    for method in ("spf", "dkim", "dmarc"):
        match = re.search(rf"\b{method}\s*=\s*([a-z]+)", headers[0][1], re.IGNORECASE)
        if match:
            results[method] = match.group(1).lower()
    return results


def _printable(text: str, limit: int) -> str:
    """Control and format characters (CR, LF, bidi overrides...) removed, cut to ``limit``."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(cleaned.split())[:limit]


# The shape of most From headers: "Plain Words <address>", "<address>" or "address", ASCII only. Read
# directly (the header parser below costs ~0.15 ms); tests/email/test_parsing.py checks that the parser
# reads each such header the same way.
_PLAIN_ADDRESS = _ADDRESS.pattern[1:-1]
_SIMPLE_MAILBOX = re.compile(
    rf"[ \t]*(?:(?:([A-Za-z0-9]+(?:[ \t]+[A-Za-z0-9]+)*)[ \t]*)?<({_PLAIN_ADDRESS})>|({_PLAIN_ADDRESS}))[ \t]*")


def parse_mailbox(raw: str | None) -> Mailbox:
    """The single address of a From/Reply-To header, parsed from the raw header (RFC 2047 words are
    decoded only in the display name, so an encoded "victim@example.com" stays a name)."""
    if raw is None or not raw.strip():
        return Mailbox("", "", "missing")
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
    if "\r" in unfolded or "\n" in unfolded or "\x00" in unfolded:
        return Mailbox("", "", "unparseable")
    simple = _SIMPLE_MAILBOX.fullmatch(unfolded) if len(unfolded) <= 2 * MAX_ADDRESS else None
    if simple is not None and len(address := simple.group(2) or simple.group(3)) <= MAX_ADDRESS:
        return Mailbox(address.lower(), _printable(simple.group(1) or "", 200))
    return _parsed_mailbox(unfolded)


def _parsed_mailbox(unfolded: str) -> Mailbox:
    """``parse_mailbox`` by the email package's header parser, for any header."""
    try:
        header = email.policy.default.header_factory("from", unfolded)
        addresses = list(header.addresses)
        defects = [d for d in header.defects if not isinstance(d, email.errors.UndecodableBytesDefect)]
    except Exception:  # a CR/LF hidden in an encoded display name, and anything else that does not parse
        return Mailbox("", "", "unparseable")
    if not addresses:
        return Mailbox("", "", "missing")
    if len(addresses) > 1:
        return Mailbox("", "", "several")
    found = addresses[0]
    address = str(found.addr_spec)
    if defects or len(address) > MAX_ADDRESS or not _ADDRESS.match(address):
        return Mailbox("", "", "unparseable")
    name = str(found.display_name or "")
    if any("\udc80" <= ch <= "\udcff" for ch in name):
        name = decode_bytes(name.encode("utf-8", "surrogateescape"), None)
    return Mailbox(address.lower(), _printable(name, 200))


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
    """Message-IDs we can store and write back: ASCII only (an 8-bit id arrives as undecodable bytes;
    such a mail is threaded and deduplicated as if it had none)."""
    return [mid for mid in _MSGID.findall(str(value or "")) if mid.isascii()]


_KEPT_HEADERS = ("Auto-Submitted", "Precedence", "List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond",
                 "X-Auto-Response-Suppress", "Return-Path", "Content-Type", "X-Loop", "X-Mailer", "X-Failed-Recipients")


_FROM_LINE = re.compile(rb"^from[ \t]*:", re.IGNORECASE | re.MULTILINE)


def _from_headers(raw: bytes) -> int:
    """From headers in the header block, the obsolete "From :" spelling included (the parser drops that
    one silently, so the receiving server's DMARC check and we could be judging different senders)."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return len(_FROM_LINE.findall(head))


def _message(raw: bytes) -> tuple[Message, bool]:
    """The parsed mail, or its headers alone when the structure cannot be parsed (True: broken)."""
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32), False
    except Exception:  # RecursionError on absurd nesting, and whatever else a hostile body can cause
        pass
    try:
        return BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw), True
    except Exception:
        return Message(), True


def parse_mail(raw: bytes, *, max_text_chars: int = 20_000, truncated: bool = False) -> ParsedMail:
    message, broken = _message(raw)
    headers = {}
    for name in _KEPT_HEADERS:
        value = _header(message, name)
        if value is not None:
            headers[name.lower()] = decode_header_value(value)
    raw_from = _header(message, "From")
    sender = parse_mailbox(raw_from) if _from_headers(raw) <= 1 else Mailbox("", "", "several")
    reply_to = parse_mailbox(_header(message, "Reply-To"))
    ids = _ids(_header(message, "Message-ID"))
    message_id = ids[0] if ids else f"{NO_MESSAGE_ID_PREFIX}{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    plain, htmls, attachments = ([], [], []) if broken else _walk(message)
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
    auth_headers = _auth_headers(message)
    return ParsedMail(
        message_id=message_id,
        from_addr=sender.address,
        from_name=sender.name,
        reply_to=reply_to.address,  # only a note for staff: we answer the From address, never Reply-To
        subject=decode_header_value(_header(message, "Subject")),
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        full_text=full[:max_text_chars],
        text=text,
        content_language=str(_header(message, "Content-Language") or "").strip().lower()[:2],
        attachments=attachments,
        auth_results=_auth_results(auth_headers),
        headers=headers,
        content_type=content_type,
        unreadable=not text and not full.strip(),
        truncated=truncated,
        sender_problem=sender.problem,
        raw_from=_printable(decode_header_value(raw_from) if raw_from else "", 300),
        broken=broken,
        auth_headers=auth_headers,
    )


def header_message_id(raw: bytes) -> str:
    """The Message-ID of a raw mail (headers only), or a digest of the bytes when it has none."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        message = email.message_from_bytes(head, policy=email.policy.compat32)
        ids = _ids(_header(message, "Message-ID"))
    except Exception:
        ids = []
    return ids[0] if ids else f"{NO_MESSAGE_ID_PREFIX}{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
