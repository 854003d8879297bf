"""One intake for every channel: what a person's message means and what happens next, decided once.

A channel turns its event into an ``Inbound`` (the text, a subject, what it knows of the language, what it
could prove about the sender) and renders the ``Outcome``: an answer, a greeting, a request to start, a
person to talk to. Which intent leads where, when a reply is in which language, what counts as someone
else's data and which address a request names are decided here, never in a channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.learning import AskedQuestion, asked_question
from bot.policy.language import has_words
from bot.policy.letters import Understands, subject_words, understand_letter
from bot.policy.models import Intent, Understanding
from bot.requests.models import RequestType

EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Someone else's data: "my colleague", "my wife's account", "за моего коллегу", "данные сотрудника".
_THIRD_PARTY = re.compile(
    r"\b(my (colleague|wife|husband|son|daughter|mother|father|friend|employee|client|boss)|"
    r"(his|her|their) (data|account|personal data|email|phone)|on behalf of|"
    r"коллег\w*|жен[ыа]|мужа|сына|дочер\w*|мам[ыа]|пап[ыа]|друг[ау]|сотрудник\w*|клиент\w*|"
    r"(его|её|ее|их) (данные|персональные данные|почт\w*|телефон\w*|аккаунт\w*)|от имени)\b",
    re.IGNORECASE,
)
REQUEST_TYPES = {Intent.DELETION: RequestType.DELETION, Intent.CORRECTION: RequestType.CORRECTION,
                 Intent.ACCESS: RequestType.ACCESS}


class Next(StrEnum):
    """What happens next with a message outside any flow."""

    ANSWER = "answer"  # quote the section that answers it
    NOT_IN_POLICY = "not_in_policy"  # the policy does not say: tell them so, offer a person
    UNSURE = "unsure"  # no confident answer: offer a person (staff are asked to teach the engine)
    GREETING = "greeting"
    REQUEST = "request"  # a deletion, correction or access request about the sender's data
    HUMAN = "human"  # they ask for a person
    OUT_OF_SCOPE = "out_of_scope"  # not about personal data: offer a person


@dataclass(frozen=True)
class Inbound:
    """A message as every channel can describe it. Nothing here routes anything: replies go where the
    channel proved the message came from."""

    text: str
    subject: str = ""
    # The language the channel would use without the text (the chat's chosen language, a Content-Language):
    # a reply follows the text when it has words, this otherwise ("👍", "12345").
    lang_hint: str | None = None
    # The language the message declares about itself (a mail's Content-Language): the engine reads it so.
    declared_lang: str | None = None
    # What the channel says the person is called: masked in anything kept to learn from.
    names: tuple[str, ...] = ()
    # The address the channel proved the message came from (an email From), if any.
    sender_address: str | None = None
    # Our own addresses: never someone else's, never a requester's.
    own_addresses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    next: Next
    lang: str
    understanding: Understanding
    request_type: RequestType | None = None
    # The message mentions another person's data (a colleague, "his account", an address not the sender's):
    # staff are warned, the request goes on as the sender's.
    third_party: bool = False
    # The one address the message gives for its request ("удалите мои данные, почта ivan@..."): where a
    # code may be sent to prove it, never treated as proven.
    contact_email: str | None = None
    # A question the engine could not place: staff are asked which section answers it (bot/learning.py).
    learn: AskedQuestion | None = None


def reply_language(understanding: Understanding, text: str, hint: str | None) -> str:
    """A reply is in the language of the message it answers; a message without words keeps the hint's."""
    if hint in ("ru", "en") and not has_words(text):
        return hint
    return understanding.lang


def addresses_in(text: str, own: Iterable[str] = ()) -> list[str]:
    """Distinct email addresses a text names, in order, lowercased, without our own."""
    mine = {a.lower() for a in own}
    seen: list[str] = []
    for found in EMAIL_ADDRESS.findall(text):
        address = found.lower().rstrip(".")
        if address not in mine and address not in seen:
            seen.append(address)
    return seen


def mentions_third_party(text: str, addresses: list[str], sender_address: str | None) -> bool:
    others = [a for a in addresses if a != (sender_address or "").lower()]
    # Without a proven sender address, one address is the person's own contact; a second is someone else's.
    return bool(_THIRD_PARTY.search(text)) or len(others) > (0 if sender_address else 1)


def read(engine: Understands, inbound: Inbound) -> Outcome:
    """What a message outside any flow means and what happens next."""
    declared = inbound.declared_lang if inbound.declared_lang in ("ru", "en") else None
    understanding = understand_letter(engine, inbound.text, inbound.subject, lang=declared)
    lang = reply_language(understanding, f"{inbound.subject}\n{inbound.text}", inbound.lang_hint)
    intent = understanding.intent
    if intent in REQUEST_TYPES:
        addresses = addresses_in(inbound.text, inbound.own_addresses)
        # Only where the channel proved no address: in a mail, the From is the requester's address.
        contact = addresses[0] if not inbound.sender_address and len(addresses) == 1 else None
        return Outcome(Next.REQUEST, lang, understanding, request_type=REQUEST_TYPES[intent],
                       third_party=mentions_third_party(inbound.text, addresses, inbound.sender_address),
                       contact_email=contact)
    if intent is Intent.GREETING:
        return Outcome(Next.GREETING, lang, understanding)
    if intent is Intent.HUMAN:
        return Outcome(Next.HUMAN, lang, understanding)
    if intent is Intent.QUESTION and understanding.answer is not None and not understanding.abstained:
        return Outcome(Next.ANSWER, lang, understanding)
    learn = None
    if understanding.abstained and intent is Intent.QUESTION:
        learn = asked_question(understanding, inbound.text.strip() or subject_words(inbound.subject), inbound.names)
    if understanding.unanswered:
        return Outcome(Next.NOT_IN_POLICY, lang, understanding, learn=learn)
    if intent is Intent.OUT_OF_SCOPE:
        return Outcome(Next.OUT_OF_SCOPE, lang, understanding, learn=learn)
    return Outcome(Next.UNSURE, lang, understanding, learn=learn)


def interrupts_step(engine: Understands, text: str, lang_hint: str | None, *, expects_free_text: bool) -> Outcome | None:
    """In a flow that asked for a value: a message that is plainly a question the policy answers, or a
    greeting, is answered and the step asked again instead of being taken as the value.

    Where the step takes free text (details, a field's value), only a question that says it is one (a
    question mark) or a short greeting interrupts: "why do you still have my old phone" may be the details.
    Where it takes an address or a code, any answerable question of three words or more, or a greeting, does."""
    if not has_words(text) or EMAIL_ADDRESS.search(text):
        return None
    outcome = read(engine, Inbound(text=text, lang_hint=lang_hint))
    if outcome.next is Next.GREETING:
        return outcome if not expects_free_text or len(text.split()) <= 4 else None
    if outcome.next is Next.ANSWER:
        asks = text.rstrip().endswith("?")
        # A word or two at an address or code step is a try at the value ("телефон", "my email"), not a question.
        return outcome if asks or (not expects_free_text and len(text.split()) >= 3) else None
    return None
