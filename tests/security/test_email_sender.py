"""Who sent this mail: the address comes from the raw From header, never from decoded text; a From that
names no single address is never answered and goes to staff. (Issue #10, class 1.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.live import eml, live_bot
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

VICTIM = "victim@example.com"
REQUEST = "Здравствуйте! Прошу удалить все мои персональные данные.\n\nИван"


async def test_a_forged_sender_address_never_becomes_the_requester(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        # The victim's address hidden in an RFC 2047 display name: the real address is the attacker's.
        disguised, raw = eml(sender="=?utf-8?q?victim=40example=2Ecom?= <attacker@evil.example>",
                             subject="Delete my data", body=REQUEST)
        await bot.mail(raw)
        assert await bot.processed(disguised) == "request_created"
        confirmation = await bot.wait_mail_to("attacker@evil.example")
        assert confirmation[0].rcpt_tos[0] == "attacker@evil.example"

        # Froms that name no single address we could answer: never answered, handed to staff.
        unanswerable = {
            "encoded address, no real one": "=?utf-8?q?victim=40example=2Ecom?=",
            "encoded CR LF and a Bcc in the name": "=?utf-8?q?Victim=0D=0ABcc=3A_x=40y=2Ecom?= <attacker@evil.example>",
            "two addresses": f"{VICTIM}, attacker@evil.example",
            "an address where the name goes": f"{VICTIM} <attacker@evil.example>",
            "quoted local part": '"victim@example.com"@evil.example',
            "address literal": "Ivan <ivan@[127.0.0.1]>",
            "empty": "",
            "a group with nobody": "undisclosed-recipients:;",
        }
        ids = {}
        for what, sender in unanswerable.items():
            mid, raw = eml(sender=sender, subject="Delete my data", body=REQUEST)
            ids[what] = mid
            await bot.mail(raw)
        mid, raw = eml(sender="ignored", subject="Delete my data", body=REQUEST)
        no_from = raw.replace(b"From: ignored\r\n", b"")
        ids["no From header at all"] = mid
        await bot.mail(no_from)
        for what, mid in ids.items():
            outcome = await bot.processed(mid)
            assert outcome.startswith("bad_sender:"), (what, outcome)
        # Staff see each of them, with what the From said (posted by the outbox a moment later).
        def handoff_posts() -> list[str]:
            return [c.text for c in bot.staff_posts() if "single address" in c.text or "одного адреса" in c.text]

        await bot.api.wait_for(lambda _: len(handoff_posts()) >= len(ids))
        assert len(handoff_posts()) == len(ids), handoff_posts()
        assert any("victim=40example" in t or "victim@example.com" in t for t in handoff_posts())

        # Nothing went anywhere but to the attacker's own, real address.
        recipients = {r.lower() for m in bot.to_people() for r in m.rcpt_tos} - {"support@jetbit.ru"}
        assert recipients == {"attacker@evil.example"}, recipients
        assert not bot.mail_to(VICTIM) and not bot.mail_to("x@y.com")
        requesters = {row[0] for row in bot.query("SELECT address FROM request_identities WHERE kind = 'email'")}
        assert requesters == {"attacker@evil.example"}
