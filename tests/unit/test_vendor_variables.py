"""A vendor's key and base URL come from the variables its connection declares — explicit ``environ`` first,
then the environment, ``.env`` in the current folder, then the keys file — never from settings fields."""

from __future__ import annotations

import pytest

from storyreel.core.errors import ConfigError
from storyreel.core.settings import Settings
from storyreel.providers.connection import CONNECTIONS


@pytest.fixture
def clean(monkeypatch, tmp_path):  # noqa: ANN001, ANN201
    for name in ("OPENAI_API_KEY", "STORYREEL_OPENAI_API_KEY", "STORYREEL_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    return tmp_path


def test_the_key_comes_from_the_keys_file_then_dotenv_then_the_environment_then_explicit(clean, monkeypatch):
    openai = CONNECTIONS["openai"]
    keys = clean / "keys.env"
    keys.write_text("OPENAI_API_KEY=from-file\n")
    settings = Settings(keys_file=keys)
    assert openai.key(settings) == "from-file"
    (clean / ".env").write_text("OPENAI_API_KEY=from-dotenv\n")
    assert openai.key(settings) == "from-dotenv"
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    assert openai.key(settings) == "from-env"
    assert openai.key(Settings(keys_file=keys, environ={"OPENAI_API_KEY": "explicit"})) == "explicit"


def test_the_base_url_is_the_documented_default_unless_its_variable_is_set(clean, monkeypatch):
    openai = CONNECTIONS["openai"]
    assert openai.base_url_var == "STORYREEL_OPENAI_BASE_URL"
    assert openai.url(Settings()) == "https://api.openai.com/v1"
    monkeypatch.setenv("STORYREEL_OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    assert openai.url(Settings()) == "http://127.0.0.1:9/v1"


def test_a_missing_key_or_server_names_the_variable_to_set(clean):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        CONNECTIONS["openai"].key(Settings())
    with pytest.raises(ConfigError, match="STORYREEL_LLM_BASE_URL"):
        CONNECTIONS["llm-server"].url(Settings())
    assert CONNECTIONS["llm-server"].key(Settings()) == ""  # a local server takes no key


def test_settings_hold_no_vendor_fields():
    vendorish = [name for name in Settings.model_fields if any(v in name for v in ("openai", "gemini", "replicate", "openrouter",
                                                                                   "anthropic", "api_key", "_base_url"))]
    assert vendorish == []
