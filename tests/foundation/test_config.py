"""Configuration: defaults, environment overrides, secrets, and one clear line for every mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "policy_text").mkdir(exist_ok=True)  # [policy] directory, relative to the file, must exist
    return path


def test_repo_config_is_valid_and_documents_every_key() -> None:
    config = load_config(REPO_ROOT / "config.toml", environ={})
    assert config.email.address == "support@jetbit.ru"
    assert config.storage.database == Path("data/privacy-bot.sqlite3")
    assert config.database_path == REPO_ROOT / "data" / "privacy-bot.sqlite3"
    text = (REPO_ROOT / "config.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    # every key has a comment above it, or above the group of related keys it belongs to
    def is_key(line: str) -> bool:
        return "=" in line and not line.lstrip().startswith("#")

    for index, line in enumerate(lines):
        if is_key(line):
            above = index - 1
            while above >= 0 and is_key(lines[above]):
                above -= 1
            assert above >= 0 and lines[above].lstrip().startswith("#"), f"key without a comment: {line}"
    # and every model field appears in the documented default file
    for table_name, table in config.model_dump(exclude={"secrets", "source"}).items():
        for key in table:
            assert f"\n{key} = " in text, f"[{table_name}] {key} missing from config.toml"


def test_readme_reference_table_lists_every_key() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    config = load_config(REPO_ROOT / "config.toml", environ={})
    for table_name, table in config.model_dump(exclude={"secrets", "source"}).items():
        for key in table:
            assert f"`{table_name}.{key}`" in readme, f"README reference lacks {table_name}.{key}"


def test_env_overrides_scalars_and_json_lists(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegram]\nstaff_chat_id = 5\n")
    config = load_config(path, environ={
        "PRIVACY_BOT__STORAGE__DATABASE": "/tmp/x.sqlite3",
        "PRIVACY_BOT__TELEGRAM__STAFF_USER_IDS": "[1,2]",
        "PRIVACY_BOT__TELEGRAM__STAFF_CHAT_ID": "-1001",
        "PRIVACY_BOT__EMAIL__ENABLED": "true",
        "PRIVACY_BOT__EMAIL__IMAP_USERNAME": "support",
    })
    assert config.database_path == Path("/tmp/x.sqlite3")
    assert config.telegram.staff_user_ids == [1, 2]
    assert config.telegram.staff_chat_id == -1001
    assert config.email.enabled is True
    assert config.email.imap_username == "support"


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\ndatabase = "db/bot.sqlite3"\n')
    assert load_config(path, environ={}).database_path == tmp_path / "db" / "bot.sqlite3"


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[requests]\nmax_open_per_requester = 7\n")
    config = load_config(None, environ={"PRIVACY_BOT_CONFIG": str(path)})
    assert config.requests.max_open_per_requester == 7
    assert config.source == path.resolve()


def test_secrets_come_from_the_environment_only(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    config = load_config(path, environ={"PRIVACY_BOT_TELEGRAM_TOKEN": "123:abc",
                                        "PRIVACY_BOT_SMTP_PASSWORD": "s3cret"})
    assert config.secrets.telegram_token == "123:abc"
    assert config.telegram_enabled
    assert "s3cret" not in repr(config) and "123:abc" not in repr(config)
    assert "s3cret" not in config.model_dump_json()


@pytest.mark.parametrize(("text", "expected"), [
    ('[telegram]\ntoken = "123:abc"\n', "[telegram.token] secrets must not be stored in the config file"),
    ('[email]\nimap_password = "x"\n', "[email.imap_password] secrets must not be stored"),
    ("[telegram]\nstaf_chat_id = 1\n", "[telegram.staf_chat_id] unknown key"),
    ("[nonsense]\nx = 1\n", "[nonsense] unknown key"),
    ('[telegram]\nstaff_chat_id = "abc"\n', "[telegram.staff_chat_id]"),
    ('[email]\nimap_security = "tls"\n', "[email.imap_security]"),
    ("[storage\n", "not valid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, environ={})
    message = str(excinfo.value)
    assert message.startswith(str(path)), message
    assert expected in message
    assert "\n" not in message


def test_bad_env_override_is_reported() -> None:
    with pytest.raises(ConfigError, match=r"\[telegram.staff_user_ids"):
        load_config(REPO_ROOT / "config.toml", environ={"PRIVACY_BOT__TELEGRAM__STAFF_USER_IDS": "[\"x\"]"})
    with pytest.raises(ConfigError, match="PRIVACY_BOT__TELEGRAM__TOKEN: secrets have their own"):
        load_config(REPO_ROOT / "config.toml", environ={"PRIVACY_BOT__TELEGRAM__TOKEN": "1:a"})


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config("/nonexistent/config.toml", environ={})


def test_cli_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegram]\nunknown_thing = 1\n")
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "run"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"privacy-bot: config error: {path}: [telegram.unknown_thing] unknown key"
