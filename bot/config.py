"""Configuration: one pydantic model per TOML table, environment overrides, secrets from the environment.

Precedence (lowest to highest): model defaults, the TOML file, ``PRIVACY_BOT__<TABLE>__<KEY>`` variables.
Secrets never come from the file: a secret-looking key there is refused, so a token cannot be committed
by accident.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_CONFIG_PATH = "PRIVACY_BOT_CONFIG"
ENV_PREFIX = "PRIVACY_BOT__"
ENV_TELEGRAM_TOKEN = "PRIVACY_BOT_TELEGRAM_TOKEN"
ENV_IMAP_PASSWORD = "PRIVACY_BOT_IMAP_PASSWORD"
ENV_SMTP_PASSWORD = "PRIVACY_BOT_SMTP_PASSWORD"
ENV_PSEUDONYM_SALT = "PRIVACY_BOT_PSEUDONYM_SALT"

# Keys that would hold a secret if someone put one in the file. Refused wherever they appear.
SECRET_KEYS = frozenset({"token", "bot_token", "password", "imap_password", "smtp_password", "secret",
                         "webhook_secret", "api_key", "salt", "pseudonym_salt"})

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.toml"


class ConfigError(Exception):
    """A configuration problem, with a one-line message fit to show a person."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TelegramConfig(_Table):
    api_base: str = "https://api.telegram.org"
    staff_chat_id: int = 0
    staff_user_ids: list[int] = Field(default_factory=list)
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: str = "/telegram/webhook"
    flood_messages_per_minute: int = Field(default=20, ge=1)
    max_message_length: int = Field(default=2000, ge=100)
    verification_code_ttl_seconds: int = Field(default=900, ge=60)
    verification_max_attempts: int = Field(default=5, ge=1)
    verification_resend_after_seconds: int = Field(default=60, ge=0)
    verification_codes_per_hour: int = Field(default=5, ge=1)
    verification_reminder_after_seconds: int = Field(default=600, ge=60)


class EmailConfig(_Table):
    enabled: bool = False
    address: str = "support@jetbit.ru"
    display_name: str = "JetBit Support"
    imap_host: str = "127.0.0.1"
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_username: str = ""
    imap_folder: str = "INBOX"
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    imap_command_timeout_seconds: float = Field(default=30.0, gt=0)
    imap_fetch_chunk: int = Field(default=100, ge=1, le=200)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_username: str = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    max_message_bytes: int = Field(default=2_000_000, ge=10_000)
    max_text_chars: int = Field(default=20_000, ge=1_000)
    replies_per_sender_per_hour: int = Field(default=5, ge=1)
    confirmation_reminder_hours: float = Field(default=24.0, gt=0)
    confirmation_expire_hours: float = Field(default=72.0, gt=0)
    # authserv-id of the receiving server's Authentication-Results ("" = trust the topmost header)
    auth_server_id: str = ""
    # mail without that server's Authentication-Results never verifies a request
    require_auth_results: bool = False


class StorageConfig(_Table):
    database: Path = Path("data/privacy-bot.sqlite3")


class PolicyConfig(_Table):
    directory: Path = Path("policy_text")
    url: str = "https://jetbit.ru/policy/"
    min_confidence: float = Field(default=0.15, ge=0.0, le=1.0)
    default_language: Literal["ru", "en"] = "ru"


class RequestsConfig(_Table):
    timezone: str = "Europe/Moscow"
    access_working_days: int = Field(default=10, ge=1)
    access_extension_working_days: int = Field(default=5, ge=0)
    correction_working_days: int = Field(default=7, ge=1)
    deletion_calendar_days: int = Field(default=30, ge=1)
    max_open_per_requester: int = Field(default=3, ge=1)
    remind_when_due_within_working_days: int = Field(default=2, ge=0)
    id_prefix: str = "PR"


class RetentionConfig(_Table):
    message_bodies_days: int = Field(default=90, ge=1)
    transcripts_days: int = Field(default=90, ge=1)
    verification_codes_days: int = Field(default=1, ge=1)
    conversations_days: int = Field(default=3, ge=1)
    profiles_days: int = Field(default=365, ge=1)
    security_events_days: int = Field(default=365, ge=1)
    closed_request_details_days: int = Field(default=1095, ge=1)
    run_every_hours: float = Field(default=24.0, gt=0)


class OutboxConfig(_Table):
    max_attempts: int = Field(default=8, ge=1)
    base_backoff_seconds: float = Field(default=2.0, gt=0)
    max_backoff_seconds: float = Field(default=3600.0, gt=0)
    poll_seconds: float = Field(default=1.0, gt=0)


class LoggingConfig(_Table):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Secrets(BaseModel):
    """Read from the environment only; never serialised, never logged."""

    telegram_token: str | None = None
    imap_password: str | None = None
    smtp_password: str | None = None
    pseudonym_salt: str | None = None

    def __repr__(self) -> str:  # keep secrets out of tracebacks and logs
        return "Secrets(<hidden>)"

    __str__ = __repr__


class Config(_Table):
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    requests: RequestsConfig = Field(default_factory=RequestsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)
    source: Path | None = Field(default=None, exclude=True)

    def resolve_path(self, path: Path) -> Path:
        """Relative paths in the config are relative to the config file's folder."""
        if path.is_absolute():
            return path
        base = self.source.parent if self.source is not None else REPO_ROOT
        return (base / path).resolve()

    @property
    def database_path(self) -> Path:
        return self.resolve_path(self.storage.database)

    @property
    def policy_directory(self) -> Path:
        return self.resolve_path(self.policy.directory)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.secrets.telegram_token)


def _find_secret(data: Mapping[str, Any], trail: str = "") -> str | None:
    for key, value in data.items():
        where = f"{trail}.{key}" if trail else key
        if key.lower() in SECRET_KEYS:
            return where
        if isinstance(value, Mapping):
            found = _find_secret(value, where)
            if found:
                return found
    return None


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    overrides: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"environment variable {name}: expected {ENV_PREFIX}<TABLE>__<KEY>")
        table, key = parts
        if key in SECRET_KEYS:
            raise ConfigError(f"environment variable {name}: secrets have their own variables "
                              f"({ENV_TELEGRAM_TOKEN}, {ENV_IMAP_PASSWORD}, {ENV_SMTP_PASSWORD})")
        overrides.setdefault(table, {})[key] = _parse_env_value(raw)
    return overrides


def _parse_env_value(raw: str) -> Any:
    """JSON when it parses (lists, numbers, booleans), the plain string otherwise."""
    stripped = raw.strip()
    if stripped[:1] in "[{" or stripped in ("true", "false") or _looks_numeric(stripped):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _merge(base: dict[str, Any], extra: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for table, values in extra.items():
        current = merged.get(table)
        if current is None:
            merged[table] = dict(values)
        elif isinstance(current, dict):
            current.update(values)
        else:
            merged[table] = dict(values)
    return merged


def _format_validation_error(source: str, error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "missing":
        problem = "missing key"
    else:
        problem = first["msg"]
        if "input" in first and not isinstance(first["input"], dict | list):
            problem += f" (got {first['input']!r})"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: [{key}] {problem}{suffix}"


def config_path_from(cli_path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if cli_path:
        return Path(cli_path)
    if environ.get(ENV_CONFIG_PATH):
        return Path(environ[ENV_CONFIG_PATH])
    return DEFAULT_CONFIG_PATH


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Load and validate the configuration. Raises ConfigError with a one-line message."""
    environ = os.environ if environ is None else environ
    config_path = config_path_from(path, environ)
    source = str(config_path)
    try:
        raw_text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read config file ({exc})") from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None

    secret_key = _find_secret(data)
    if secret_key:
        raise ConfigError(f"{source}: [{secret_key}] secrets must not be stored in the config file; "
                          f"set them in the environment ({ENV_TELEGRAM_TOKEN}, {ENV_IMAP_PASSWORD}, "
                          f"{ENV_SMTP_PASSWORD})")
    for reserved in ("secrets", "source"):
        if reserved in data:
            raise ConfigError(f"{source}: [{reserved}] unknown key")

    merged = _merge(data, _env_overrides(environ))
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None
    config.secrets = Secrets(
        telegram_token=environ.get(ENV_TELEGRAM_TOKEN) or None,
        imap_password=environ.get(ENV_IMAP_PASSWORD) or None,
        smtp_password=environ.get(ENV_SMTP_PASSWORD) or None,
        pseudonym_salt=environ.get(ENV_PSEUDONYM_SALT) or None,
    )
    config.source = config_path.resolve()
    return config
