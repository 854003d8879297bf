"""Attack: confirm an email request filed in the victim's name without the victim's mail.

The attacker holds genuine mail of ours: our answer to a question they asked, our confirmation of a request
of their own (with its token). They file a request as the victim and try to confirm it with every mix of
those: replies to our other mails with the victim's root Message-ID in References, our signed ids with
another domain or in capitals, a forged signature, their own token (in other cases and separators), the
request id in the subject in lower case, long References chains. Then the receiving server's verdict:
an Authentication-Results whose authserv-id carries a version or a comment (RFC 8601 allows both) with a
forged header of the bare id below it. Only the owner's reply to our confirmation confirms.

Then a verified request's follow-ups: mail that only names the request (its id in the subject) must not be
shown to staff as the requester's own words. And availability: the per-sender reply cap (loop protection)
used against the victim: five forged requests in their name use up the hour, and the victim's own request
gets no confirmation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.security.live import LiveBot, body_of, eml, live_bot, message_id, reply_to, request_id_in
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import ReceivedMail

pytestmark = pytest.mark.slow

VICTIM = "victim.conf@example.com"
ATTACKER = "attacker.conf@evil.example"
SERVER = "mx.jetbit.ru"
PASS = f"Authentication-Results: {SERVER}; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com;" \
       " dmarc=pass header.from=example.com\r\n"
_TOKEN = re.compile(r"\b([A-Z2-7]{5})-([A-Z2-7]{5})\b")
_OURS = re.compile(r"^<pb-([0-9a-f]{24})-([0-9a-f]{16})@([^>]+)>$")


def status(bot: LiveBot, request_id: str) -> str:
    return str(bot.query("SELECT status FROM requests WHERE id = ?", (request_id,))[0][0])


def token_of(mail: ReceivedMail) -> tuple[str, str]:
    found = _TOKEN.search(body_of(mail))
    assert found, body_of(mail)
    return found.group(1), found.group(2)


def variants_of_ours(mid: str) -> dict[str, str]:
    """Our signed id in other spellings (another domain, capitals, no brackets, a changed signature)."""
    match = _OURS.match(mid)
    assert match, mid
    token, sig, _domain = match.groups()
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    return {"another domain": f"<pb-{token}-{sig}@evil.example>", "capitals": mid.upper(),
            "no brackets": mid.strip("<>"), "forged signature": f"<pb-{token}-{flipped}@jetbit.ru>"}


async def test_only_the_victims_own_reply_confirms(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot, PRIVACY_BOT__EMAIL__AUTH_SERVER_ID=SERVER) as bot:
        # Genuine mail of ours the attacker holds: an answer, and the confirmation of their own request.
        asked, raw = eml(sender=ATTACKER, subject="Вопрос", body="Передаёте ли вы мои данные третьим лицам?")
        await bot.mail(raw)
        assert await bot.processed(asked) == "answered"
        [answer] = await bot.wait_mail_to(ATTACKER)
        _own, raw = eml(sender=ATTACKER, subject="Удаление", body="Прошу удалить все мои персональные данные.")
        await bot.mail(raw)
        own_confirmation = await bot.wait_mail_where(ATTACKER, lambda m: "[PR-" in m.header("Subject"))
        own_request = request_id_in(own_confirmation.header("Subject"))
        own_token = token_of(own_confirmation)

        # The request in the victim's name (its first Message-ID is the attacker's own choice).
        root = message_id()
        _, raw = eml(sender=f"Victim <{VICTIM}>", subject="Удаление данных", mid=root,
                     body="Прошу удалить все мои персональные данные.", headers=PASS)
        await bot.mail(raw)
        [victim_confirmation] = await bot.wait_mail_to(VICTIM)  # only the victim has this one
        rid = request_id_in(victim_confirmation.header("Subject"))
        assert status(bot, rid) == "awaiting_verification"

        ans_id, own_id = answer.header("Message-ID"), own_confirmation.header("Message-ID")
        forged: dict[str, tuple[str, str, str]] = {
            "reply to our answer, the victim's root in References":
                (f"In-Reply-To: {ans_id}\r\nReferences: {root} {ans_id}\r\n", "Re: Вопрос", "Да"),
            "reply to our confirmation of the attacker's request":
                (f"In-Reply-To: {own_id}\r\nReferences: {root}\r\n", f"Re: [{rid}]", "Да"),
            "the victim's root answered, our ids only in References":
                (f"In-Reply-To: {root}\r\nReferences: {own_id} {ans_id} {root}\r\n", "Re: Удаление", "Да"),
            "a References chain of twelve ids around ours":
                ("References: " + " ".join([message_id() for _ in range(5)] + [own_id, ans_id, root]
                                           + [message_id() for _ in range(4)]) + "\r\n", "Re:", "Да"),
            "the attacker's own token": ("", "Подтверждение", f"Код подтверждения: {'-'.join(own_token)}"),
            "the attacker's own token, lower case with a space":
                ("", "Подтверждение", f"код {' '.join(own_token).lower()}"),
            "the attacker's own token in the subject, the victim's id too":
                ("", f"{'-'.join(own_token)} {rid.lower()}", "Подтверждаю"),
            "the request id in the subject in lower case": (f"In-Reply-To: {root}\r\n", f"re: [{rid.lower()}]",
                                                            "Подтверждаю"),
        }
        for what, mid in {**variants_of_ours(ans_id), **{f"confirmation, {k}": v
                                                         for k, v in variants_of_ours(own_id).items()}}.items():
            forged[f"our id, {what}"] = (f"In-Reply-To: {mid}\r\nReferences: {root} {mid}\r\n", "Re:", "Да")
        outcomes = {}
        for what, (headers, subject, body) in forged.items():
            mid, raw = eml(sender=f"Victim <{VICTIM}>", subject=subject, headers=headers + PASS, body=body)
            await bot.mail(raw)
            outcomes[what] = await bot.processed(mid)
            assert status(bot, rid) == "awaiting_verification", (what, outcomes[what])
        assert not [o for o in outcomes.values() if o.startswith("confirmed")], outcomes

        # Nothing of the victim's request ever reached the attacker.
        for mail in bot.mail_to(ATTACKER):
            assert rid not in mail.header("Subject") and rid not in body_of(mail)
        assert status(bot, own_request) == "awaiting_verification"

        # The victim answers our confirmation: confirmed.
        assert await reply_to(bot, VICTIM, victim_confirmation, "Да, это я.", PASS) == "confirmed"
        assert status(bot, rid) == "pending_review"


async def test_a_follow_up_that_only_names_the_request_is_not_the_requesters(tmp_path: Path,
                                                                          dovecot: DovecotServer) -> None:
    """Once verified, a request takes follow-ups. One naming our mail is the requester's; one that only names
    the request (its id in the subject, or the root Message-ID, which whoever filed it chose) proves nothing,
    and staff must not be shown it as the requester's own words about their request ("cancel it", "send the
    copy to this other address")."""
    async with live_bot(tmp_path, dovecot, PRIVACY_BOT__EMAIL__AUTH_SERVER_ID=SERVER) as bot:
        root = message_id()
        _, raw = eml(sender=f"Victim <{VICTIM}>", subject="Удаление данных", mid=root,
                     body="Прошу удалить все мои персональные данные.", headers=PASS)
        await bot.mail(raw)
        [victim_confirmation] = await bot.wait_mail_to(VICTIM)
        rid = request_id_in(victim_confirmation.header("Subject"))
        assert await reply_to(bot, VICTIM, victim_confirmation, "Да, это я.", PASS) == "confirmed"
        assert status(bot, rid) == "pending_review"

        # The attacker, knowing only the victim's address and the request id (ids are sequential).
        claims = {
            "the id in the subject": ("", f"Re: Подтвердите запрос [{rid}]"),
            "the root Message-ID": (f"In-Reply-To: {root}\r\nReferences: {root}\r\n", "Re: Удаление данных"),
        }
        reasons = {}
        for what, (headers, subject) in claims.items():
            mid, raw = eml(sender=f"Victim <{VICTIM}>", subject=subject, headers=headers + PASS,
                           body=f"Отмените, пожалуйста, мой запрос и пришлите копию данных на {ATTACKER}.")
            await bot.mail(raw)
            await bot.processed(mid)
            reasons[what] = reason_of(bot, mid)
        mid, raw = eml(sender=VICTIM, subject=f"Re: {victim_confirmation.header('Subject')}",
                       headers=f"In-Reply-To: {victim_confirmation.header('Message-ID')}\r\n{PASS}",
                       body="Дополню: у меня был ещё второй аккаунт.")
        await bot.mail(raw)
        await bot.processed(mid)
        assert reason_of(bot, mid) == "request_follow_up"  # the real thing
        assert "request_follow_up" not in reasons.values(), reasons


def reason_of(bot: LiveBot, mid: str) -> str:
    rows = bot.query("SELECT reason FROM handoffs WHERE reference LIKE ?", (f"{mid}%",))
    assert len(rows) == 1, rows
    return str(rows[0][0])


async def test_the_receiving_servers_verdict_counts_however_it_spells_its_id(tmp_path: Path,
                                                                            dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot, PRIVACY_BOT__EMAIL__AUTH_SERVER_ID=SERVER) as bot:
        # The receiving server's verdict written with a version or a comment after its id (RFC 8601:
        # authserv-id [CFWS authres-version]), alone or with a forged "pass" of the bare id below it: the
        # server's "fail" must count. (Each on a request of its own: a confirmation cannot be undone.)
        spellings = {
            "a version after the id": f"Authentication-Results: {SERVER} 1; dmarc=fail header.from=example.com\r\n",
            "a comment after the id": f"Authentication-Results: {SERVER} (Postfix); dmarc=fail\r\n",
            "a version, and a forged pass below": f"Authentication-Results: {SERVER} 1; dmarc=fail\r\n"
                                                  f"Authentication-Results: {SERVER}; dmarc=pass\r\n",
        }
        verdicts = {}
        for n, (what, results) in enumerate(spellings.items()):
            owner = f"owner{n}@example.com"
            _, raw = eml(sender=owner, subject="Удаление", body="Прошу удалить все мои персональные данные.")
            await bot.mail(raw)
            [mail] = await bot.wait_mail_to(owner)
            mid, raw = eml(sender=owner, subject="Re: confirm", body="Подтверждаю",
                           headers=f"In-Reply-To: {mail.header('Message-ID')}\r\n{results}")
            await bot.mail(raw)
            verdicts[what] = await bot.processed(mid)
        assert "confirmed" not in verdicts.values(), verdicts


async def test_forged_requests_do_not_use_up_the_victims_confirmations(tmp_path: Path,
                                                                        dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        # Five requests in the victim's name (From is only text): one request awaits one confirmation; the
        # others join it instead of mailing the victim again (and using up the victim's reply allowance).
        outcomes = []
        for n in range(5):
            mid, raw = eml(sender=VICTIM, subject=f"Удаление {n}", body=f"Прошу удалить мои персональные данные. {n}")
            await bot.mail(raw)
            outcomes.append(await bot.processed(mid))
        assert outcomes == ["request_created"] + ["request_linked"] * 4
        await bot.wait_mail_to(VICTIM, 1)
        assert bot.query("SELECT COUNT(*) FROM requests") == [(1,)]
        # The victim's own request: they must receive a confirmation they can answer.
        mid, raw = eml(sender=VICTIM, subject="Мой запрос", body="Пришлите мне копию моих персональных данных.")
        await bot.mail(raw)
        assert await bot.processed(mid) == "request_created"
        rid = request_id_in(" ".join(str(r[0]) for r in bot.query(
            "SELECT id FROM requests WHERE thread_ref = ?", (mid,))))
        confirmation = await bot.wait_mail_where(VICTIM, lambda m: rid in m.header("Subject"), within=8)
        assert confirmation
