"""One settings module, driven by environment variables (ZHILI_*).

Nothing here exists only in production: the demo and a city differ only in
the variables they set. `zhili.core.checks` refuses unsafe combinations at
start-up (debug on a public host, the built-in secret).
"""

import os
from pathlib import Path

import dj_database_url

from zhili.core.conf import env_bool, env_list, load_or_create_secret, origin_of

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ZHILI_DATA_DIR", Path.cwd() / "var")).resolve()

DEBUG = env_bool("ZHILI_DEBUG", False)
SECRET_KEY = os.environ.get("ZHILI_SECRET_KEY") or load_or_create_secret(DATA_DIR)
ALLOWED_HOSTS = env_list("ZHILI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("ZHILI_CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed; none by default.
ZHILI_TRUSTED_PROXIES = env_list("ZHILI_TRUSTED_PROXIES", [])

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("ZHILI_DATABASE_URL", f"sqlite:///{DATA_DIR / 'zhili.db'}"),
        conn_max_age=int(os.environ.get("ZHILI_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers run beside the one writer; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif not DATABASES["default"]["CONN_MAX_AGE"] and env_bool("ZHILI_DB_POOL", True):
    # Under ASGI each request runs its sync code in a fresh thread, so Django's
    # per-thread persistent connections are never reused and every request
    # would pay a new connection. A psycopg pool is Django's answer (5.1+).
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": int(os.environ.get("ZHILI_DB_POOL_SIZE", "8")),
            "timeout": 10,
        },
    }

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "js_lib_htmx",
    "ninja",  # serves Swagger UI from its own static files, not a CDN
    "csp",
    "zhili.core",
    "zhili.geo",
    "zhili.accounts",
    "zhili.audit",
    "zhili.registry",
    "zhili.notifications",
    "zhili.governance",
    "zhili.bundles",
    "zhili.warning",
    "zhili.emergency",
    "zhili.flood",
    "zhili.cockpit",
    "zhili.supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "zhili.core.middleware.StaticGZipMiddleware",  # outside WhiteNoise, so it sees its files
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "zhili.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "zhili.core.middleware.LanguageCookieMiddleware",  # a user's language, set at login
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so the 400 page has its language; still before any view and CSRF check.
    "zhili.core.middleware.InputGuardMiddleware",
]

ROOT_URLCONF = "zhili.urls"
ASGI_APPLICATION = "zhili.asgi.application"
WSGI_APPLICATION = "zhili.wsgi.application"

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
                "zhili.core.context_processors.navigation",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["zhili.accounts.backends.ThrottledModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Repeated failed logins: after this many failures for one username (or one
# client address) inside the window, further attempts are refused.
ZHILI_LOGIN_MAX_FAILURES = int(os.environ.get("ZHILI_LOGIN_MAX_FAILURES", "5"))
ZHILI_LOGIN_WINDOW_SECONDS = int(os.environ.get("ZHILI_LOGIN_WINDOW_SECONDS", "900"))
# Registry look-ups by a whole identity number, name or credit code: at most this
# many per user inside the window (docs/registry.md, "Search and look-ups").
ZHILI_LOOKUP_LIMIT = int(os.environ.get("ZHILI_LOOKUP_LIMIT", "20"))
ZHILI_LOOKUP_WINDOW_SECONDS = int(os.environ.get("ZHILI_LOOKUP_WINDOW_SECONDS", "3600"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("ZHILI_HTTPS", False):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Browsers then refuse plain HTTP to this host for a year (HSTS).
    SECURE_HSTS_SECONDS = int(os.environ.get("ZHILI_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ZHILI_HSTS_SUBDOMAINS", False)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Only for `zhili collectstatic` in production; WhiteNoise serves from the apps otherwise.
STATIC_ROOT = os.environ.get("ZHILI_STATIC_ROOT") or None
# Front-end assets come from installed packages, never a CDN.
import xstatic.pkg.leaflet  # noqa: E402

STATICFILES_DIRS = [("leaflet", xstatic.pkg.leaflet.BASE_DIR)]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "media"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# Queues are the worker's lanes: `zhili worker --lanes notifications,default`
# serves some; the demo's in-process worker serves all, one thread each.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("ZHILI_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["notifications", "default", "sweeps", "long"],
    }
}

# Optional base map; vector layers always work without it.
ZHILI_TILE_URL = os.environ.get("ZHILI_TILE_URL", "")
ZHILI_TILE_ATTRIBUTION = os.environ.get("ZHILI_TILE_ATTRIBUTION", "")
# The CRS the configured tiles are drawn in: wgs84 (Tianditu) or gcj02 (AMap, Tencent).
ZHILI_TILE_CRS = os.environ.get("ZHILI_TILE_CRS", "wgs84")
# Or raster tiles from a local MBTiles/PMTiles archive, served by Zhili at /geo/tiles/.
ZHILI_TILES_FILE = os.environ.get("ZHILI_TILES_FILE", "")
# Supervision: how often the worker rolls each source's events into the KPI tables.
ZHILI_ROLLUP_INTERVAL = float(os.environ.get("ZHILI_ROLLUP_INTERVAL", "2"))

# Content-Security-Policy on every response: pages load scripts, styles, fonts
# and data from this host only (closed networks; and an injected <script> or
# an inline handler does not run). Styles allow inline `style` attributes
# (bar widths, Leaflet's positioning); scripts do not. Map tiles from a
# configured tile server are the one outside origin, and only as images.
_tile_origin = origin_of(ZHILI_TILE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"] + ([_tile_origin] if _tile_origin else []),
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Notification channels: in-app always; SMS/WeChat adapters are configured
# backends (the demo logs what it would send).
ZHILI_NOTIFICATION_CHANNELS = {
    "inapp": "zhili.notifications.channels.InAppChannel",
    "sms": os.environ.get("ZHILI_SMS_BACKEND", "zhili.notifications.channels.LogChannel"),
    "wechat": os.environ.get("ZHILI_WECHAT_BACKEND", "zhili.notifications.channels.LogChannel"),
    # A voice gateway reads the title and body out; the demo logs the call.
    "voice": os.environ.get("ZHILI_VOICE_BACKEND", "zhili.notifications.channels.LogChannel"),
}
# How long a reporter may reopen a verified case; unrated cases close after it.
ZHILI_CASE_REOPEN_DAYS = int(os.environ.get("ZHILI_CASE_REOPEN_DAYS", "7"))
ZHILI_OPEN311_JURISDICTION = os.environ.get("ZHILI_OPEN311_JURISDICTION", "zhili")

# Early warning (docs/warning.md).
ZHILI_MQTT_URL = os.environ.get("ZHILI_MQTT_URL", "")
ZHILI_WARNING_CASE_LEVEL = int(os.environ.get("ZHILI_WARNING_CASE_LEVEL", "3"))
ZHILI_WARNING_PUBLIC_LEVEL = int(os.environ.get("ZHILI_WARNING_PUBLIC_LEVEL", "2"))
ZHILI_WARNING_VOICE_LEVEL = int(os.environ.get("ZHILI_WARNING_VOICE_LEVEL", "4"))
ZHILI_READINGS_RETENTION_DAYS = int(os.environ.get("ZHILI_READINGS_RETENTION_DAYS", "400"))
ZHILI_ACK_LINK_HOURS = int(os.environ.get("ZHILI_ACK_LINK_HOURS", "72"))
ZHILI_CAP_SENDER = os.environ.get("ZHILI_CAP_SENDER", "warnings@zhili.invalid")
ZHILI_SITE_URL = os.environ.get("ZHILI_SITE_URL", "http://127.0.0.1:8000")
ZHILI_CAP_KEY_FILE = os.environ.get("ZHILI_CAP_KEY_FILE", "")
ZHILI_CAP_CERT_FILE = os.environ.get("ZHILI_CAP_CERT_FILE", "")

# Flood forecasts (docs/flood.md): a SWMM run is killed after this many seconds.
ZHILI_FLOOD_RUN_TIMEOUT = float(os.environ.get("ZHILI_FLOOD_RUN_TIMEOUT", "600"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_4xx_traceback": {"()": "zhili.core.logs.ClientErrorsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["no_4xx_traceback"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("ZHILI_LOG_LEVEL", "WARNING")},
    "loggers": {"zhili": {"level": os.environ.get("ZHILI_LOG_LEVEL", "INFO")}},
}
