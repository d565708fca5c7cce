"""The `[tts]` section: defaults, conditional requirements, the example file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr

from bridge.config import Config, ConfigError, load_config
from tts_cache.config import TtsConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


def test_example_tts_section_equals_the_defaults() -> None:
    with EXAMPLE.open("rb") as fh:
        example = tomllib.load(fh)["tts"]
    defaults = plain(TtsConfig().model_dump())
    assert example == defaults


def test_defaults_need_no_account_and_live_under_the_data_dir() -> None:
    config = Config()
    assert config.tts.provider == "espeak"
    assert config.tts.missing() == []
    assert config.tts.cache_path(Path("/var/lib/tb")) == Path("/var/lib/tb/tts")
    assert TtsConfig(cache_dir="/srv/tts").cache_path(Path("x")) == Path("/srv/tts")


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"provider": "yandex"}, "tts.yandex.api_key"),
        ({"provider": "stc"}, "tts.stc.username"),
        (
            {"provider": "stc", "stc": {"username": "u", "domain_id": "1"}},
            "tts.stc.password",
        ),
    ],
)
def test_paid_providers_require_credentials(tmp_path, values, key) -> None:
    path = tmp_path / "c.toml"
    lines = ["[tts]"]
    nested = {k: v for k, v in values.items() if isinstance(v, dict)}
    lines += [f'{k} = "{v}"' for k, v in values.items() if not isinstance(v, dict)]
    for table, items in nested.items():
        lines.append(f"[tts.{table}]")
        lines += [f'{k} = "{v}"' for k, v in items.items()]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key


def test_secrets_are_secret_and_env_overrides_nest(monkeypatch) -> None:
    monkeypatch.setenv("TELEBRIDGE_TTS__PROVIDER", "yandex")
    monkeypatch.setenv("TELEBRIDGE_TTS__YANDEX__API_KEY", "AQVN-from-env-123")
    config = load_config(None)
    assert config.tts.yandex.api_key.get_secret_value() == "AQVN-from-env-123"
    assert "AQVN-from-env-123" in config.secrets()
    assert "AQVN-from-env-123" not in repr(config.tts)
