"""TASKWIRE_API_URL / TASKWIRE_API_KEY: environment > active profile > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskwire.client import auth_metadata
from taskwire.settings import DEFAULT_API_URL, Settings, grpc_target, load_settings


def write_profiles(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "profiles.toml").write_text(text)


def test_defaults_without_env_or_profile(tmp_path: Path) -> None:
    settings = load_settings({"TASKWIRE_HOME": str(tmp_path)})
    assert settings == Settings(api_url=DEFAULT_API_URL, api_key=None)
    assert settings.grpc_target == "127.0.0.1:7070"


def test_active_profile_is_read(tmp_path: Path) -> None:
    write_profiles(
        tmp_path,
        'active = "prod"\n'
        '[profiles.default]\nTASKWIRE_API_URL = "http://default:1"\n'
        '[profiles.prod]\nTASKWIRE_API_URL = "http://prod.internal:7070"\nTASKWIRE_API_KEY = "s3cret"\n',
    )
    settings = load_settings({"TASKWIRE_HOME": str(tmp_path)})
    assert settings.api_url == "http://prod.internal:7070"
    assert settings.api_key == "s3cret"


def test_environment_wins_over_the_profile(tmp_path: Path) -> None:
    write_profiles(tmp_path, 'active = "default"\n[profiles.default]\nTASKWIRE_API_URL = "http://profile:1"\n')
    settings = load_settings({"TASKWIRE_HOME": str(tmp_path), "TASKWIRE_API_URL": "http://env:2"})
    assert settings.api_url == "http://env:2"


def test_taskwire_profile_selects_another_profile(tmp_path: Path) -> None:
    write_profiles(
        tmp_path,
        'active = "default"\n[profiles.default]\nTASKWIRE_API_URL = "http://a:1"\n'
        '[profiles.staging]\nTASKWIRE_API_URL = "http://b:2"\n',
    )
    settings = load_settings({"TASKWIRE_HOME": str(tmp_path), "TASKWIRE_PROFILE": "staging"})
    assert settings.api_url == "http://b:2"


def test_home_defaults_to_dot_taskwire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_profiles(tmp_path / ".taskwire", '[profiles.default]\nTASKWIRE_API_URL = "http://home:3"\n')
    assert load_settings({}).api_url == "http://home:3"


def test_invalid_profiles_file_is_reported(tmp_path: Path) -> None:
    write_profiles(tmp_path, "active = \n")
    with pytest.raises(ValueError, match="profiles.toml"):
        load_settings({"TASKWIRE_HOME": str(tmp_path)})


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://127.0.0.1:7070", "127.0.0.1:7070"),
        ("http://localhost:9000/", "localhost:9000"),
        ("127.0.0.1:7070", "127.0.0.1:7070"),
        ("http://example.com", "example.com:80"),
        ("https://example.com", "example.com:443"),
        ("http://[::1]:7070", "[::1]:7070"),
    ],
)
def test_grpc_target_strips_the_scheme(url: str, target: str) -> None:
    assert grpc_target(url) == target


def test_grpc_target_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="http"):
        grpc_target("ftp://host:21")


def test_api_key_becomes_a_bearer_header() -> None:
    assert auth_metadata(Settings(api_key="abc")) == (("authorization", "Bearer abc"),)
    assert auth_metadata(Settings()) == ()


def test_several_addresses_calls_use_the_first_and_a_worker_takes_them_in_turn(tmp_path: Path) -> None:
    settings = load_settings(
        {"TASKWIRE_HOME": str(tmp_path), "TASKWIRE_API_URL": "http://tw1:7070, https://tw2:7443,http://tw3:7070"}
    )
    assert settings.api_urls == ["http://tw1:7070", "https://tw2:7443", "http://tw3:7070"]
    assert settings.grpc_target == "tw1:7070"
    assert not settings.secure
    turns = [settings.for_server(i) for i in range(4)]
    assert [s.grpc_target for s in turns] == ["tw1:7070", "tw2:7443", "tw3:7070", "tw1:7070"]
    assert [s.secure for s in turns] == [False, True, False, False]
