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
    "STRIPE_API_BASE": "https://api.stripe.com",
    "STRIPE_SECRET_KEY": "sk_live_not_a_real_key",
    "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret",
    "BANK_TRANSFER_IBAN": "GB82 WEST 1234 5698 7654 32",
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
        ({"SMTP_URL": "mail.example:25"}, "SMTP_URL"),
        ({"SMTP_URL": "http://mail.example"}, "SMTP_URL"),
        ({"MAIL_FROM": "shop"}, "MAIL_FROM"),
        ({"MAIL_FROM": "a@shop.test\nBcc: b@shop.test"}, "MAIL_FROM"),
        ({"OAUTH_ACCESS_TOKEN_SECONDS": "86400"}, "OAUTH_ACCESS_TOKEN_SECONDS must be between"),
        ({"OAUTH_REFRESH_TOKEN_DAYS": "0"}, "OAUTH_REFRESH_TOKEN_DAYS must be between"),
        ({"OAUTH_SIGNING_ALGORITHM": "HS256"}, "OAUTH_SIGNING_ALGORITHM must be ES256 or RS256"),
        ({"API_LIMIT_PER_CLIENT": "many"}, "API_LIMIT_PER_CLIENT must be count/seconds"),
    ],
    ids=[
        *("port", "environment", "rate-limit", "currency", "page-size", "log-json"),
        *("smtp-no-scheme", "smtp-wrong-scheme", "mail-from-no-address", "mail-from-two-lines"),
        *("access-token-lifetime", "refresh-token-lifetime", "signing-algorithm", "api-limit"),
    ],
)
def test_bad_values_get_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_mail_settings_default_to_the_local_sink_and_can_be_set() -> None:
    assert Settings.from_env({}).smtp_url == "smtp://127.0.0.1:1025"
    assert Settings.from_env({}).mail_from == "Edgecart <shop@edgecart.test>"

    settings = Settings.from_env(
        {"SMTP_URL": "smtps://shop:p%40ss@mail.example:465", "MAIL_FROM": "Shop <s@shop.example>"}
    )

    assert settings.smtp_url == "smtps://shop:p%40ss@mail.example:465"
    assert settings.mail_from == "Shop <s@shop.example>"


OIDC = {
    "OIDC_PROVIDER": "Google",
    "OIDC_LABEL": "Google",
    "OIDC_ISSUER": "https://accounts.google.com/",
    "OIDC_CLIENT_ID": "shop.apps.example",
    "OIDC_CLIENT_SECRET": "oidc-secret-value",
}


def test_oidc_is_off_unless_a_provider_is_named() -> None:
    assert not Settings.from_env({}).oidc_enabled


def test_oidc_settings_are_read_and_the_secret_never_prints() -> None:
    settings = Settings.from_env({**PRODUCTION, **OIDC})

    assert settings.oidc_enabled
    assert settings.oidc_provider == "google"
    assert settings.oidc_issuer == "https://accounts.google.com"
    assert settings.oidc_redirect_uri == "https://shop.example/account/oidc/google/callback"
    assert "oidc-secret-value" not in repr(settings)


def test_the_label_defaults_to_the_provider_name() -> None:
    settings = Settings.from_env({**OIDC, "OIDC_PROVIDER": "keycloak", "OIDC_LABEL": ""})

    assert settings.oidc_display_name == "Keycloak"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"OIDC_PROVIDER": "my provider"}, "OIDC_PROVIDER", id="bad-name"),
        pytest.param({"OIDC_ISSUER": ""}, "OIDC_ISSUER", id="no-issuer"),
        pytest.param({"OIDC_ISSUER": "accounts.google.com"}, "OIDC_ISSUER", id="not-a-url"),
        pytest.param({"OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET", id="no-secret"),
        pytest.param({"OIDC_SCOPES": "email"}, "openid", id="no-openid-scope"),
    ],
)
def test_incomplete_oidc_settings_are_refused(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**OIDC, **changes})


def test_production_needs_an_https_issuer() -> None:
    local = {**OIDC, "OIDC_ISSUER": "http://127.0.0.1:9000"}

    assert Settings.from_env(local).oidc_issuer == "http://127.0.0.1:9000"
    with pytest.raises(SettingsError, match="https"):
        Settings.from_env({**PRODUCTION, **local})


def test_oauth_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"OAUTH_ACCESS_TOKEN_SECONDS": "300", "OAUTH_REFRESH_TOKEN_DAYS": "7",
         "OAUTH_SIGNING_ALGORITHM": "rs256"}
    )  # fmt: skip

    assert settings.oauth_access_token_seconds == 300
    assert settings.oauth_refresh_token_days == 7
    assert settings.oauth_signing_algorithm == "RS256"


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        pytest.param("STRIPE_API_BASE", "http://127.0.0.1:55111", "simulator", id="simulator"),
        pytest.param("STRIPE_API_BASE", "http://stripe.internal", "simulator", id="plain-http"),
        pytest.param("STRIPE_SECRET_KEY", "sk_test_edgecart_simulator", "STRIPE_SECRET_KEY",
                     id="secret-key"),
        pytest.param("STRIPE_WEBHOOK_SECRET", "whsec_edgecart_simulator",
                     "STRIPE_WEBHOOK_SECRET", id="webhook-secret"),
    ],
)  # fmt: skip
def test_production_refuses_the_payment_simulator_defaults(
    name: str, value: str, complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        Settings.from_env({**PRODUCTION, name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("STRIPE_CAPTURE", "later", id="capture"),
        pytest.param("PAYMENT_WINDOW_MINUTES", "10", id="window-below-stripe-minimum"),
        pytest.param("STRIPE_TIMEOUT_SECONDS", "0", id="timeout"),
    ],
)
def test_bad_payment_settings_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_production_refuses_the_demo_bank_account() -> None:
    with pytest.raises(SettingsError, match="BANK_TRANSFER_IBAN is the demo account"):
        Settings.from_env({**PRODUCTION, "BANK_TRANSFER_IBAN": "DE89 3704 0044 0532 0130 00"})
