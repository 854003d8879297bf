"""What a completed deletion destroyed: chosen from the configured lists, checked once in the core, stored
with the completion (migration 0009, also on a database written before it), printed in the act."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import REPO_ROOT, Choice, Config, ConfigError, load_config
from bot.i18n import get_translator
from bot.requests import export
from bot.requests.errors import DestructionNotApplicable, DestructionRequired, UnknownChoice
from bot.requests.models import RequestStatus, RequestType
from bot.requests.service import RequestService
from bot.storage.db import Database, discover_migrations
from handlers.telegram.callbacks import MAX_CHOICE_ID
from tests.core.conftest import outbox_rows

NEW = {9, 103}  # this change's migrations: the core's table and the Telegram channel's drafts


async def _approved_deletion(service: RequestService, create: Callable[..., Any]) -> str:
    rid: str = (await create()).request.id
    await service.approve(rid, "staff:anna")
    return rid


async def _trail_and_outbox(service: RequestService, db: Database, rid: str) -> tuple[int, int]:
    return len(await service.audit_events(rid)), len(await outbox_rows(db))


async def test_refused_choices_change_nothing(service: RequestService, db: Database,
                                             create: Callable[..., Any]) -> None:
    rid = await _approved_deletion(service, create)
    before = await _trail_and_outbox(service, db, rid)
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({}, DestructionRequired, "categories"),
        ({"categories": ["contacts"]}, DestructionRequired, "systems"),
        ({"categories": ["contacts", "passport"], "systems": ["crm"]}, UnknownChoice, "passport"),
        ({"categories": ["contacts"], "systems": ["crm'; DROP TABLE requests; --"]}, UnknownChoice, "DROP"),
        ({"categories": [" ", ""], "systems": ["crm"]}, DestructionRequired, "categories"),
    ]
    for kwargs, error, named in cases:
        with pytest.raises(error) as caught:
            await service.complete(rid, "staff:boris", **kwargs)
        assert named in str(caught.value)
    assert (await service.get(rid)).status is RequestStatus.APPROVED
    assert await service.destruction_of(rid) is None
    assert await _trail_and_outbox(service, db, rid) == before

    access = (await create(type=RequestType.ACCESS)).request.id
    await service.approve(access, "staff:anna")
    with pytest.raises(DestructionNotApplicable):
        await service.complete(access, "staff:boris", categories=["contacts"], systems=["crm"])
    assert (await service.complete(access, "staff:boris")).status is RequestStatus.COMPLETED
    assert await service.destruction_of(access) is None


async def test_the_act_keeps_the_labels_of_the_day(service: RequestService, config: Config,
                                                   create: Callable[..., Any]) -> None:
    rid = await _approved_deletion(service, create)
    await service.complete(rid, "staff:boris", categories=["technical", "contacts", "technical"],
                           systems=["backups", "crm"])
    destroyed = await service.destruction_of(rid)
    assert destroyed is not None
    # each once, in the configured order
    assert destroyed.ids("categories") == ["contacts", "technical"] and destroyed.ids("systems") == ["crm", "backups"]
    # the lists are renamed later: the act still says what was chosen then
    config.destruction.categories = [Choice(id="contacts", ru="КОНТАКТЫ", en="CONTACTS")]
    act = export.destruction_act(await service.get(rid), await service.audit_events(rid),
                                 await service.destruction_of(rid), get_translator(), "ru",
                                 operator="ООО «Ромашка»", timezone="Asia/Yekaterinburg")
    assert "КОНТАКТЫ" not in act and "контактные данные (фамилия" in act
    assert "Оператор: ООО «Ромашка»" in act
    assert "(Asia/Yekaterinburg)" in act  # another zone is named as it is


async def test_a_database_of_todays_schema_upgrades(tmp_path: Path, config: Config) -> None:
    """Written by the code before this change (every migration up to it), then opened by this one."""
    path = tmp_path / "today.sqlite3"
    before = [m for m in discover_migrations() if m.version not in NEW]
    old = await Database(path).open(migrations=before)
    old_service = RequestService(old, config)
    from bot.requests.models import Channel, Requester, VerificationMethod
    from tests.core.conftest import RECEIVED

    async def make(n: int) -> str:
        result = await old_service.create(
            type=RequestType.DELETION, channel=Channel.EMAIL, lang="ru", received_at=RECEIVED,
            requester=Requester(email=f"old{n}@example.ru"), details="всё", verified=VerificationMethod.EMAIL_REPLY,
            actor="requester")
        await old_service.approve(result.request.id, "staff:anna")
        return result.request.id

    done, waiting = await make(1), await make(2)
    # completed as the code before this change did: the status and the trail, nothing about what was destroyed
    async with old.transaction() as conn:
        await conn.execute("UPDATE requests SET status = 'completed', completed_at = updated_at,"
                           " closed_at = updated_at WHERE id = ?", (done,))
        await old_service.audit.append(conn, done, "status_changed", "staff:boris",
                                       {"from": "approved", "to": "completed"})
    async with old.conn.execute("SELECT name FROM sqlite_master WHERE name = 'request_destruction'") as cur:
        assert await cur.fetchone() is None  # really the schema of before
    await old.close()

    db = await Database(path).open()
    try:
        assert NEW <= await db.applied_versions()
        service = RequestService(db, config)
        assert await service.destruction_of(done) is None
        act = export.destruction_act(await service.get(done), await service.audit_events(done), None,
                                     get_translator(), "ru", operator="JetBit", timezone="Europe/Moscow")
        assert "Категории уничтоженных персональных данных: не указано" in act
        assert "Уничтожение выполнил (ответственный): boris" in act
        await service.complete(waiting, "staff:boris", categories=["contacts"], systems=["mail"])
        destroyed = await service.destruction_of(waiting)
        assert destroyed is not None and destroyed.labels("systems", "en") == ["company mail"]
    finally:
        await db.close()


# -- the [destruction] table of the configuration -------------------------------------------------

def _config(tmp_path: Path, table: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(f"[policy]\ndirectory = \"{REPO_ROOT / 'policy_text'}\"\n[destruction]\n{table}\n",
                    encoding="utf-8")
    return load_config(path, environ={})


@pytest.mark.parametrize(("table", "problem"), [
    ('categories = [{ id = "Contacts", ru = "к", en = "c" }]', "[destruction.categories.0.id] expected 1 to 24"),
    ('categories = [{ id = "a:b", ru = "к", en = "c" }]', "expected 1 to 24"),
    (f'categories = [{{ id = "{"x" * (MAX_CHOICE_ID + 1)}", ru = "к", en = "c" }}]', "expected 1 to 24"),
    ('categories = []', "[destruction.categories] List should have at least 1 item"),
    ('systems = [{ id = "a", ru = "к", en = "c" }, { id = "a", ru = "к2", en = "c2" }]', "listed twice"),
    ('systems = [{ id = "a", ru = "к" }]', "[destruction.systems.0.en] missing key"),
    ('systems = [{ id = "a", ru = "к", en = "c", de = "d" }]', "[destruction.systems.0.de] unknown key"),
    ('systems = [{ id = "a", ru = "к\\nОператор: другой", en = "c" }]', "must be one line"),
    ('method = { ru = " ", en = "x" }', "[destruction.method.ru] must not be empty"),
])
def test_bad_lists_stop_with_one_line(tmp_path: Path, table: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, table)
    message = str(caught.value)
    assert "\n" not in message and problem in message and "config.toml" in message, message


def test_lists_from_the_file_and_the_environment(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    config = _config(tmp_path, 'systems = [{ id = "erp", ru = "ERP-система", en = "the ERP" }]')
    assert [c.id for c in config.destruction.systems] == ["erp"]
    assert config.destruction.categories[0].id == "contacts"  # the default list where none is given
    config = make_config({"PRIVACY_BOT__DESTRUCTION__CATEGORIES": '[{"id": "cv", "ru": "резюме", "en": "CVs"}]',
                          "PRIVACY_BOT__DESTRUCTION__OPERATOR": '{"ru": "ООО «Ромашка»", "en": "Romashka LLC"}'})
    assert [(c.id, c.get("en")) for c in config.destruction.categories] == [("cv", "CVs")]
    assert config.destruction.operator.get("ru") == "ООО «Ромашка»"
    with pytest.raises(ConfigError, match="PRIVACY_BOT__DESTRUCTION__SYSTEMS"):
        make_config({"PRIVACY_BOT__DESTRUCTION__SYSTEMS": "crm,mail"})


def test_the_documented_defaults_are_the_model_defaults() -> None:
    assert load_config(REPO_ROOT / "config.toml", environ={}).destruction == Config().destruction
