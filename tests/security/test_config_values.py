"""Every configuration value is checked when the bot starts, not at the first request that uses it; an
error names where the value came from (the file, or the PRIVACY_BOT__<TABLE>__<KEY> variable); an
environment value is read by the type of the key it sets. One line, exit status 2, for every command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, ConfigError, load_config

CONFIG = REPO_ROOT / "config.toml"
TIMEOUT = 30.0


def _load(tmp_path: Path, text: str = "", **environ: str) -> object:
    """load_config on a file in tmp_path (with the policy folder its default points at)."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "policy_text").mkdir(exist_ok=True)
    return load_config(path, environ=environ)


def _refused(tmp_path: Path, text: str = "", **environ: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, **environ)
    message = str(caught.value)
    assert "\n" not in message
    return message


def _var(table: str, key: str) -> str:
    return f"PRIVACY_BOT__{table.upper()}__{key.upper()}"


# (table, key, a bad value as the environment gives it, the same in TOML, words of the problem)
BAD = [
    ("requests", "timezone", "Mars/Olympus", '"Mars/Olympus"', "unknown time zone"),
    ("requests", "timezone", "Europe", '"Europe"', "unknown time zone"),  # a folder of zones, not one
    ("requests", "timezone", "../../etc/passwd", '"../../etc/passwd"', "unknown time zone"),
    ("requests", "timezone", "", '""', "unknown time zone"),
    ("requests", "id_prefix", "pr", '"pr"', "capital Latin letters"),
    ("requests", "id_prefix", "ABCDEFGHI", '"ABCDEFGHI"', "1 to 8"),  # a 9-letter id is not found in mail
    ("requests", "id_prefix", "P-R", '"P-R"', "capital Latin letters"),
    ("requests", "id_prefix", "", '""', "capital Latin letters"),
    ("requests", "id_prefix", "ЗАП", '"ЗАП"', "capital Latin letters"),
    ("requests", "access_working_days", "1000000", "1000000", "less than or equal to 250"),
    ("email", "address", "support", '"support"', "email address"),
    ("email", "address", "support@jetbit", '"support@jetbit"', "email address"),
    ("email", "address", "sup port@jetbit.ru", '"sup port@jetbit.ru"', "email address"),
    ("email", "address", "support@@jetbit.ru", '"support@@jetbit.ru"', "email address"),
    ("email", "address", "support@-jetbit.ru", '"support@-jetbit.ru"', "email address"),
    ("email", "display_name", "JetBit\r\nBcc: all@example.com", '"JetBit\\r\\nBcc: all@example.com"', "one line"),
    ("email", "imap_host", "imaps://mail.example.com", '"imaps://mail.example.com"', "host name"),
    ("email", "smtp_host", "", '""', "host name"),
    ("email", "imap_folder", " ", '" "', "must not be empty"),
    ("email", "imap_poll_seconds", "inf", "inf", "finite number"),
    ("email", "smtp_timeout_seconds", "nan", "nan", "finite number"),
    ("telegram", "api_base", "api.telegram.org", '"api.telegram.org"', "http:// or https:// URL"),
    ("telegram", "api_base", "ftp://api.telegram.org", '"ftp://api.telegram.org"', "http:// or https:// URL"),
    ("telegram", "api_base", "http://127.0.0.1:99999", '"http://127.0.0.1:99999"', "http:// or https:// URL"),
    ("telegram", "api_base", "https://api.telegram.org/?x=1", '"https://api.telegram.org/?x=1"', "without ? or #"),
    ("telegram", "webhook_url", "bot.example/hook", '"bot.example/hook"', "http:// or https:// URL"),
    ("telegram", "webhook_path", "telegram/webhook", '"telegram/webhook"', 'starting with "/"'),
    ("telegram", "webhook_path", "/a b", '"/a b"', 'starting with "/"'),
    ("telegram", "webhook_host", "0.0.0.0/24", '"0.0.0.0/24"', "host name"),
    ("telegram", "max_message_length", "10000", "10000", "less than or equal to 4096"),
    ("telegram", "verification_code_ttl_seconds", "1000000000000", "1000000000000", "less than or equal to 86400"),
    ("telegram", "staff_chat_id", "-100abc", "\"-100abc\"", "valid integer"),
    ("policy", "url", "jetbit.ru/policy/", '"jetbit.ru/policy/"', "http:// or https:// URL"),
    ("policy", "url", "javascript:alert(1)", '"javascript:alert(1)"', "http:// or https:// URL"),
    ("retention", "closed_request_details_days", "10000000", "10000000", "less than or equal to 36500"),
    ("outbox", "base_backoff_seconds", "inf", "inf", "finite number"),
    ("outbox", "max_attempts", "100000", "100000", "less than or equal to 100"),
]


@pytest.mark.parametrize(("table", "key", "env_value", "_toml", "problem"), BAD,
                         ids=[f"{t}.{k}={v!r}" for t, k, v, *_ in BAD])
def test_a_bad_environment_value_names_its_variable(tmp_path: Path, table: str, key: str, env_value: str,
                                                    _toml: str, problem: str) -> None:
    message = _refused(tmp_path, **{_var(table, key): env_value})
    assert message.startswith(f"environment variable {_var(table, key)}: [{table}.{key}] "), message
    assert problem in message, message
    assert "config.toml" not in message


@pytest.mark.parametrize(("table", "key", "_env", "toml_value", "problem"), BAD,
                         ids=[f"{t}.{k}={v}" for t, k, _, v, _p in BAD])
def test_the_same_bad_value_in_the_file_names_the_file(tmp_path: Path, table: str, key: str, _env: str,
                                                       toml_value: str, problem: str) -> None:
    message = _refused(tmp_path, f"[{table}]\n{key} = {toml_value}\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: [{table}.{key}] "), message
    assert problem in message, message


GOOD = [
    ("requests", "timezone", "UTC"),
    ("requests", "timezone", "Asia/Vladivostok"),
    ("requests", "id_prefix", "REQ"),
    ("requests", "id_prefix", "ABCDEFGH"),
    ("email", "address", "privacy@пример.рф"),
    ("email", "address", "first.last+privacy@mail.example.co.uk"),
    ("email", "imap_host", "::1"),
    ("email", "smtp_host", "smtp.example.com"),
    ("telegram", "api_base", "http://127.0.0.1:8081"),
    ("telegram", "api_base", "https://tg.example.com/botapi"),
    ("telegram", "webhook_url", ""),
    ("telegram", "webhook_url", "https://bot.example.com/telegram/webhook"),
    ("telegram", "webhook_path", "/hooks/telegram-2"),
    ("telegram", "webhook_host", "0.0.0.0"),
    ("policy", "url", "http://intranet.local/policy"),
]


@pytest.mark.parametrize(("table", "key", "value"), GOOD, ids=[f"{t}.{k}={v!r}" for t, k, v in GOOD])
def test_good_values_pass(tmp_path: Path, table: str, key: str, value: str) -> None:
    config = _load(tmp_path, **{_var(table, key): value})
    assert getattr(getattr(config, table), key) == value


# Keys that only make sense together: (table, first, first's value, second, second's value, words)
RELATED = [
    ("email", "confirmation_reminder_hours", "96", "confirmation_expire_hours", "72",
     "confirmation_reminder_hours (96.0) must be less than confirmation_expire_hours (72.0)"),
    ("email", "confirmation_reminder_hours", "72", "confirmation_expire_hours", "72", "must be less than"),
    ("outbox", "base_backoff_seconds", "7200", "max_backoff_seconds", "3600",
     "base_backoff_seconds (7200.0) must be at most max_backoff_seconds (3600.0)"),
    ("telegram", "verification_reminder_after_seconds", "900", "verification_code_ttl_seconds", "900",
     "verification_reminder_after_seconds (900) must be less than verification_code_ttl_seconds (900)"),
    ("telegram", "verification_resend_after_seconds", "1200", "verification_code_ttl_seconds", "900",
     "must be less than verification_code_ttl_seconds"),
    ("email", "imap_security", "none", "imap_host", "mail.example.com", "only for a loopback imap_host"),
]


@pytest.mark.parametrize(("table", "first", "first_value", "second", "second_value", "problem"), RELATED,
                         ids=[f"{r[0]}.{r[1]}-{r[3]}" for r in RELATED])
def test_keys_that_go_together(tmp_path: Path, table: str, first: str, first_value: str, second: str,
                               second_value: str, problem: str) -> None:
    both = {_var(table, first): first_value, _var(table, second): second_value}
    message = _refused(tmp_path, **both)
    assert message.startswith(f"environment variables {_var(table, first)}, {_var(table, second)}: "
                              f"[{table}] "), message
    assert problem in message, message
    # One of them from the file, the other from the environment: the variable is the one named.
    toml_value = first_value if first_value.replace(".", "").isdigit() else f'"{first_value}"'
    message = _refused(tmp_path, f"[{table}]\n{first} = {toml_value}\n", **{_var(table, second): second_value})
    assert message.startswith(f"environment variable {_var(table, second)}: [{table}] "), message
    # Both in the file: the file is named.
    second_toml = second_value if second_value.replace(".", "").isdigit() else f'"{second_value}"'
    message = _refused(tmp_path, f"[{table}]\n{first} = {toml_value}\n{second} = {second_toml}\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: [{table}] "), message
    assert problem in message


def test_the_documented_defaults_fit_together() -> None:
    config = load_config(CONFIG, environ={})
    assert config.email.confirmation_reminder_hours < config.email.confirmation_expire_hours
    assert config.outbox.base_backoff_seconds <= config.outbox.max_backoff_seconds
    telegram = config.telegram
    assert telegram.verification_reminder_after_seconds < telegram.verification_code_ttl_seconds
    # imap_security "none" stays usable for the loopback test servers
    assert _loads_with(imap_security="none", imap_host="127.0.0.1")
    assert _loads_with(imap_security="none", imap_host="localhost")


def _loads_with(**email: str) -> bool:
    load_config(CONFIG, environ={_var("email", k): v for k, v in email.items()})
    return True


def test_environment_values_are_read_by_the_type_of_their_key(tmp_path: Path) -> None:
    config = _load(tmp_path, **{
        _var("email", "imap_username"): "100500",  # a string key: stays the string, not the number
        _var("email", "smtp_username"): "007",
        "PRIVACY_BOT_SMTP_PASSWORD": "s3cret",
        _var("email", "display_name"): "2026",
        _var("email", "imap_folder"): "1.5",
        _var("email", "address"): "12345@example.com",
        _var("telegram", "staff_chat_id"): "-1001234567890",  # numbers still become numbers
        _var("telegram", "staff_user_ids"): "[1, 2]",  # lists are JSON
        _var("email", "enabled"): "false",
        _var("outbox", "poll_seconds"): "0.25",
        _var("requests", "id_prefix"): "REQ",
    })
    assert config.email.imap_username == "100500"  # type: ignore[attr-defined]
    assert config.email.smtp_username == "007"  # type: ignore[attr-defined]
    assert config.email.display_name == "2026"  # type: ignore[attr-defined]
    assert config.email.imap_folder == "1.5"  # type: ignore[attr-defined]
    assert config.telegram.staff_chat_id == -1001234567890  # type: ignore[attr-defined]
    assert config.telegram.staff_user_ids == [1, 2]  # type: ignore[attr-defined]
    assert config.email.enabled is False  # type: ignore[attr-defined]
    assert config.outbox.poll_seconds == 0.25  # type: ignore[attr-defined]


def test_a_list_that_is_not_json_names_its_variable(tmp_path: Path) -> None:
    message = _refused(tmp_path, **{_var("telegram", "staff_user_ids"): "1,2"})
    assert message.startswith("environment variable PRIVACY_BOT__TELEGRAM__STAFF_USER_IDS: "), message
    assert "JSON list" in message
    message = _refused(tmp_path, **{_var("telegram", "staff_user_ids"): '["x"]'})
    assert message.startswith("environment variable PRIVACY_BOT__TELEGRAM__STAFF_USER_IDS: "
                              "[telegram.staff_user_ids.0] "), message
    message = _refused(tmp_path, **{_var("telegram", "staff_user_ids"): "[-5]"})
    assert "greater than 0" in message  # Telegram user ids are positive


def test_unknown_keys_and_tables_from_the_environment_name_the_variable(tmp_path: Path) -> None:
    message = _refused(tmp_path, PRIVACY_BOT__TELEGRAM__STAF_CHAT_ID="1")
    assert message == "environment variable PRIVACY_BOT__TELEGRAM__STAF_CHAT_ID: [telegram.staf_chat_id] unknown key"
    message = _refused(tmp_path, PRIVACY_BOT__NONSENSE__X="1")
    assert message == "environment variable PRIVACY_BOT__NONSENSE__X: [nonsense] unknown key"
    message = _refused(tmp_path, PRIVACY_BOT__SECRETS__TELEGRAM_TOKEN="1:a")
    assert message.startswith("environment variable PRIVACY_BOT__SECRETS__TELEGRAM_TOKEN: ")


def test_the_policy_folder_must_exist(tmp_path: Path) -> None:
    message = _refused(tmp_path, '[policy]\ndirectory = "no-such-folder"\n')
    assert message == (f"{tmp_path / 'config.toml'}: [policy.directory] folder not found: "
                       f"{tmp_path / 'no-such-folder'}")
    message = _refused(tmp_path, PRIVACY_BOT__POLICY__DIRECTORY=str(tmp_path / "missing"))
    assert message.startswith("environment variable PRIVACY_BOT__POLICY__DIRECTORY: [policy.directory] "
                              "folder not found")


def test_the_database_path_must_not_be_a_folder(tmp_path: Path) -> None:
    message = _refused(tmp_path, PRIVACY_BOT__STORAGE__DATABASE=str(tmp_path))
    assert message.startswith("environment variable PRIVACY_BOT__STORAGE__DATABASE: [storage.database] "
                              "is a folder"), message
    (tmp_path / "file").write_text("x")
    message = _refused(tmp_path, PRIVACY_BOT__STORAGE__DATABASE=str(tmp_path / "file" / "bot.sqlite3"))
    assert "is not a folder" in message


def test_an_smtp_user_name_needs_its_password(tmp_path: Path) -> None:
    message = _refused(tmp_path, PRIVACY_BOT__EMAIL__SMTP_USERNAME="bot")
    assert message.startswith("environment variable PRIVACY_BOT__EMAIL__SMTP_USERNAME: [email.smtp_username] ")
    assert "PRIVACY_BOT_SMTP_PASSWORD" in message
    assert _load(tmp_path, PRIVACY_BOT__EMAIL__SMTP_USERNAME="bot", PRIVACY_BOT_SMTP_PASSWORD="s3cret")


def test_the_longest_id_prefix_fits_button_data_and_is_found_in_mail() -> None:
    from handlers.email.processor import _REQUEST_ID
    from handlers.telegram.callbacks import STAFF_ACTIONS, InfoReplyCb, RejectCb, StaffCb

    config = load_config(CONFIG, environ={"PRIVACY_BOT__REQUESTS__ID_PREFIX": "ABCDEFGH"})
    request_id = f"{config.requests.id_prefix}-2026-999999"  # a busy year's counter
    packed = [StaffCb(action=action, request_id=request_id).pack() for action in STAFF_ACTIONS]
    packed += [RejectCb(request_id=request_id, preset=3).pack(), InfoReplyCb(request_id=request_id).pack()]
    assert max(len(data.encode()) for data in packed) <= 64
    assert _REQUEST_ID.findall(f"RE: ВАШ ЗАПРОС {request_id} ПОЛУЧЕН") == [request_id]


# -- real processes --------------------------------------------------------------------------------------

def _bot(args: list[str], config: Path = CONFIG, **extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVACY_BOT")}
    env.update(extra)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), *args], env=env,
                            cwd=str(REPO_ROOT), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=TIMEOUT)
    return result, time.monotonic() - started


def _assert_config_error(result: subprocess.CompletedProcess[str], elapsed: float, expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"privacy-bot: config error: {expected}"], result.stderr
    assert result.stdout == ""
    assert elapsed < 15.0, elapsed


COMMANDS = {
    "run": ["run"],
    "chat": ["chat"],
    "ask": ["ask", "do you log my IP?"],
    "policy list": ["policy", "list"],
    "requests list": ["requests", "list"],
    "requests create": ["requests", "create", "--type", "deletion", "--channel", "manual", "--phone",
                        "+7 900 123-45-67"],
    "retention run": ["retention", "run"],
    "handoffs list": ["handoffs", "list"],
}
PROBLEM = "unknown time zone (expected an IANA name such as Europe/Moscow) (got 'Mars/Olympus')"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_timezone_from_the_environment_stops_every_command(tmp_path: Path, command: str) -> None:
    database = tmp_path / "bot.sqlite3"
    result, elapsed = _bot(COMMANDS[command], PRIVACY_BOT__REQUESTS__TIMEZONE="Mars/Olympus",
                           PRIVACY_BOT__STORAGE__DATABASE=str(database))
    _assert_config_error(result, elapsed, "environment variable PRIVACY_BOT__REQUESTS__TIMEZONE: "
                                          f"[requests.timezone] {PROBLEM}")
    assert not database.exists()  # stopped before anything was opened


@pytest.mark.parametrize("command", ["run", "requests create"])
def test_bad_timezone_in_the_file_stops_with_the_file_named(tmp_path: Path, command: str) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(f'[storage]\ndatabase = "bot.sqlite3"\n[policy]\ndirectory = "{REPO_ROOT / "policy_text"}"\n'
                      '[requests]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result, elapsed = _bot(COMMANDS[command], config)
    _assert_config_error(result, elapsed, f"{config}: [requests.timezone] {PROBLEM}")
    assert not (tmp_path / "bot.sqlite3").exists()


def test_a_numeric_user_name_from_the_environment_is_accepted_by_a_real_command(tmp_path: Path) -> None:
    result, _ = _bot(["requests", "list", "--json"], PRIVACY_BOT__EMAIL__IMAP_USERNAME="100500",
                     PRIVACY_BOT__STORAGE__DATABASE=str(tmp_path / "bot.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
