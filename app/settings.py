"""One Settings object, read from the environment.

Every value has a safe development default; `Settings.from_env` refuses to build a production
configuration that still carries a development default secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import Secret

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105  (refused in production)
# The local payment simulator (app/paysim) and its keys: the defaults, refused in production.
DEV_STRIPE_API_BASE = "http://127.0.0.1:55111"
DEV_STRIPE_SECRET_KEY = "sk_test_edgecart_simulator"  # noqa: S105
DEV_STRIPE_WEBHOOK_SECRET = "whsec_edgecart_simulator"  # noqa: S105
# The demo bank account for bank transfers (the IBAN from the standard's own example): refused
# in production, where shoppers would send real money to it.
DEV_BANK_TRANSFER_IBAN = "DE89370400440532013000"


RATE_SETTINGS = (
    "signin_limit_per_account",
    "signin_limit_per_ip",
    "register_limit_per_ip",
    "reset_limit_per_ip",
    "api_limit_per_client",
)


class SettingsError(ValueError):
    """The environment describes a configuration Edgecart must not run with."""


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/edgecart"
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: Secret = field(default_factory=lambda: Secret(DEV_SECRET_KEY))
    host: str = "127.0.0.1"
    port: int = 8000
    edge_port: int = 8080
    edge_purge_url: str = ""
    # Where mail goes: smtp://[user:password@]host:port (STARTTLS when the server offers it) or
    # smtps://… (TLS from the first byte). The default is the sink `edgecart dev` starts.
    smtp_url: str = "smtp://127.0.0.1:1025"
    mail_from: str = "Edgecart <shop@edgecart.test>"
    sms_api_url: str = ""
    data_dir: Path = PROJECT_ROOT / "var"
    static_dir: Path = PROJECT_ROOT / "build" / "static"
    media_dir: Path = PROJECT_ROOT / "var" / "media"
    currency: str = "EUR"
    page_size: int = 24
    db_pool_size: int = 10
    log_json: bool = True
    # Edge cache lifetimes (seconds) for public pages: short for browsers, long for the edge,
    # which is purged by surrogate key when something changes.
    browser_max_age: int = 60
    edge_max_age: int = 86400
    # The shop's public address, for canonical links, Open Graph, JSON-LD and sitemaps. Never the
    # request's Host: pages are cached at the edge and served to every host name alike.
    site_url: str = "http://127.0.0.1:8000"
    # URLs per sitemap file; the sitemap protocol allows at most 50,000.
    sitemap_page_size: int = 50_000
    # Session cookies only over HTTPS; required in production.
    session_cookie_secure: bool = False
    # Rate limits as "count/seconds" (see app/web/ratelimit.py and docs/security.md).
    signin_limit_per_account: str = "5/900"
    signin_limit_per_ip: str = "30/300"
    register_limit_per_ip: str = "10/3600"
    reset_limit_per_ip: str = "5/3600"
    api_limit_per_client: str = "600/60"
    # OAuth 2.0 for the API (docs/oauth.md): access-token lifetime, refresh-token idle lifetime,
    # and the algorithm of newly made signing keys.
    oauth_access_token_seconds: int = 600
    oauth_refresh_token_days: int = 30
    oauth_signing_algorithm: str = "ES256"
    # Peers whose X-Forwarded-For is believed (the edge); others are the client themselves.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # "Continue with …" sign-in over OpenID Connect (docs/oidc.md). An empty OIDC_PROVIDER turns
    # it off; otherwise it is the short name in /account/oidc/<provider>/… and in the accounts'
    # linked identities, so keep it once people have signed in with it.
    oidc_provider: str = ""
    oidc_label: str = ""
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: Secret = field(default_factory=lambda: Secret(""))
    oidc_scopes: str = "openid email profile"
    # Catalog prices include VAT (the demo's footer says so); false treats them as net and
    # adds the tax at checkout.
    prices_include_tax: bool = True
    # How long a placed, unpaid order holds its stock before it is cancelled.
    reservation_minutes: int = 30
    # Card payments through Stripe Checkout (docs/payments.md). The defaults point at the local
    # simulator; production refuses them. Capture: automatic (at once) or manual (authorize on
    # the hosted page, the shop captures right after).
    stripe_api_base: str = DEV_STRIPE_API_BASE
    stripe_secret_key: Secret = field(default_factory=lambda: Secret(DEV_STRIPE_SECRET_KEY))
    stripe_webhook_secret: Secret = field(default_factory=lambda: Secret(DEV_STRIPE_WEBHOOK_SECRET))
    stripe_capture: str = "automatic"
    stripe_timeout_seconds: int = 10
    # How long a hosted payment page stays open (Stripe allows 30 minutes to 24 hours); the
    # order's stock is held that long plus PAYMENT_GRACE_MINUTES for a late webhook.
    payment_window_minutes: int = 30
    payment_grace_minutes: int = 10
    # The reconciliation job asks the provider about attempts unsettled for this long.
    payment_reconcile_after_minutes: int = 5
    # Bank transfer, the second payment method (docs/payments.md): the account shoppers pay
    # into, and how many days an order waiting for a transfer holds its stock.
    bank_transfer_holder: str = "Edgecart Demo Shop"
    bank_transfer_iban: str = DEV_BANK_TRANSFER_IBAN
    bank_transfer_bic: str = "COBADEFFXXX"
    bank_transfer_days: int = 7
    # The circuit breaker around the card provider: this many failures (timeouts, connection
    # errors, 5xx) within the window open it; after the cool-down one trial call goes through.
    payment_breaker_failures: int = 3
    payment_breaker_window_seconds: int = 30
    payment_breaker_cooldown_seconds: int = 20

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def payment_page_origin(self) -> str:
        """Where the hosted payment page lives (forms that lead there must be allowed to):
        Stripe Checkout for Stripe's API, the simulator itself otherwise."""
        if self.stripe_api_base.startswith("https://api.stripe.com"):
            return "https://checkout.stripe.com"
        scheme, _, rest = self.stripe_api_base.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_provider)

    @property
    def oidc_display_name(self) -> str:
        """What "Continue with …" names: OIDC_LABEL, else the provider's short name."""
        return self.oidc_label or self.oidc_provider.replace("-", " ").title()

    @property
    def oidc_redirect_uri(self) -> str:
        """The callback registered at the provider: the shop's public address, never the
        request's Host (so the provider can hold exactly one)."""
        return f"{self.site_url}/account/oidc/{self.oidc_provider}/callback"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        data_dir = Path(env.get("EDGECART_DATA_DIR", str(defaults.data_dir)))
        production = env.get("EDGECART_ENV", defaults.environment) == "production"
        settings = cls(
            environment=env.get("EDGECART_ENV", defaults.environment),
            database_url=_async_database_url(env.get("DATABASE_URL", defaults.database_url)),
            redis_url=env.get("REDIS_URL", defaults.redis_url),
            secret_key=Secret(env.get("SECRET_KEY", DEV_SECRET_KEY)),
            host=env.get("HOST", defaults.host),
            port=_int(env.get("PORT", str(defaults.port)), "PORT"),
            edge_port=_int(env.get("EDGE_PORT", str(defaults.edge_port)), "EDGE_PORT"),
            edge_purge_url=env.get("EDGE_PURGE_URL", defaults.edge_purge_url),
            smtp_url=env.get("SMTP_URL", defaults.smtp_url).strip(),
            mail_from=env.get("MAIL_FROM", defaults.mail_from).strip(),
            sms_api_url=env.get("SMS_API_URL", defaults.sms_api_url),
            data_dir=data_dir,
            static_dir=Path(env.get("STATIC_DIR", str(defaults.static_dir))),
            media_dir=Path(env.get("MEDIA_DIR", str(data_dir / "media"))),
            currency=env.get("CURRENCY", defaults.currency).upper(),
            page_size=_int(env.get("PAGE_SIZE", str(defaults.page_size)), "PAGE_SIZE"),
            db_pool_size=_int(env.get("DB_POOL_SIZE", str(defaults.db_pool_size)), "DB_POOL_SIZE"),
            log_json=_bool(env.get("LOG_JSON", "true"), "LOG_JSON"),
            site_url=env.get("SITE_URL", defaults.site_url).strip().rstrip("/"),
            sitemap_page_size=_int(
                env.get("SITEMAP_PAGE_SIZE", str(defaults.sitemap_page_size)), "SITEMAP_PAGE_SIZE"
            ),
            session_cookie_secure=_bool(
                env.get("SESSION_COOKIE_SECURE", "true" if production else "false"),
                "SESSION_COOKIE_SECURE",
            ),
            signin_limit_per_account=env.get(
                "SIGNIN_LIMIT_PER_ACCOUNT", defaults.signin_limit_per_account
            ),
            signin_limit_per_ip=env.get("SIGNIN_LIMIT_PER_IP", defaults.signin_limit_per_ip),
            register_limit_per_ip=env.get("REGISTER_LIMIT_PER_IP", defaults.register_limit_per_ip),
            reset_limit_per_ip=env.get("RESET_LIMIT_PER_IP", defaults.reset_limit_per_ip),
            api_limit_per_client=env.get("API_LIMIT_PER_CLIENT", defaults.api_limit_per_client),
            oauth_access_token_seconds=_int(
                env.get("OAUTH_ACCESS_TOKEN_SECONDS", str(defaults.oauth_access_token_seconds)),
                "OAUTH_ACCESS_TOKEN_SECONDS",
            ),
            oauth_refresh_token_days=_int(
                env.get("OAUTH_REFRESH_TOKEN_DAYS", str(defaults.oauth_refresh_token_days)),
                "OAUTH_REFRESH_TOKEN_DAYS",
            ),
            oauth_signing_algorithm=env.get(
                "OAUTH_SIGNING_ALGORITHM", defaults.oauth_signing_algorithm
            ).upper(),
            prices_include_tax=_bool(env.get("PRICES_INCLUDE_TAX", "true"), "PRICES_INCLUDE_TAX"),
            reservation_minutes=_int(
                env.get("RESERVATION_MINUTES", str(defaults.reservation_minutes)),
                "RESERVATION_MINUTES",
            ),
            stripe_api_base=env.get("STRIPE_API_BASE", defaults.stripe_api_base)
            .strip()
            .rstrip("/"),
            stripe_secret_key=Secret(env.get("STRIPE_SECRET_KEY", DEV_STRIPE_SECRET_KEY)),
            stripe_webhook_secret=Secret(
                env.get("STRIPE_WEBHOOK_SECRET", DEV_STRIPE_WEBHOOK_SECRET)
            ),
            stripe_capture=env.get("STRIPE_CAPTURE", defaults.stripe_capture).strip().lower(),
            stripe_timeout_seconds=_int(
                env.get("STRIPE_TIMEOUT_SECONDS", str(defaults.stripe_timeout_seconds)),
                "STRIPE_TIMEOUT_SECONDS",
            ),
            payment_window_minutes=_int(
                env.get("PAYMENT_WINDOW_MINUTES", str(defaults.payment_window_minutes)),
                "PAYMENT_WINDOW_MINUTES",
            ),
            payment_grace_minutes=_int(
                env.get("PAYMENT_GRACE_MINUTES", str(defaults.payment_grace_minutes)),
                "PAYMENT_GRACE_MINUTES",
            ),
            payment_reconcile_after_minutes=_int(
                env.get(
                    "PAYMENT_RECONCILE_AFTER_MINUTES", str(defaults.payment_reconcile_after_minutes)
                ),
                "PAYMENT_RECONCILE_AFTER_MINUTES",
            ),
            bank_transfer_holder=" ".join(
                env.get("BANK_TRANSFER_HOLDER", defaults.bank_transfer_holder).split()
            ),
            bank_transfer_iban=normalise_iban(
                env.get("BANK_TRANSFER_IBAN", defaults.bank_transfer_iban)
            ),
            bank_transfer_bic="".join(
                env.get("BANK_TRANSFER_BIC", defaults.bank_transfer_bic).split()
            ).upper(),
            bank_transfer_days=_int(
                env.get("BANK_TRANSFER_DAYS", str(defaults.bank_transfer_days)),
                "BANK_TRANSFER_DAYS",
            ),
            payment_breaker_failures=_int(
                env.get("PAYMENT_BREAKER_FAILURES", str(defaults.payment_breaker_failures)),
                "PAYMENT_BREAKER_FAILURES",
            ),
            payment_breaker_window_seconds=_int(
                env.get(
                    "PAYMENT_BREAKER_WINDOW_SECONDS", str(defaults.payment_breaker_window_seconds)
                ),
                "PAYMENT_BREAKER_WINDOW_SECONDS",
            ),
            payment_breaker_cooldown_seconds=_int(
                env.get(
                    "PAYMENT_BREAKER_COOLDOWN_SECONDS",
                    str(defaults.payment_breaker_cooldown_seconds),
                ),
                "PAYMENT_BREAKER_COOLDOWN_SECONDS",
            ),
            trusted_proxies=tuple(
                address.strip()
                for address in env.get("TRUSTED_PROXIES", ",".join(defaults.trusted_proxies)).split(
                    ","
                )
                if address.strip()
            ),
            oidc_provider=env.get("OIDC_PROVIDER", "").strip().lower(),
            oidc_label=env.get("OIDC_LABEL", "").strip(),
            oidc_issuer=env.get("OIDC_ISSUER", "").strip().rstrip("/"),
            oidc_client_id=env.get("OIDC_CLIENT_ID", "").strip(),
            oidc_client_secret=Secret(env.get("OIDC_CLIENT_SECRET", "")),
            oidc_scopes=" ".join(env.get("OIDC_SCOPES", defaults.oidc_scopes).split()),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.environment not in {"development", "test", "production"}:
            raise SettingsError(
                f"EDGECART_ENV must be development, test or production, not {self.environment!r}"
            )
        if self.is_production and str(self.secret_key) == DEV_SECRET_KEY:
            raise SettingsError("SECRET_KEY is the development default: set a long random value")
        if self.is_production and len(str(self.secret_key)) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters in production")
        if self.is_production and not self.session_cookie_secure:
            raise SettingsError("SESSION_COOKIE_SECURE must be true in production (HTTPS only)")
        if self.is_production and not self.site_url.startswith("https://"):
            raise SettingsError("SITE_URL must be an https:// address in production")
        for name in RATE_SETTINGS:
            value = getattr(self, name)
            if not re.fullmatch(r"[1-9]\d{0,6}/[1-9]\d{0,6}", value):
                raise SettingsError(
                    f"{name.upper()} must be count/seconds, like 5/900, not {value!r}"
                )
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise SettingsError(
                f"CURRENCY must be a three-letter ISO 4217 code, not {self.currency!r}"
            )
        if not 1 <= self.page_size <= 200:
            raise SettingsError("PAGE_SIZE must be between 1 and 200")
        if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*[^/?#\s])?", self.site_url):
            raise SettingsError(
                f"SITE_URL must be an http(s) address without a trailing slash, query or "
                f"fragment (like https://shop.example), not {self.site_url!r}"
            )
        if not 1 <= self.reservation_minutes <= 24 * 60:
            raise SettingsError("RESERVATION_MINUTES must be between 1 and 1440")
        if not 1 <= self.sitemap_page_size <= 50_000:
            raise SettingsError("SITEMAP_PAGE_SIZE must be between 1 and 50000")
        if not re.fullmatch(r"smtps?://[^/?#\s]+", self.smtp_url):
            raise SettingsError(
                "SMTP_URL must look like smtp://host:port or smtps://user:password@host:port"
            )
        if "@" not in self.mail_from or any(c in self.mail_from for c in "\r\n"):
            raise SettingsError(
                f"MAIL_FROM must be one address, like Shop <shop@example.com>, "
                f"not {self.mail_from!r}"
            )
        if not 60 <= self.oauth_access_token_seconds <= 3600:
            raise SettingsError("OAUTH_ACCESS_TOKEN_SECONDS must be between 60 and 3600")
        if not 1 <= self.oauth_refresh_token_days <= 365:
            raise SettingsError("OAUTH_REFRESH_TOKEN_DAYS must be between 1 and 365")
        if self.oauth_signing_algorithm not in {"ES256", "RS256"}:
            raise SettingsError(
                "OAUTH_SIGNING_ALGORITHM must be ES256 or RS256, "
                f"not {self.oauth_signing_algorithm!r}"
            )
        self._validate_payments()
        if self.oidc_enabled:
            self._validate_oidc()

    def _validate_payments(self) -> None:
        if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", self.stripe_api_base):
            raise SettingsError(
                f"STRIPE_API_BASE must be an http(s) address, not {self.stripe_api_base!r}"
            )
        if self.stripe_capture not in {"automatic", "manual"}:
            raise SettingsError(
                f"STRIPE_CAPTURE must be automatic or manual, not {self.stripe_capture!r}"
            )
        if not 1 <= self.stripe_timeout_seconds <= 60:
            raise SettingsError("STRIPE_TIMEOUT_SECONDS must be between 1 and 60")
        if not 30 <= self.payment_window_minutes <= 24 * 60:
            raise SettingsError("PAYMENT_WINDOW_MINUTES must be between 30 and 1440")
        if not 0 <= self.payment_grace_minutes <= 24 * 60:
            raise SettingsError("PAYMENT_GRACE_MINUTES must be between 0 and 1440")
        if not 1 <= self.payment_reconcile_after_minutes <= 24 * 60:
            raise SettingsError("PAYMENT_RECONCILE_AFTER_MINUTES must be between 1 and 1440")
        self._validate_bank_transfer()
        for name, value, low, high in (
            ("PAYMENT_BREAKER_FAILURES", self.payment_breaker_failures, 1, 100),
            ("PAYMENT_BREAKER_WINDOW_SECONDS", self.payment_breaker_window_seconds, 1, 3600),
            ("PAYMENT_BREAKER_COOLDOWN_SECONDS", self.payment_breaker_cooldown_seconds, 1, 3600),
        ):
            if not low <= value <= high:
                raise SettingsError(f"{name} must be between {low} and {high}")
        if not self.is_production:
            return
        if self.bank_transfer_iban == DEV_BANK_TRANSFER_IBAN:
            raise SettingsError("BANK_TRANSFER_IBAN is the demo account: set your shop's IBAN")
        if self.stripe_api_base == DEV_STRIPE_API_BASE or not self.stripe_api_base.startswith(
            "https://"
        ):
            raise SettingsError(
                "STRIPE_API_BASE is the local payment simulator: set https://api.stripe.com"
            )
        if str(self.stripe_secret_key) == DEV_STRIPE_SECRET_KEY:
            raise SettingsError("STRIPE_SECRET_KEY is the simulator's: set your Stripe secret key")
        if str(self.stripe_webhook_secret) == DEV_STRIPE_WEBHOOK_SECRET:
            raise SettingsError(
                "STRIPE_WEBHOOK_SECRET is the simulator's: set your webhook endpoint's secret"
            )

    def _validate_bank_transfer(self) -> None:
        if not self.bank_transfer_holder or len(self.bank_transfer_holder) > 70:
            raise SettingsError("BANK_TRANSFER_HOLDER must be a name of 1 to 70 characters")
        if not iban_is_valid(self.bank_transfer_iban):
            raise SettingsError(
                f"BANK_TRANSFER_IBAN is not a valid IBAN: {self.bank_transfer_iban!r}"
            )
        if not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", self.bank_transfer_bic):
            raise SettingsError(f"BANK_TRANSFER_BIC is not a BIC: {self.bank_transfer_bic!r}")
        if not 1 <= self.bank_transfer_days <= 60:
            raise SettingsError("BANK_TRANSFER_DAYS must be between 1 and 60")

    def _validate_oidc(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", self.oidc_provider):
            raise SettingsError(
                "OIDC_PROVIDER must be a short name of lower-case letters, digits and dashes "
                f"(like google), not {self.oidc_provider!r}"
            )
        if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", self.oidc_issuer):
            raise SettingsError(
                "OIDC_ISSUER must be the provider's issuer address without a query or fragment "
                f"(like https://accounts.google.com), not {self.oidc_issuer!r}"
            )
        if self.is_production and not self.oidc_issuer.startswith("https://"):
            raise SettingsError("OIDC_ISSUER must be an https:// address in production")
        if not self.oidc_client_id or not str(self.oidc_client_secret):
            raise SettingsError(
                "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required when OIDC_PROVIDER is set"
            )
        if "openid" not in self.oidc_scopes.split():
            raise SettingsError("OIDC_SCOPES must include openid")


def normalise_iban(raw: str) -> str:
    """An IBAN as stored: no spaces, upper case."""
    return "".join(raw.split()).upper()


def iban_is_valid(iban: str) -> bool:
    """The IBAN's shape and its ISO 13616 check digits (mod 97 of the rearranged number)."""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _async_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` forms and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
