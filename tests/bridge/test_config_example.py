"""config.example.toml documents every key, with its true default."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from bridge.config import Config, load_config

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= model_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def toml_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in data.items():
        if isinstance(value, dict) and value:
            keys |= toml_keys(value, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return {k: plain(getattr(value, k)) for k in type(value).model_fields}
    return value


def test_every_config_key_is_in_the_example() -> None:
    documented = toml_keys(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    missing = model_keys(Config) - documented
    assert not missing, (
        f"config keys missing from config.example.toml: {sorted(missing)}"
    )


def test_the_example_shows_the_defaults() -> None:
    assert plain(load_config(EXAMPLE)) == plain(Config())


def test_every_table_in_the_example_is_described() -> None:
    """A comment right above or right below each table header says what it is."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("["):
            around = (
                lines[number - 1],
                lines[number + 1] if number + 1 < len(lines) else "",
            )
            assert any(a.startswith("#") for a in around), f"{line} has no description"
