"""`telebridge vpbx sign` reproduces the manual's worked example."""

from __future__ import annotations

from pathlib import Path

from bridge.cli import main

EXAMPLE_SIGNATURE = "fc95a524342dc68df90f7488e6d821c5a8a3b667d585490b50ebf939f1202c36"
BODY = b'{"request_number": "+74951234567","from_sipuri": "test_user@cloudpbx.rt.ru"}'


def write_config(tmp_path: Path, client_id: str, key: str) -> Path:
    path = tmp_path / "telebridge.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path.as_posix()}"\n\n'
        f'[vpbx]\nclient_id = "{client_id}"\nsign_key = "{key}"\n',
        encoding="utf-8",
    )
    return path


def test_sign_prints_the_headers_for_a_body_file(tmp_path, capsys):
    config = write_config(
        tmp_path, "000003C405E6525C64C184258C44EC99", "00000716ABDA6D4DFF10F82BCBBFC532"
    )
    body = tmp_path / "body.json"
    body.write_bytes(BODY)
    assert main(["vpbx", "sign", "--config", str(config), str(body)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "X-Client-ID: 000003C405E6525C64C184258C44EC99",
        "X-Client-Sign: " + EXAMPLE_SIGNATURE,
    ]


def test_sign_refuses_without_a_key(tmp_path, capsys):
    config = write_config(tmp_path, "", "")
    assert main(["vpbx", "sign", "--config", str(config), str(config)]) == 2
    assert "sign_key" in capsys.readouterr().out
