"""Loading the configuration: layers, and refusal of bad values with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, load_config


def write(tmp_path: Path, text: str, name: str = "telebridge.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestLayers:
    def test_given_no_file_when_loading_then_embedded_defaults(self) -> None:
        config = load_config(None)
        assert config.http.port == 8222
        assert config.crmd.host == "127.0.0.1"
        assert config.crmd.port == 8224
        assert config.agi.port == 4573
        assert config.storage.database_url().startswith("sqlite+aiosqlite:///")
        assert config.asterisk.port == 5038

    def test_given_file_when_loading_then_its_values_win(self, tmp_path: Path) -> None:
        config = load_config(write(tmp_path, "[http]\nport = 9000\n"))
        assert config.http.port == 9000
        assert config.http.host == "0.0.0.0"  # noqa: S104 - the documented default

    def test_given_env_override_when_loading_then_env_wins_over_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TELEBRIDGE_HTTP__PORT", "9100")
        monkeypatch.setenv("TELEBRIDGE_AUTH__ADMIN_TOKEN", "from-env-token")
        config = load_config(write(tmp_path, "[http]\nport = 9000\nhost = 'h'\n"))
        assert config.http.port == 9100
        assert config.http.host == "h"
        assert config.auth.admin_token.get_secret_value() == "from-env-token"

    def test_given_config_env_when_no_path_then_file_from_env(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            "TELEBRIDGE_CONFIG", str(write(tmp_path, "[http]\nport=1\n"))
        )
        assert load_config(None).http.port == 1

    def test_given_secrets_file_when_loading_then_merged_over_main_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        main = write(tmp_path, "[onec]\nodata_url = 'http://1c/x/'\nusername = 'u'\n")
        secrets = write(tmp_path, "[onec]\npassword = 's3cr3t-pass'\n", "secrets.toml")
        monkeypatch.setenv("TELEBRIDGE_SECRETS_FILE", str(secrets))
        config = load_config(main)
        assert config.onec.username == "u"
        assert config.onec.password.get_secret_value() == "s3cr3t-pass"
        assert "s3cr3t-pass" not in repr(config)
        assert "s3cr3t-pass" in config.secrets()


class TestRefusals:
    """Every refusal names the key, so the operator knows what to fix."""

    @pytest.mark.parametrize(
        ("toml", "key", "reason"),
        [
            ("[http]\nport = 'eighty'\n", "http.port", "integer"),
            ("[http]\nport = 70000\n", "http.port", "less than or equal"),
            ("[http]\nprot = 1\n", "http.prot", "unknown key"),
            ("[htp]\nport = 1\n", "htp", "unknown config section"),
            ("[logging]\nformat = 'xml'\n", "logging.format", "console"),
            (
                "[jobs]\ntimezone = 'Mars/Olympus'\n",
                "jobs.timezone",
                "unknown time zone",
            ),
            ("[asterisk]\nhost = 'pbx'\n", "asterisk.username", "required"),
            ("[cdr]\nsource = 'csv'\n", "cdr.path", "required"),
            ("[onec]\nodata_url = 'http://1c/'\n", "onec.username", "required"),
            ("[onec.writeback]\nenabled = true\n", "onec.writeback.enabled", "needs"),
            (
                "[onec.writeback]\nbatch_size = 0\n",
                "onec.writeback.batch_size",
                "greater than or equal to 1",
            ),
            ("[vpbx]\nclient_id = 'abc'\n", "vpbx.sign_key", "required"),
        ],
    )
    def test_given_bad_value_when_loading_then_key_named(
        self, tmp_path: Path, toml: str, key: str, reason: str
    ) -> None:
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, toml))
        assert caught.value.key == key
        assert reason in caught.value.reason

    def test_given_bad_env_value_when_loading_then_key_named(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TELEBRIDGE_HTTP__PORT", "not-a-port")
        with pytest.raises(ConfigError) as caught:
            load_config(None)
        assert caught.value.key == "http.port"

    def test_given_env_for_unknown_section_when_loading_then_refused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TELEBRIDGE_HTTPX__PORT", "1")
        with pytest.raises(ConfigError) as caught:
            load_config(None)
        assert caught.value.key == "TELEBRIDGE_HTTPX__PORT"

    def test_given_missing_file_when_loading_then_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="file not found"):
            load_config(tmp_path / "absent.toml")

    def test_given_broken_toml_when_loading_then_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="not valid TOML"):
            load_config(write(tmp_path, "[http\nport=1"))


class TestRoutingAndIvrRefusals:
    """A misconfigured document type or schedule is refused at load, field named."""

    DOC = (
        "[[routing.document_types]]\nname = 'orders'\nentity = 'Document_Заказ'\n"
        "client_field = 'Контрагент_Key'\nemployee_field = 'Менеджер_Key'\n"
    )

    @pytest.mark.parametrize(
        ("toml", "key", "reason"),
        [
            (
                DOC + "weight = 0\nvalidity_days = 30\n",
                "routing.document_types.0.weight",
                "greater than 0",
            ),
            (
                DOC + "weight = 1\n",
                "routing.document_types.0.validity_days",
                "required",
            ),
            (
                DOC.replace("Document_Заказ", "Заказ")
                + "weight = 1\nvalidity_days = 3\n",
                "routing.document_types.0.entity",
                "pattern",
            ),
            (
                DOC.replace("'orders'", "'calls'") + "weight = 1\nvalidity_days = 3\n",
                "routing.document_types",
                "built-in",
            ),
            (
                (
                    "[[ivr.schedules]]\nemployee = '201'\n"
                    "available = ['fry 09:00-18:00']\n"
                ),
                "ivr.schedules.0.available",
                "unknown weekday",
            ),
            (
                "[[ivr.schedules]]\nemployee = '201'\naway = ['mon 25:00-26:00']\n",
                "ivr.schedules.0.away",
                "impossible time",
            ),
            (
                "[ivr]\ngreeting_entry = '{who}, нажмите {digit}'\n",
                "ivr.greeting_entry",
                "{name}",
            ),
        ],
    )
    def test_given_bad_routing_or_ivr_value_then_field_named(
        self, tmp_path: Path, toml: str, key: str, reason: str
    ) -> None:
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, toml))
        assert caught.value.key == key
        assert reason in caught.value.reason
