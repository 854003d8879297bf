"""Understanding the corpus: charsets, RFC 2047, transfer encodings, HTML, attachments, broken MIME,
quotes and signatures of common clients, automatic mail. Pure parsing, no servers."""

from __future__ import annotations

import pytest

from bot.policy.quotes import strip_quotes_and_signature
from handlers.email.loop_guard import automatic_reason
from handlers.email.parsing import decode_bytes, html_to_text, parse_mail
from tests.email.conftest import EML_DIR, eml

OWN = {"support@jetbit.ru"}

# file -> (from, subject, words the understood text must contain, words it must not contain)
READABLE = {
    "01_question_ru_gmail_qp.eml": ("anna.smirnova@gmail.com", "Вопрос про персональные данные", ["формы на сайте"], []),
    "02_question_en_cookies.eml": ("john.miller@outlook.com", "Question about cookies", ["cookies"], ["Thanks"]),
    "03_question_ru_cp1251.eml": ("p.ivanov@company.ru", "Передача данных третьим лицам", ["третьим лицам"],
                                  ["С уважением", "ООО"]),
    "04_question_ru_koi8r.eml": ("sergey@koi8.example.ru", "Защита данных", ["от утечек и взлома"], ["Сергей"]),
    "05_question_ru_iso8859_5.eml": ("olga@iso.example.ru", "Изменения политики", ["актуальную версию"], []),
    "06_question_ru_unknown8bit.eml": ("marina@old.example.ru", "Вопрос о данных", ["форму обратной связи"], []),
    "07_question_en_rfc2047_base64.eml": ("emilie@example.fr", "Who can see my data? ✓", ["police or courts"], []),
    "08_question_ru_rfc2047_q.eml": ("dmitry@example.ru", "Курьеры и доставка", ["курьерам"], []),
    "09_alternative_ru_yandex.eml": ("elena@yandex.ru", "Автоматический сбор данных", ["IP-адрес"], ["HTML", "Елена"]),
    "10_html_only_en.eml": ("mark.stone@hotmail.com", "Policy updates", ["privacy policy changes"], ["<p>", "margin", "Mark"]),
    "11_html_only_ru_gmail_quote.eml": ("igor.k@gmail.com", "Re: Портфолио", ["портфолио"], ["ЦИТАТА", "JetBit Support"]),
    "12_attachment_ru.eml": ("victor@mail.ru", "Вопрос и документ", ["передать мои персональные данные"], ["PDF"]),
    "13_broken_mime.eml": ("broken@example.com", "help", ["sell my data"], []),
    "15_reply_gmail_en.eml": ("kate.brown@gmail.com", "Re: Your message to JetBit", ["third-party services"],
                              ["QUOTED", "wrote", "Delete"]),
    "16_reply_gmail_ru.eml": ("ivan.petrov@gmail.com", "Re: Ваше обращение в JetBit", ["от утечек"], ["СТАРАЯ", "удалите"]),
    "17_reply_outlook_en.eml": ("paul.green@corp.example.com", "RE: Your message to JetBit", ["portfolio"],
                                ["OLD TEXT", "Original Message", "Regards", "Head of IT"]),
    "18_reply_outlook_ru.eml": ("m.kuznetsova@firma.ru", "RE: Ваше обращение в JetBit", ["полиции"], ["СТАРЫЙ", "Отправлено"]),
    "19_reply_apple_mail_en.eml": ("lucy@icloud.com", "Re: Your message to JetBit", ["contact form"], ["iPhone", "OLD QUOTE"]),
    "20_reply_yandex_ru.eml": ("alexey@yandex.ru", "Re: Ваше обращение в JetBit", ["ведут ссылки"], ["СТАРЫЙ", "Яндекс"]),
    "21_reply_mailru_ru.eml": ("tatiana@mail.ru", "Re: Ваше обращение в JetBit", ["не согласна"], ["СТАРЫЙ", "Понедельник"]),
    "28_request_deletion_ru.eml": ("svetlana.orlova@yandex.ru", "Удаление данных", ["удалить все мои"], []),
    "39_long_mail_en.eml": ("verbose@example.com", "Question and a long log", ["What personal data"], []),
    "41_no_message_id_en.eml": ("noid@example.com", "Question", ["sell my personal data"], []),
}

AUTOMATIC = {
    "22_auto_reply_ooo_en.eml": "auto_submitted",
    "23_auto_reply_exchange_ru.eml": "auto_response_suppress",
    "24_auto_reply_yandex_ru.eml": "autoreply_header",
    "25_bounce_mailer_daemon.eml": "robot_sender",
    "26_mailing_list.eml": "precedence",
    "27_newsletter_noreply.eml": "robot_sender",
    "40_own_address.eml": "own_address",
}


def test_corpus_is_large_and_bilingual() -> None:
    files = sorted(EML_DIR.glob("*.eml"))
    assert len(files) >= 30
    texts = [parse_mail(f.read_bytes()).text for f in files]
    assert sum(1 for t in texts if any("а" <= ch <= "я" for ch in t.lower())) >= 12
    assert sum(1 for t in texts if t and not any("а" <= ch <= "я" for ch in t.lower())) >= 12


@pytest.mark.parametrize("name", sorted(READABLE))
def test_readable_mail(name: str) -> None:
    sender, subject, present, absent = READABLE[name]
    mail = parse_mail(eml(name))
    assert mail.from_addr == sender
    assert mail.subject == subject
    assert not mail.unreadable
    for word in present:
        assert word in mail.text, (word, mail.text)
    for word in absent:
        assert word not in mail.text, (word, mail.text)
    assert "\ufffd" not in mail.text
    assert automatic_reason(mail, OWN) is None


@pytest.mark.parametrize("name", sorted(AUTOMATIC))
def test_automatic_mail_is_recognised(name: str) -> None:
    assert automatic_reason(parse_mail(eml(name)), OWN) == AUTOMATIC[name]


def test_other_automatic_signals() -> None:
    base = eml("02_question_en_cookies.eml")
    for header, reason in [(b"List-Unsubscribe: <mailto:x@y.z>", "mailing_list"),
                           (b"Precedence: junk", "precedence"), (b"Auto-Submitted: auto-generated", "auto_submitted"),
                           (b"X-Failed-Recipients: a@b.c", "delivery_report")]:
        assert automatic_reason(parse_mail(header + b"\r\n" + base), OWN) == reason
    # "Auto-Submitted: no" is a person's mail.
    assert automatic_reason(parse_mail(b"Auto-Submitted: no\r\n" + base), OWN) is None
    postmaster = base.replace(b"john.miller@outlook.com", b"postmaster@outlook.com")
    assert automatic_reason(parse_mail(postmaster), OWN) == "robot_sender"


def test_attachment_noted_not_read() -> None:
    mail = parse_mail(eml("12_attachment_ru.eml"))
    [attachment] = mail.attachments
    assert attachment.filename == "скан.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size > 3000


def test_unreadable_mail() -> None:
    mail = parse_mail(eml("14_unreadable_binary.eml"))
    assert mail.unreadable and mail.text == ""
    assert [a.content_type for a in mail.attachments] == ["application/octet-stream"]


def test_broken_mime_keeps_the_readable_part() -> None:
    mail = parse_mail(eml("13_broken_mime.eml"))
    assert mail.text == "Hello, do you sell my data to other companies?"


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\x00\xff\xfe garbage", b"Content-Type: multipart/mixed\r\n\r\n--x\r\n",
                b"Subject: =?bogus-charset?B?!!!?=\r\nContent-Type: text/plain; charset=\"\r\n\r\nhi",
                eml("28_request_deletion_ru.eml")[:150]):
        mail = parse_mail(raw)
        assert isinstance(mail.text, str)
        assert mail.message_id


def test_auth_results() -> None:
    failed = parse_mail(eml("29_request_deletion_en_authfail.eml"))
    assert failed.auth_results == {"spf": "softfail", "dkim": "fail", "dmarc": "fail"}
    assert failed.auth_failed
    passed = parse_mail(eml("28_request_deletion_ru.eml"))
    assert passed.auth_results == {"spf": "pass", "dkim": "pass", "dmarc": "pass"}
    assert not passed.auth_failed


def test_threading_ids_and_missing_message_id() -> None:
    mail = parse_mail(eml("15_reply_gmail_en.eml"))
    assert mail.message_id == "<CAFq1-reply15@mail.gmail.com>"
    assert mail.in_reply_to == ["<earlier@jetbit.ru>"]
    a, b = parse_mail(eml("41_no_message_id_en.eml")), parse_mail(eml("41_no_message_id_en.eml"))
    assert a.message_id == b.message_id and a.message_id.startswith("<sha256-")


def test_text_cap() -> None:
    mail = parse_mail(eml("39_long_mail_en.eml"), max_text_chars=1000)
    assert len(mail.text) <= 1000 and len(mail.full_text) <= 1000
    assert mail.text.startswith("Hello! What personal data")


def test_charset_guessing() -> None:
    phrase = "Удалите мои персональные данные"
    for codec in ("cp1251", "koi8_r"):
        assert decode_bytes(phrase.encode(codec), None) == phrase
        assert decode_bytes(phrase.encode(codec), "x-unknown") == phrase
    # A declared charset that does not fit the bytes is not trusted.
    assert decode_bytes(phrase.encode("cp1251"), "utf-8") == phrase


def test_quote_and_signature_stripping() -> None:
    assert strip_quotes_and_signature("Delete it.\n\nOn Tue, 3 Nov 2026 at 09:00, Bob <b@x.com> wrote:\n> old") \
        == "Delete it."
    assert strip_quotes_and_signature("> old question\n> more\n\nMy answer below.") == "My answer below."
    assert strip_quotes_and_signature("Вопрос.\n\nС уважением,\nИван") == "Вопрос."
    assert strip_quotes_and_signature("Question?\n-- \nJohn\n+7 900") == "Question?"
    assert strip_quotes_and_signature("Вопрос?\n\n3 нояб. 2026 г., в 9:00, Боб <b@x.ru> написал(а):\n> x") == "Вопрос?"
    assert strip_quotes_and_signature("Q?\n\nFrom: A <a@b.c>\nSent: Tuesday\nTo: B\n\nold") == "Q?"


def test_html_to_text() -> None:
    text = html_to_text("<style>x{}</style><p>Line&nbsp;one</p><div>Two<br>three</div><script>bad()</script>")
    assert text == "Line one\n\nTwo\nthree"


def test_plain_from_headers_read_directly_as_the_header_parser_reads_them() -> None:
    """The shortcut for "Words <address>" must agree with the email package on every header it takes, and
    leave every other header (quotes, dots, encoded words, non-ASCII, bad addresses) to it."""
    from handlers.email.parsing import _SIMPLE_MAILBOX, _parsed_mailbox, parse_mailbox

    names = ["", "Person 1", "A B C", "  spaced   out  ", "x\ty", "O'Brien", "Иван", "J. Smith", "\"a@b.cd\"",
             "=?utf-8?b?dmljdGltQGV4YW1wbGUuY29t?="]
    addresses = ["a@b.cd", "Person1@Example.COM", "x.y+z@sub.example.org", "!#$%&'*+/=?^_`{|}~-@x.ru", "a..b@x.com",
                 "a@-x.com", "a@x", ".a@b.com", "a@b.com.", "a@" + "x" * 64 + ".com", "a@b.cd, c@d.ef"]
    shapes = ["{name} <{address}>", "<{address}>", "{address}", " {address} ", "{name}<{address}>", "<{address}> {name}",
              "{name} {address}", "{name} < {address} >"]
    shortcut = 0
    for name in names:
        for address in addresses:
            for shape in shapes:
                raw = shape.format(name=name, address=address)
                shortcut += _SIMPLE_MAILBOX.fullmatch(raw) is not None
                assert parse_mailbox(raw) == _parsed_mailbox(raw), raw
    assert shortcut > 100  # the common shapes do take it
    assert parse_mailbox("Person 1 <Person1@Example.com>").address == "person1@example.com"
    assert parse_mailbox("a" * 10_000 + "@example.com").problem == "unparseable"  # long: the parser decides
