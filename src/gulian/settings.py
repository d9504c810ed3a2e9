"""Django settings for Gulian.

Every setting read from the environment is listed in docs/settings.md; a test
checks that list against ``ENV_SETTINGS`` below.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent

# Environment variables Gulian reads (name -> one-line description). docs/settings.md documents each.
ENV_SETTINGS = {
    "GULIAN_SECRET_KEY": "Secret key for signing sessions and tokens; required unless GULIAN_DEMO=1.",
    "GULIAN_DEBUG": "1 turns on Django's debug mode. Off by default.",
    "GULIAN_DEMO": "1 allows a generated development secret key and localhost hosts (make demo).",
    "GULIAN_ALLOWED_HOSTS": "Comma-separated host names served. Default: localhost,127.0.0.1.",
    "GULIAN_VAR_DIR": "Directory for the SQLite file and other runtime data. Default: ./var.",
    "DATABASE_URL": "postgres://user@host:port/db selects PostgreSQL; unset means SQLite in GULIAN_VAR_DIR.",
    "GULIAN_LOCKOUT_ATTEMPTS": "Failed logins before an account/IP pair is locked. Default: 5.",
    "GULIAN_LOCKOUT_MINUTES": "Minutes a lockout lasts. Default: 30.",
    "GULIAN_IMPORT_MAX_ROWS": "Largest import accepted, in rows. Default: 1000000.",
    "GULIAN_DISPATCH_DEADLINE": "Local time (HH:MM) on the report date after which a daily report is flagged late. Default: 17:00.",
    "GULIAN_RECOVERY_THRESHOLD": "Utilisation at or above which an enterprise counts as recovered (达产). Default: 0.8.",
    "GULIAN_POWER_BASELINE_WINDOW": "Pre-disruption window START:END (ISO dates) for power baselines. Default: 2019-12-01:2020-01-10.",
    "GULIAN_POWER_ANOMALY_MARGIN": "Gap between utilisation and power index (as fractions) that flags an anomaly. Default: 0.3.",
    "GULIAN_RAY_ADDRESS": "Ray cluster address for scenario sweeps (local = a throw-away Ray on this machine). Default: unset, local processes.",
    "GULIAN_APPEALS_SLA": "Appeal deadlines in Chinese working days, urgency=ACCEPT/RESOLVE, comma-separated. Default: normal=1/5,urgent=1/3,critical=0/1.",
    "GULIAN_APPEALS_AUTO_ESCALATE_DAYS": "Working days an appeal may stay overdue before the sweep escalates it one level; 0 never. Default: 2.",
    "GULIAN_APPEALS_REOPEN_DAYS": "Calendar days after the reply within which the enterprise may reopen an appeal. Default: 15.",
    "GULIAN_APPEALS_MAX_TEXT": "Longest appeal text accepted, in characters. Default: 2000.",
    "GULIAN_APPEALS_MAX_ATTACHMENT_MB": "Largest attachment accepted, in MiB. Default: 10.",
    "GULIAN_APPEALS_WEBHOOK_URL": "URL that receives every appeal event as signed JSON (POST). Default: unset, no webhook.",
    "GULIAN_APPEALS_WEBHOOK_SECRET": "Key of the webhook's HMAC-SHA256 signature (X-Gulian-Signature). Required with the URL.",
    "GULIAN_OPEN311_PUBLIC_READ": "1 lets anyone read Open311 services and a redacted view of requests without a key. Default: off.",
    "GULIAN_SMTP_HOST": "SMTP server for notification e-mail; unset prints e-mail to the console. Default: unset.",
    "GULIAN_SMTP_PORT": "SMTP port. Default: 587.",
    "GULIAN_SMTP_USER": "SMTP user name. Default: empty.",
    "GULIAN_SMTP_PASSWORD": "SMTP password. Default: empty.",
    "GULIAN_SMTP_TLS": "1 uses STARTTLS with the SMTP server. Default: 1.",
    "GULIAN_EMAIL_FROM": "Sender address of notification e-mail. Default: gulian@localhost.",
    "GULIAN_CHROMIUM": "Path of the Chromium used by browser tests. Default: /usr/bin/chromium.",
    "GULIAN_REQUIRE_BROWSER": "1 makes browser tests fail instead of skip when Chromium is missing (set by CI).",
}


def env_flag(name: str) -> bool:
    """True when the environment variable is set to 1/true/yes/on."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("GULIAN_DEBUG")
DEMO = env_flag("GULIAN_DEMO")
VAR_DIR = Path(os.environ.get("GULIAN_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = os.environ.get("GULIAN_SECRET_KEY")
    if key:
        return key
    if DEMO or DEBUG or "pytest" in os.environ.get("_", "") or os.environ.get("PYTEST_VERSION"):
        # A development key, generated once and kept in var/ so sessions survive a restart.
        path = VAR_DIR / "dev-secret-key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50))
        return path.read_text().strip()
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "GULIAN_SECRET_KEY 未设置 / GULIAN_SECRET_KEY is not set (set GULIAN_DEMO=1 for a local demo)"
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("GULIAN_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "ninja",
    "gulian.core",
    "gulian.registry",
    "gulian.dispatch",
    "gulian.risk",
    "gulian.appeals",
    "gulian.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gulian.core.middleware.ScopeMiddleware",
    # axes last, as its documentation asks, so it sees the final response
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gulian.urls"
WSGI_APPLICATION = "gulian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gulian.core.context.navigation",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{VAR_DIR / 'gulian.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers go on while an import writes; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The test database is a file, not Django's default shared-cache in-memory database: there,
    # concurrent writers fail at once with "database table is locked" (the busy timeout does not apply
    # to shared-cache locks), and tests/appeals/test_concurrency.py submits from 20 threads at once.
    # One file per test process (pid), so that runs side by side do not share it; pytest-django
    # deletes it at the end.
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"gulian-test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout (django-axes): N failures for the same username from the same IP lock that pair.
AXES_FAILURE_LIMIT = int(os.environ.get("GULIAN_LOCKOUT_ATTEMPTS", "5"))
AXES_COOLOFF_TIME = int(os.environ.get("GULIAN_LOCKOUT_MINUTES", "30")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns when it is missing, even with finders
WHITENOISE_USE_FINDERS = True  # serve straight from the app folders, no collectstatic needed for the demo
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Daily dispatch (日调度)
DISPATCH_DEADLINE = os.environ.get("GULIAN_DISPATCH_DEADLINE", "17:00")
RECOVERY_THRESHOLD = float(os.environ.get("GULIAN_RECOVERY_THRESHOLD", "0.8"))
POWER_BASELINE_WINDOW = os.environ.get("GULIAN_POWER_BASELINE_WINDOW", "2019-12-01:2020-01-10")
POWER_ANOMALY_MARGIN = float(os.environ.get("GULIAN_POWER_ANOMALY_MARGIN", "0.3"))

# Enterprise appeals (企业诉求)
def _appeals_sla(spec: str) -> dict[str, tuple[int, int]]:
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        urgency, _, days = part.partition("=")
        accept, _, resolve = days.partition("/")
        out[urgency.strip()] = (int(accept), int(resolve))
    return out


APPEALS_SLA = _appeals_sla(os.environ.get("GULIAN_APPEALS_SLA", "normal=1/5,urgent=1/3,critical=0/1"))
APPEALS_AUTO_ESCALATE_DAYS = int(os.environ.get("GULIAN_APPEALS_AUTO_ESCALATE_DAYS", "2"))
APPEALS_REOPEN_DAYS = int(os.environ.get("GULIAN_APPEALS_REOPEN_DAYS", "15"))
APPEALS_MAX_TEXT = int(os.environ.get("GULIAN_APPEALS_MAX_TEXT", "2000"))
APPEALS_MAX_ATTACHMENT_MB = float(os.environ.get("GULIAN_APPEALS_MAX_ATTACHMENT_MB", "10"))
APPEALS_WEBHOOK_URL = os.environ.get("GULIAN_APPEALS_WEBHOOK_URL", "")
APPEALS_WEBHOOK_SECRET = os.environ.get("GULIAN_APPEALS_WEBHOOK_SECRET", "")
OPEN311_PUBLIC_READ = env_flag("GULIAN_OPEN311_PUBLIC_READ")
MEDIA_ROOT = VAR_DIR / "media"  # attachments; served only through scoped views, never as public files

if os.environ.get("GULIAN_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["GULIAN_SMTP_HOST"]
    EMAIL_PORT = int(os.environ.get("GULIAN_SMTP_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("GULIAN_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("GULIAN_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("GULIAN_SMTP_TLS", "1") not in ("0", "false", "no", "off")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("GULIAN_EMAIL_FROM", "gulian@localhost")

IMPORT_MAX_ROWS = int(os.environ.get("GULIAN_IMPORT_MAX_ROWS", "1000000"))
GULIAN_TITLE = _("固链 · 产业链协同平台")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
