"""Configuration: one pydantic model per TOML table, environment overrides, secrets from the environment.

Precedence (lowest to highest): model defaults, the TOML file, ``PRIVACY_BOT__<TABLE>__<KEY>`` variables.
Secrets never come from the file: a secret-looking key there is refused, so a token cannot be committed
by accident.

Every value is checked when the configuration is loaded (time zone, URLs, addresses, id prefix, paths,
bounds, and keys that only make sense together), so a mistake stops the bot at start with one line
naming the file or the environment variable it came from, never at the first request that uses it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

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
    # inf and nan pass "> 0" and then break date arithmetic (timedelta overflow) at the first use.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


# -- value checks ----------------------------------------------------------------------------------------

def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or any(ch.isspace() for ch in value)):
        raise PydanticCustomError("url", "expected an http:// or https:// URL with a host")
    return value


def _http_url_or_empty(value: str) -> str:
    return value if value == "" else _http_url(value)


def _api_base(value: str) -> str:
    _http_url(value)
    if urlsplit(value).query or urlsplit(value).fragment:
        raise PydanticCustomError("url", "expected a base URL without ? or # (the bot adds /bot<token>/<method>)")
    return value


_HOST = re.compile(r"^[A-Za-z0-9._:\-\[\]]+$")


def _host(value: str) -> str:
    if not _HOST.match(value) or "://" in value:
        raise PydanticCustomError("host", "expected a host name or an IP address (no scheme, no path)")
    return value


def _webhook_path(value: str) -> str:
    if not value.startswith("/") or any(ch.isspace() or ch in "?#" for ch in value):
        raise PydanticCustomError("path", 'expected a path starting with "/" (no spaces, ? or #)')
    return value


_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[^\W_]([^\W_]|-){0,62}(?<!-)$")


def _email_address(value: str) -> str:
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if (not at or len(local) > 64 or not _LOCAL_PART.match(local) or len(labels) < 2
            or not all(_DOMAIN_LABEL.match(label) for label in labels) or labels[-1].isdigit()):
        raise PydanticCustomError("email", "expected an email address such as support@example.com")
    return value


def _one_line(value: str) -> str:
    # A line break in a header value would let it add headers of its own.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise PydanticCustomError("one_line", "must be one line of text (no line breaks or control characters)")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise PydanticCustomError("timezone", "unknown time zone (expected an IANA name such as Europe/Moscow)") from None
    return value


# The email channel finds request ids in subjects with [A-Z]{1,8}-YYYY-NNNN (handlers/email/processor.py),
# and an id must fit Telegram's 64-byte button data ("st:complete:" + id): 8 letters leave ample room.
_ID_PREFIX = re.compile(r"^[A-Z]{1,8}$")


def _id_prefix(value: str) -> str:
    if not _ID_PREFIX.match(value):
        raise PydanticCustomError("id_prefix", "expected 1 to 8 capital Latin letters, as PR in PR-2026-0001")
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _less(model: BaseModel, first: str, second: str, *, or_equal: bool = False) -> None:
    a, b = getattr(model, first), getattr(model, second)
    if a > b or (a == b and not or_equal):
        relation = "at most" if or_equal else "less than"
        raise PydanticCustomError("order", f"{first} ({a}) must be {relation} {second} ({b})",
                                  {"keys": f"{first} {second}"})


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Host = Annotated[str, AfterValidator(_host)]


class TelegramConfig(_Table):
    api_base: Annotated[str, AfterValidator(_api_base)] = "https://api.telegram.org"
    staff_chat_id: int = 0
    staff_user_ids: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: Annotated[str, AfterValidator(_http_url_or_empty)] = ""
    webhook_host: Host = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: Annotated[str, AfterValidator(_webhook_path)] = "/telegram/webhook"
    flood_messages_per_minute: int = Field(default=20, ge=1, le=1000)
    # Telegram itself delivers at most 4096 characters in a message.
    max_message_length: int = Field(default=2000, ge=100, le=4096)
    verification_code_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    verification_max_attempts: int = Field(default=5, ge=1, le=100)
    verification_resend_after_seconds: int = Field(default=60, ge=0, le=86400)
    verification_codes_per_hour: int = Field(default=5, ge=1, le=1000)
    verification_reminder_after_seconds: int = Field(default=600, ge=60, le=86400)
    # An address this person proved by a code this recently is not asked for a code again (0: always ask).
    verification_reuse_minutes: int = Field(default=30, ge=0, le=1440)

    @model_validator(mode="after")
    def _code_timing(self) -> TelegramConfig:
        # A resend only once the code has died is no resend; a reminder is only sent for a live code.
        _less(self, "verification_resend_after_seconds", "verification_code_ttl_seconds")
        _less(self, "verification_reminder_after_seconds", "verification_code_ttl_seconds")
        return self


class EmailConfig(_Table):
    enabled: bool = False
    address: Annotated[str, AfterValidator(_email_address)] = "support@jetbit.ru"
    display_name: Annotated[str, AfterValidator(_one_line), Field(max_length=200)] = "JetBit Support"
    imap_host: Host = "127.0.0.1"
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_username: Annotated[str, AfterValidator(_one_line)] = ""
    imap_folder: Annotated[str, AfterValidator(_not_blank), AfterValidator(_one_line)] = "INBOX"
    imap_poll_seconds: float = Field(default=60.0, gt=0, le=3600)
    imap_command_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    imap_fetch_chunk: int = Field(default=100, ge=1, le=200)
    smtp_host: Host = "127.0.0.1"
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_username: Annotated[str, AfterValidator(_one_line)] = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    max_message_bytes: int = Field(default=2_000_000, ge=10_000, le=100_000_000)
    max_text_chars: int = Field(default=20_000, ge=1_000, le=1_000_000)
    replies_per_sender_per_hour: int = Field(default=5, ge=1, le=1000)
    confirmation_reminder_hours: float = Field(default=24.0, gt=0, le=8760)
    confirmation_expire_hours: float = Field(default=72.0, gt=0, le=8760)
    # authserv-id of the receiving server's Authentication-Results ("" = trust the topmost header)
    auth_server_id: Annotated[str, AfterValidator(_one_line), Field(max_length=255)] = ""
    # mail without that server's Authentication-Results never verifies a request
    require_auth_results: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> EmailConfig:
        # The reminder is sent only to a request not yet expired.
        _less(self, "confirmation_reminder_hours", "confirmation_expire_hours")
        if self.imap_security == "none" and not _is_loopback(self.imap_host):
            raise PydanticCustomError(
                "plaintext", f'imap_security "none" sends the mailbox password in clear: only for a loopback '
                f"imap_host, not {self.imap_host!r}", {"keys": "imap_security imap_host"})
        return self


class StorageConfig(_Table):
    database: Path = Path("data/privacy-bot.sqlite3")


class BackupConfig(_Table):
    """Copies of the database (bot/backup.py): where, how many, and the hour of the running bot's daily one."""

    enabled: bool = True
    # "" = a folder ``backups`` beside the database; a relative path is relative to the config file
    folder: Annotated[str, AfterValidator(_one_line)] = ""
    keep: int = Field(default=7, ge=1, le=1000)
    # hour of the day (0-23) in [requests] timezone
    hour: int = Field(default=3, ge=0, le=23)


class PolicyConfig(_Table):
    directory: Path = Path("policy_text")
    url: HttpUrl = "https://jetbit.ru/policy/"
    min_confidence: float = Field(default=0.15, ge=0.0, le=1.0)
    default_language: Literal["ru", "en"] = "ru"


class RequestsConfig(_Table):
    timezone: Annotated[str, AfterValidator(_timezone)] = "Europe/Moscow"
    # Upper bounds keep deadline arithmetic in range (a working-day count is walked day by day).
    access_working_days: int = Field(default=10, ge=1, le=250)
    access_extension_working_days: int = Field(default=5, ge=0, le=250)
    correction_working_days: int = Field(default=7, ge=1, le=250)
    deletion_calendar_days: int = Field(default=30, ge=1, le=366)
    max_open_per_requester: int = Field(default=3, ge=1, le=1000)
    remind_when_due_within_working_days: int = Field(default=2, ge=0, le=250)
    id_prefix: Annotated[str, AfterValidator(_id_prefix)] = "PR"


_CHOICE_ID = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")


def _choice_id(value: str) -> str:
    # Ids travel in Telegram button data and in the audit trail: short, and never a separator.
    if not _CHOICE_ID.match(value):
        raise PydanticCustomError("choice_id", "expected 1 to 24 small Latin letters, digits, _ or -, "
                                               "starting with a letter")
    return value


Label = Annotated[str, AfterValidator(_one_line), AfterValidator(_not_blank), Field(max_length=300)]


class Localized(_Table):
    """One text in both languages of the bot."""

    ru: Label
    en: Label

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.ru


class Choice(Localized):
    """One entry of a list staff choose from: an id (what is stored) and its label in each language."""

    id: Annotated[str, AfterValidator(_choice_id)]


def _unique_ids(choices: list[Choice]) -> list[Choice]:
    seen: set[str] = set()
    for choice in choices:
        if choice.id in seen:
            raise PydanticCustomError("unique", f"the id {choice.id!r} is listed twice")
        seen.add(choice.id)
    return choices


Choices = Annotated[list[Choice], Field(min_length=1, max_length=20), AfterValidator(_unique_ids)]


def _choices(*entries: tuple[str, str, str]) -> list[Choice]:
    return [Choice(id=id_, ru=ru, en=en) for id_, ru, en in entries]


class DestructionConfig(_Table):
    """The destruction act of a completed deletion (Roskomnadzor order 179 of 2022): who the operator is,
    how data are destroyed, and the lists staff choose from when they complete a deletion."""

    operator: Localized = Field(default_factory=lambda: Localized(
        ru="Веб-студия JetBit (jetbit.ru)", en="JetBit web studio (jetbit.ru)"))
    method: Localized = Field(default_factory=lambda: Localized(
        ru="удаление записей из баз данных и файлов информационных систем без возможности восстановления",
        en="erasure of the records from the databases and files of the information systems, beyond recovery"))
    categories: Choices = Field(default_factory=lambda: _choices(
        ("contacts", "контактные данные (фамилия, имя, адрес электронной почты, номер телефона)",
         "contact details (name, email address, phone number)"),
        ("account", "данные учётной записи (логин, настройки, история заказов)",
         "account data (login, settings, order history)"),
        ("correspondence", "переписка и обращения (письма, сообщения, заявки с сайта)",
         "correspondence (emails, messages, website forms)"),
        ("contract", "данные договоров и счетов (реквизиты, сведения об оплате)",
         "contract and billing data (details, payment records)"),
        ("technical", "технические данные (IP-адреса, файлы cookie, данные веб-аналитики)",
         "technical data (IP addresses, cookies, web analytics data)"),
    ))
    systems: Choices = Field(default_factory=lambda: _choices(
        ("website", "сайт jetbit.ru и его база данных", "the jetbit.ru website and its database"),
        ("crm", "CRM-система (клиенты и заявки)", "the CRM (clients and leads)"),
        ("mail", "корпоративная почта", "company mail"),
        ("privacy_bot", "бот по вопросам персональных данных (Telegram, почта)",
         "the privacy bot (Telegram, email)"),
        ("accounting", "бухгалтерская система", "the accounting system"),
        ("analytics", "системы веб-аналитики", "web analytics"),
        ("backups", "резервные копии", "backups"),
    ))

    def choices(self, kind: Literal["categories", "systems"]) -> list[Choice]:
        return self.categories if kind == "categories" else self.systems


class RetentionConfig(_Table):
    # At most a century: "now minus the period" must stay a representable date.
    message_bodies_days: int = Field(default=90, ge=1, le=36500)
    transcripts_days: int = Field(default=90, ge=1, le=36500)
    verification_codes_days: int = Field(default=1, ge=1, le=36500)
    conversations_days: int = Field(default=3, ge=1, le=36500)
    profiles_days: int = Field(default=365, ge=1, le=36500)
    security_events_days: int = Field(default=365, ge=1, le=36500)
    closed_request_details_days: int = Field(default=1095, ge=1, le=36500)
    learning_days: int = Field(default=365, ge=1, le=36500)
    run_every_hours: float = Field(default=24.0, gt=0, le=8760)


class OutboxConfig(_Table):
    max_attempts: int = Field(default=8, ge=1, le=100)
    base_backoff_seconds: float = Field(default=2.0, gt=0, le=86400)
    max_backoff_seconds: float = Field(default=3600.0, gt=0, le=7 * 86400)
    poll_seconds: float = Field(default=1.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _backoff_bounds(self) -> OutboxConfig:
        _less(self, "base_backoff_seconds", "max_backoff_seconds", or_equal=True)
        return self


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
    backup: BackupConfig = Field(default_factory=BackupConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    requests: RequestsConfig = Field(default_factory=RequestsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    destruction: DestructionConfig = Field(default_factory=DestructionConfig)
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
    def backup_folder(self) -> Path:
        if not self.backup.folder:
            return self.database_path.parent / "backups"
        return self.resolve_path(Path(self.backup.folder))

    @property
    def policy_directory(self) -> Path:
        return self.resolve_path(self.policy.directory)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.secrets.telegram_token)


_RESERVED = ("secrets", "source")  # Config fields that are not tables of the file


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


def _field_type(table: str, key: str) -> Any:
    """The declared type of ``[table] key``, or None when there is no such key."""
    field = Config.model_fields.get(table)
    model = field.annotation if field is not None and table not in _RESERVED else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    inner = model.model_fields.get(key)
    return None if inner is None else inner.annotation


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str]]:
    """The overrides by table, and for each (table, key) the variable it came from (named in errors)."""
    overrides: dict[str, dict[str, Any]] = {}
    origins: dict[tuple[str, str], str] = {}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"environment variable {name}: expected {ENV_PREFIX}<TABLE>__<KEY>")
        table, key = parts
        if key in SECRET_KEYS:
            raise ConfigError(f"environment variable {name}: secrets have their own variables "
                              f"({ENV_TELEGRAM_TOKEN}, {ENV_IMAP_PASSWORD}, {ENV_SMTP_PASSWORD})")
        if table in _RESERVED:
            raise ConfigError(f"environment variable {name}: [{table}] unknown key")
        overrides.setdefault(table, {})[key] = _parse_env_value(name, environ[name], _field_type(table, key))
        origins[(table, key)] = name
    return overrides, origins


def _parse_env_value(name: str, raw: str, declared: Any) -> Any:
    """By the type of the key it sets, not by how the value looks: a list is JSON, anything else is the
    text itself for the model to convert, so a user name of 100500 stays the string "100500"."""
    is_table = isinstance(declared, type) and issubclass(declared, BaseModel)  # such as {ru = "...", en = "..."}
    if typing.get_origin(declared) in (list, tuple, set, frozenset, dict) or is_table:
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            expected = 'a JSON object such as {"ru": "...", "en": "..."}' if is_table else "a JSON list such as [1, 2]"
            raise ConfigError(f"environment variable {name}: expected {expected} ({exc.msg})") from None
    return raw


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


def _origin_finder(source: str, origins: Mapping[tuple[str, str], str]) -> Callable[..., str]:
    """Where keys of one table were set: the environment variable(s), else the config file."""

    def where(table: str, *keys: str) -> str:
        names = [origins[(table, key)] for key in keys if (table, key) in origins]
        if not keys:  # a whole table: only its variables can have brought it in
            names = [name for (t, _), name in origins.items() if t == table]
        if not names:
            return source
        return f"environment variable{'s' if len(names) > 1 else ''} {', '.join(names)}"

    return where


def _format_validation_error(where: Callable[..., str], error: ValidationError) -> str:
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    key = ".".join(loc)
    kind = first["type"]
    if kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "missing":
        problem = "missing key"
    else:
        problem = first["msg"]
        if isinstance(first.get("input"), str | int | float | bool) and kind not in ("order", "plaintext"):
            problem += f" (got {first['input']!r})"
    if len(loc) >= 2:
        origin = where(loc[0], loc[1])
    else:
        named = str((first.get("ctx") or {}).get("keys", "")).split()
        origin = where(loc[0], *named) if loc else where("")
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{origin}: [{key}] {problem}{suffix}"


def _check_surroundings(config: Config, where: Callable[..., str]) -> None:
    """What the model alone cannot see: folders on this machine and secrets in the environment."""
    policy = config.policy_directory
    if not policy.is_dir():
        raise ConfigError(f"{where('policy', 'directory')}: [policy.directory] folder not found: {policy}")
    database = config.database_path
    if database.is_dir():
        raise ConfigError(f"{where('storage', 'database')}: [storage.database] is a folder, not a file: {database}")
    if database.parent.exists() and not database.parent.is_dir():
        raise ConfigError(f"{where('storage', 'database')}: [storage.database] {database.parent} is not a folder")
    backups = config.backup_folder
    if backups.exists() and not backups.is_dir():
        raise ConfigError(f"{where('backup', 'folder')}: [backup.folder] is a file, not a folder: {backups}")
    # A user name means the server wants a login: without the password every send would fail, one by one.
    if config.email.smtp_username and not config.secrets.smtp_password:
        raise ConfigError(f"{where('email', 'smtp_username')}: [email.smtp_username] is set, so "
                          f"{ENV_SMTP_PASSWORD} must be too")


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
    for reserved in _RESERVED:
        if reserved in data:
            raise ConfigError(f"{source}: [{reserved}] unknown key")

    overrides, origins = _env_overrides(environ)
    where = _origin_finder(source, origins)
    try:
        config = Config.model_validate(_merge(data, overrides))
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(where, exc)) from None
    config.secrets = Secrets(
        telegram_token=environ.get(ENV_TELEGRAM_TOKEN) or None,
        imap_password=environ.get(ENV_IMAP_PASSWORD) or None,
        smtp_password=environ.get(ENV_SMTP_PASSWORD) or None,
        pseudonym_salt=environ.get(ENV_PSEUDONYM_SALT) or None,
    )
    config.source = config_path.resolve()
    _check_surroundings(config, where)
    return config
