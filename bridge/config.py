"""The one typed configuration, loaded and validated once at start.

Layers, lowest first: defaults in code, the TOML file (`--config` or
`TELEBRIDGE_CONFIG`), an optional secrets TOML file (`TELEBRIDGE_SECRETS_FILE`, same
sections, so passwords can live apart from the main file), then environment
variables `TELEBRIDGE_<SECTION>__<KEY>` (nested tables add `__`).

Any problem raises `ConfigError` naming the key; the CLI turns it into one line on
stderr and exit code 2 before anything starts.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bridge.config_base import Section
from bridge.longpoll.config import EventsConfig
from bridge.longpoll.contacts_config import ContactChannelConfig, PanelAuthConfig
from bridge.onec.config import OneCConfig
from jobs.cdr_loader.config import CdrConfig
from jobs.config import JobsConfig
from jobs.metrics.config import MetricsConfig
from jobs.routing_table.config import RoutingConfig
from pbx.config import AgiConfig, AsteriskConfig, VpbxConfig
from smart_ivr.config import IvrConfig
from tts_cache.config import TtsConfig

ENV_PREFIX = "TELEBRIDGE_"
CONFIG_ENV = "TELEBRIDGE_CONFIG"
SECRETS_ENV = "TELEBRIDGE_SECRETS_FILE"
_NOT_OVERRIDES = frozenset({CONFIG_ENV, SECRETS_ENV})


class ConfigError(Exception):
    """The configuration cannot be used; `key` names the offending setting."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class HttpConfig(Section):
    host: str = "0.0.0.0"  # noqa: S104 - 1C servers reach the bridge over the LAN
    port: int = Field(default=8222, ge=0, le=65535)
    max_body_bytes: int = Field(default=65536, ge=1024, le=64 * 1024 * 1024)
    shutdown_timeout_seconds: float = Field(default=4.0, gt=0, le=60)
    contacts: ContactChannelConfig = ContactChannelConfig()
    events: EventsConfig = EventsConfig()


class CrmdConfig(Section):
    """The listener that answers like MIKO's crmd, for unmodified AGI scripts."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8224, ge=0, le=65535)
    # The PBX's curl gives up after 5 s; answer (with the fallback) before that.
    deadline_seconds: float = Field(default=4.0, gt=0, le=30)
    # getcallerid: ask 1C over the contact channel when the local index has nothing.
    relay_caller_id: bool = True
    # getivrtext: "local" answers from the smart IVR's menu (1C is asked only if
    # that fails); "relay" asks 1C first, for a 1C that builds its own IVR text.
    ivr_text: Literal["local", "relay"] = "local"


class StorageConfig(Section):
    url: str = ""
    data_dir: Path = Path("./var")
    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    migrate_on_start: bool = True

    def database_url(self) -> str:
        """The SQLAlchemy URL; empty means the SQLite file in the data folder."""
        if self.url:
            return self.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'telebridge.db').as_posix()}"


class AuthConfig(Section):
    # Empty: the service generates one on first start and keeps it in the data folder.
    admin_token: SecretStr = SecretStr("")
    panel: PanelAuthConfig = PanelAuthConfig()


class LoggingConfig(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["console", "json"] = "console"


class ClusterConfig(Section):
    instance_name: str = ""
    redis_url: str = ""


class Config(BaseSettings):
    """The whole configuration; section names are an operator contract (§12)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    http: HttpConfig = HttpConfig()
    crmd: CrmdConfig = CrmdConfig()
    agi: AgiConfig = AgiConfig()
    storage: StorageConfig = StorageConfig()
    auth: AuthConfig = AuthConfig()
    onec: OneCConfig = OneCConfig()
    asterisk: AsteriskConfig = AsteriskConfig()
    vpbx: VpbxConfig = VpbxConfig()
    cdr: CdrConfig = CdrConfig()
    jobs: JobsConfig = JobsConfig()
    routing: RoutingConfig = RoutingConfig()
    ivr: IvrConfig = IvrConfig()
    tts: TtsConfig = TtsConfig()
    metrics: MetricsConfig = MetricsConfig()
    logging: LoggingConfig = LoggingConfig()
    cluster: ClusterConfig = ClusterConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the files, which arrive as init values.
        return (env_settings, init_settings)

    def sections(self) -> dict[str, Section]:
        return {name: getattr(self, name) for name in type(self).model_fields}

    def secrets(self) -> list[str]:
        """Every secret value configured, for log and error redaction."""
        found: list[str] = []
        for section in self.sections().values():
            found.extend(_secret_values(section))
        return [s for s in found if s]


def _secret_values(section: Section) -> list[str]:
    values: list[str] = []
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, Section):
            values.extend(_secret_values(value))
    return values


def load_config(path: Path | None = None) -> Config:
    """Load and validate; raises `ConfigError` naming the first bad key."""
    env = os.environ
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    data = _read_toml(path, "--config") if path else {}
    secrets_path = env.get(SECRETS_ENV)
    if secrets_path:
        _merge(data, _read_toml(Path(secrets_path), SECRETS_ENV))
    _check_env_sections(env)
    config = _validate(data)
    _check_required(config)
    return config


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(what, f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(what, f"{path} is not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> None:
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _check_env_sections(env: Mapping[str, str]) -> None:
    sections = set(Config.model_fields)
    for name in env:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in _NOT_OVERRIDES:
            continue
        section = upper.removeprefix(ENV_PREFIX).split("__", 1)[0].lower()
        if section not in sections:
            raise ConfigError(name, f"unknown config section {section!r}")


def _validate(data: dict[str, Any]) -> Config:
    unknown = sorted(set(data) - set(Config.model_fields))
    if unknown:
        raise ConfigError(unknown[0], "unknown config section")
    try:
        return Config(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown key"
        raise ConfigError(key, reason) from None


def _check_required(config: Config) -> None:
    for name, section in config.sections().items():
        for key, reason in section.missing():
            raise ConfigError(f"{name}.{key}", reason)
    _check_links(config)


def _check_links(config: Config) -> None:
    """Settings of one section that need another's."""
    if not config.onec.odata_url and any(
        d.enabled for d in config.routing.document_types
    ):
        raise ConfigError(
            "routing.document_types",
            "1C documents are read over OData: set onec.odata_url",
        )
