from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError


def test_defaults_are_safe_for_development() -> None:
    settings = Settings.from_env({})

    assert settings.environment == "development"
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.port == 8000
    assert settings.edge_port == 8080


def test_the_secret_never_prints() -> None:
    settings = Settings.from_env({"SECRET_KEY": "s3cr3t-value-that-is-long-enough-1234"})

    assert "s3cr3t" not in repr(settings)
    assert str(settings.secret_key) == "s3cr3t-value-that-is-long-enough-1234"


@pytest.mark.parametrize(
    "url",
    ["postgres://u:p@db:5432/shop", "postgresql://u:p@db:5432/shop"],
    ids=["postgres-scheme", "postgresql-scheme"],
)
def test_common_database_urls_use_the_psycopg_driver(url: str) -> None:
    settings = Settings.from_env({"DATABASE_URL": url})

    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/shop"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"EDGECART_ENV": "production"})


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(SettingsError, match="32 characters"):
        Settings.from_env({"EDGECART_ENV": "production", "SECRET_KEY": "short"})


PRODUCTION = {
    "EDGECART_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "SITE_URL": "https://shop.example",
}


def test_production_accepts_a_long_secret_and_https() -> None:
    settings = Settings.from_env(PRODUCTION)

    assert settings.is_production
    assert settings.session_cookie_secure


def test_production_refuses_cookies_without_https() -> None:
    with pytest.raises(SettingsError, match="SESSION_COOKIE_SECURE must be true"):
        Settings.from_env({**PRODUCTION, "SESSION_COOKIE_SECURE": "false"})


def test_production_refuses_a_plain_http_site_url() -> None:
    with pytest.raises(SettingsError, match="SITE_URL must be an https"):
        Settings.from_env({**PRODUCTION, "SITE_URL": "http://shop.example"})


def test_development_cookies_work_over_plain_http() -> None:
    assert not Settings.from_env({}).session_cookie_secure


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "eighty"}, "PORT must be a whole number"),
        ({"EDGECART_ENV": "staging"}, "EDGECART_ENV must be"),
        ({"SIGNIN_LIMIT_PER_IP": "lots"}, "SIGNIN_LIMIT_PER_IP must be count/seconds"),
        ({"CURRENCY": "EURO"}, "CURRENCY"),
        ({"PAGE_SIZE": "0"}, "PAGE_SIZE"),
        ({"LOG_JSON": "maybe"}, "LOG_JSON"),
        ({"OAUTH_ACCESS_TOKEN_SECONDS": "86400"}, "OAUTH_ACCESS_TOKEN_SECONDS must be between"),
        ({"OAUTH_REFRESH_TOKEN_DAYS": "0"}, "OAUTH_REFRESH_TOKEN_DAYS must be between"),
        ({"OAUTH_SIGNING_ALGORITHM": "HS256"}, "OAUTH_SIGNING_ALGORITHM must be ES256 or RS256"),
        ({"API_LIMIT_PER_CLIENT": "many"}, "API_LIMIT_PER_CLIENT must be count/seconds"),
    ],
    ids=[
        "port",
        "environment",
        "rate-limit",
        "currency",
        "page-size",
        "log-json",
        "access-token-lifetime",
        "refresh-token-lifetime",
        "signing-algorithm",
        "api-limit",
    ],
)
def test_bad_values_get_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_oauth_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"OAUTH_ACCESS_TOKEN_SECONDS": "300", "OAUTH_REFRESH_TOKEN_DAYS": "7",
         "OAUTH_SIGNING_ALGORITHM": "rs256"}
    )  # fmt: skip

    assert settings.oauth_access_token_seconds == 300
    assert settings.oauth_refresh_token_days == 7
    assert settings.oauth_signing_algorithm == "RS256"
