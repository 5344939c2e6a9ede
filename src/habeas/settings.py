"""Django settings for Habeas, read from the environment.

``HABEAS_HOME`` (default ``./var``) holds the embedded database, the secret key, the Ed25519
ledger signing key and uploads. ``DATABASE_URL`` selects the database (default SQLite in
``HABEAS_HOME``, WAL journal, IMMEDIATE transactions so writers queue instead of failing).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
HABEAS_HOME = Path(os.environ.get("HABEAS_HOME", "var")).resolve()
# Settings create nothing: `habeas init` (and the other setup commands, and the WSGI entry
# point) create the home; any other command refuses an uninitialised one (habeas.__main__).


def _secret_key() -> str:
    """Environment first, then ``HABEAS_HOME/secret_key`` (created on first use, mode 0600)."""
    if key := os.environ.get("HABEAS_SECRET_KEY"):
        return key
    if not HABEAS_HOME.is_dir():
        # no home yet (e.g. `habeas --help`, or a command about to be refused): nothing
        # signed with this key outlives the process
        return secrets.token_urlsafe(50)
    path = HABEAS_HOME / "secret_key"
    if not path.exists():
        tmp = path.with_name(f".secret_key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)  # atomic: concurrent starts agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("HABEAS_DEBUG", "") == "1"
ALLOWED_HOSTS = [
    h for h in os.environ.get("HABEAS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("HABEAS_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]
LEDGER_KEY_PATH = HABEAS_HOME / "ledger_ed25519.pem"
LEDGER_ORIGIN = os.environ.get("HABEAS_LEDGER_ORIGIN", "habeas.local/ledger")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the API docs' assets locally (no CDN: prisons run offline)
    "axes",  # login lockout (docs/security.md, "Logins")
    "csp",  # Content-Security-Policy header
    "habeas.core",
    "habeas.ledger",
    "habeas.accounts",
    "habeas.people",
    "habeas.agreements",
    "habeas.facilities",
    "habeas.custody",
    "habeas.housing",
    "habeas.transfers",
    "habeas.billing",
    "habeas.inspections",
    "habeas.conditions",
    "habeas.notifications",
    "habeas.contact",
    "django_tasks",
    "django_tasks_db",
    "habeas.oversight",
    "habeas.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "habeas.core.middleware.RequestLimitsMiddleware",  # see "Bounded input" below
    # A sensor token may only send readings: 403 everywhere else, before any view.
    "habeas.conditions.sensors.SensorTokenMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a lockout signalled by the axes backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The axes backend first: it refuses a locked (username, address) pair before any password
# is checked, on the web sign-in and on /admin/ alike (both call ``authenticate``).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "habeas.urls"
WSGI_APPLICATION = "habeas.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "habeas.accounts.context_processors.navigation",
            ],
        },
    }
]


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # Writers take the lock when the transaction starts, so a read-then-write
            # (capacity check, ledger sequence) can never interleave with another writer.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        config["CONN_MAX_AGE"] = 0
    return config


DATABASES = {
    "default": _database(
        os.environ.get("DATABASE_URL", f"sqlite:///{HABEAS_HOME / 'habeas.sqlite3'}")
    )
}
if test_url := os.environ.get("HABEAS_TEST_DATABASE_URL"):
    # pytest runs on the database named here (CI: PostgreSQL); Django creates test_<name>.
    DATABASES["default"] = _database(test_url)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HABEAS_HOME / "static"  # whitenoise serves from the finders; kept for collectstatic
# created by `habeas init` and the WSGI entry point, not here (settings create nothing)
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = HABEAS_HOME / "uploads"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- security for an Internet deployment (docs/security.md; README, "Configuration") --------


def _env_number(name: str, default: float, *, minimum: float = 0) -> float:
    """A positive number from the environment, refused at start-up if it is not one."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}")
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw!r}")
    return value


#: Sessions end this many hours after sign-in (a shift and a margin), not Django's 14 days.
SESSION_COOKIE_AGE = int(_env_number("HABEAS_SESSION_HOURS", 10, minimum=0.25) * 3600)

#: ``HABEAS_HTTPS=1`` behind TLS: HSTS, redirect to https, cookies sent over https only.
HABEAS_HTTPS = os.environ.get("HABEAS_HTTPS", "") == "1"
if HABEAS_HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(_env_number("HABEAS_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading binds the domain to https in browsers for good: HABEAS_HSTS_PRELOAD=0 opts
    # out (and silences the one check that asks for it).
    SECURE_HSTS_PRELOAD = os.environ.get("HABEAS_HSTS_PRELOAD", "1") != "0"
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # The TLS-terminating proxy says the original scheme; read only from a trusted proxy.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

#: Reverse proxies whose ``X-Forwarded-For`` is believed (addresses or networks, comma
#: separated). Empty: the client is ``REMOTE_ADDR`` and the header is ignored.
HABEAS_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("HABEAS_TRUSTED_PROXIES", "").split(",") if p.strip()
]

#: Content-Security-Policy (django-csp): everything from this origin only, no inline script or
#: style, no plug-ins, never framed. Templates keep scripts and styles in static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

#: The public locator's rate limits, counted in the shared cache: searches per client address
#: and minute, and searches for one name (or reference) and nationality per hour from all
#: addresses together (so a date of birth cannot be probed year by year from many addresses).
# Public statistics are computed once per version of the registry (its ledger size) and
# period of this many seconds: a change that comes from the clock alone (a basis expiring at
# midnight) shows within it (habeas.ledger.freshness).
HABEAS_STATS_MAX_AGE = int(_env_number("HABEAS_STATS_MAX_AGE", 60, minimum=1))


def _roll_times(raw: str) -> list[str]:
    """``HH:MM`` times of the day, in each facility's local time, at which the roll is
    counted (HMPPS establishment roll: counts at fixed times, several a day)."""
    times = sorted({t.strip() for t in raw.split(",") if t.strip()})
    for t in times:
        try:
            dt.time.fromisoformat(t)
        except ValueError:
            raise ImproperlyConfigured(
                f"HABEAS_ROLL_COUNT_TIMES: {t!r} is not a time of day as HH:MM"
            ) from None
    return times


#: The dashboard counts a facility's roll as due when the latest of these times has passed
#: with no roll counted since (``needs attention``).
HABEAS_ROLL_COUNT_TIMES = _roll_times(
    os.environ.get("HABEAS_ROLL_COUNT_TIMES", "06:00,12:00,18:00,22:00")
)
LOCATOR_RATE_PER_MINUTE = int(_env_number("HABEAS_LOCATOR_PER_MINUTE", 30, minimum=1))
LOCATOR_RATE_PER_NAME_PER_HOUR = int(_env_number("HABEAS_LOCATOR_PER_NAME_PER_HOUR", 20, minimum=1))

#: Login lockout (django-axes): after ``HABEAS_LOGIN_FAILURE_LIMIT`` wrong passwords for one
#: username from one address, that pair is refused for ``HABEAS_LOGIN_COOLOFF_MINUTES``
#: (unlock sooner with ``habeas unlock USERNAME`` or the admin's "Access attempts").
AXES_FAILURE_LIMIT = int(_env_number("HABEAS_LOGIN_FAILURE_LIMIT", 5, minimum=1))
AXES_COOLOFF_TIME = dt.timedelta(minutes=_env_number("HABEAS_LOGIN_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "habeas.web.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "habeas.core.net.client_ip"
AXES_VERBOSE = False

#: The shared cache (locator rate limits, login lockouts' counters): the database by default,
#: so every worker and server sees the same counts; Redis when ``HABEAS_CACHE_URL`` is set.
CACHE_TABLE = "habeas_cache"


def _caches(url: str) -> dict[str, Any]:
    if not url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": CACHE_TABLE,
            }
        }
    if url.split("://", 1)[0] not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"HABEAS_CACHE_URL must be a redis://, rediss:// or unix:// URL, not {url!r}"
        )
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "habeas",
        }
    }


CACHES = _caches(os.environ.get("HABEAS_CACHE_URL", "").strip())

# --- Bounded input (docs/interfaces.md, "Limits"; docs/security.md) ---------------
# Bodies are refused by their Content-Length before they are read (413): uploads (multipart)
# above HABEAS_MAX_UPLOAD_BYTES, other bodies above HABEAS_MAX_BODY_BYTES. Uploads are read
# in memory up to 2.5 MB and spooled to disk only below that limit. Calendar dates outside
# HABEAS_DATE_MIN..HABEAS_DATE_MAX are refused as implausible (400 / exit 2).
HABEAS_MAX_UPLOAD_BYTES = int(os.environ.get("HABEAS_MAX_UPLOAD_BYTES", 64 * 1024 * 1024))
HABEAS_MAX_BODY_BYTES = int(os.environ.get("HABEAS_MAX_BODY_BYTES", 2_621_440))
DATA_UPLOAD_MAX_MEMORY_SIZE = HABEAS_MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
HABEAS_DATE_MIN = os.environ.get("HABEAS_DATE_MIN", "1900-01-01")
HABEAS_DATE_MAX = os.environ.get("HABEAS_DATE_MAX", "2199-12-31")
HABEAS_MANIFEST_MAX_ROWS = int(os.environ.get("HABEAS_MANIFEST_MAX_ROWS", 100_000))
# --- end of bounded input -------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HABEAS_LOG_LEVEL", "WARNING")},
}


# --- background work and notifications (docs/lifecycle.md) -----------------------------------
# Django's tasks API (the django-tasks backport) with the ORM backend: the queue is a table of
# the main database, so SQLite needs no extra server and PostgreSQL workers share it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_BACKEND = os.environ.get(
    "HABEAS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("HABEAS_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("HABEAS_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("HABEAS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("HABEAS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("HABEAS_EMAIL_TLS", "") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("HABEAS_EMAIL_FROM", "habeas@localhost")
#: Removal period of 8 U.S.C. § 1231(a)(1)(A), in days (alarm A4.2).
HABEAS_REMOVAL_PERIOD_DAYS = int(os.environ.get("HABEAS_REMOVAL_PERIOD_DAYS", "90"))
#: Days before the end of an agreement's term that alarm A4.6 warns of it.
HABEAS_AGREEMENT_NOTICE_DAYS = int(os.environ.get("HABEAS_AGREEMENT_NOTICE_DAYS", "30"))
#: Notification retries: tries before a delivery is dead, and the exponential backoff.
HABEAS_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("HABEAS_NOTIFY_MAX_ATTEMPTS", "8"))
HABEAS_NOTIFY_BACKOFF_SECONDS = float(os.environ.get("HABEAS_NOTIFY_BACKOFF_SECONDS", "30"))
#: Deliveries per worker task: claimed in one transaction, sent over kept connections,
#: recorded in one transaction.
HABEAS_NOTIFY_BATCH = int(os.environ.get("HABEAS_NOTIFY_BATCH", "50"))
#: Local time of day (facility-independent, the server's zone) of the daily custody check.
HABEAS_DAILY_CHECK_AT = os.environ.get("HABEAS_DAILY_CHECK_AT", "02:00")
