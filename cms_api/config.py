"""Settings read from the environment, in one place."""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from typing import Any

from limits import parse_many

from cms_api.domain import formats, locales

# The argon2id costs CMS_PASSWORD_HASHING may name (services/accounts/sign_in.py).
PASSWORD_HASHINGS = ("rfc9106-low-memory", "insecure-fast-for-tests")


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _pairs(value: str) -> dict[str, str]:
    """``key=value,key=value`` as a dict; an item without ``=`` is an error, not ignored."""
    pairs: dict[str, str] = {}
    for item in _split(value):
        key, separator, found = item.partition("=")
        if not separator:
            raise ValueError(f"{item!r} is not a 'locale=/prefix' pair.")
        pairs[key.strip()] = found.strip()
    return pairs


def _is_path(value: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9/._~-]*", value) is not None


def _is_web_url(value: str) -> bool:
    scheme, _, rest = value.partition("://")
    host = rest.split("/", 1)[0]
    return scheme in ("http", "https") and bool(host) and value.isprintable() and " " not in value


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError):
        return False


@dataclass(frozen=True)
class Settings:
    """Everything an operator can change without touching code.

    Environment variables (all optional):

    - ``DATABASE_URL``: a PostgreSQL URL. Unset, an embedded PostgreSQL is started
      under the instance folder.
    - ``DATABASE_REPLICA_URL``: a PostgreSQL streaming replica of ``DATABASE_URL`` (directly
      or through PgBouncer in transaction mode) for delivery reads: the fast path, lists,
      search, lookup, sitemaps, the public graph and the change feed. Writes, admin reads,
      previews and every request that writes stay on ``DATABASE_URL``. Unset, delivery
      reads go to ``DATABASE_URL``. A worker keeps in memory only what the replica read
      after replaying every change it was told about. Through PgBouncer older than 1.21
      (no ``max_prepared_statements``), add ``?prepare_threshold=none`` to the URL.
    - ``DATABASE_LISTEN_URL``: where each worker's document cache holds its ``LISTEN``
      connection (default ``DATABASE_URL``). It must reach the primary directly, not
      through PgBouncer in transaction mode (a pooled connection cannot keep a ``LISTEN``)
      and not a replica (``NOTIFY`` is not replicated).
    - ``CMS_INSTANCE_PATH``: where the embedded database lives (default ``./instance``).
    - ``CMS_CORS_ORIGINS``: comma-separated origins allowed by CORS (default ``*``).
    - ``CMS_CACHE_MAX_AGE`` / ``CMS_CACHE_STALE_WHILE_REVALIDATE``: delivery cache lifetimes
      in seconds (defaults 60 and 600).
    - ``CMS_PUBLIC_BASE_URL``: absolute base of the publisher's site, used for canonical
      links, sitemaps, the link graph and JSON-LD (default ``https://www.example-health.org``).
    - ``CMS_IMAGE_HOSTS``: comma-separated hosts that images in Markdown may come from
      (default: the host of ``CMS_PUBLIC_BASE_URL``). Relative image URLs are always
      allowed; an image from any other host is replaced by its alt text, so no page
      carries a tracking pixel.
    - ``CMS_API_BASE_URL``: the API's own public address (default ``http://localhost``),
      the start of every absolute URL it emits: `Link` next pages, the sitemap index,
      preview URLs. Never taken from the request's ``Host``, which a client chooses.
    - ``CMS_RATE_LIMITS_PER_WORKER``: ``true`` accepts that, without ``REDIS_URL``, each
      gunicorn worker counts rate limits alone, so the limits are multiplied by the workers
      (default false: more than one worker without ``REDIS_URL`` refuses to start).
    - ``CMS_PUBLISHER_NAME`` / ``CMS_PUBLISHER_LOGO_URL``: the organisation named as
      publisher in schema.org JSON-LD (default ``Example Health``; no logo).
    - ``CMS_EDITORIAL_POLICY_URL``: the absolute http(s) address of the publisher's
      editorial policy (how content is written, reviewed, funded and corrected), published
      as ``publishingPrinciples`` in JSON-LD and as ``publisher.editorial_policy_url`` in
      each article (default none). Published documents embed it: after changing it, run
      ``cms-api render``.
    - ``CMS_DEFAULT_LOCALE``: the BCP 47 tag of the site's default language (default ``en``):
      content created without a locale is in it, and public reads without ``?locale=``
      answer in it.
    - ``CMS_LOCALES``: comma-separated BCP 47 tags of every language the site publishes in
      (default ``en,es``, the sample site's); the default locale is always one of them.
    - ``CMS_LOCALE_PATHS``: where each locale's pages live on the public site, as
      ``locale=/prefix`` pairs (``es=/es,pt-BR=/br``): an article in that locale is at
      ``CMS_PUBLIC_BASE_URL`` + prefix + ``/articles/{slug}``. By default the default
      locale has no prefix and every other one ``/`` + its lower-cased tag.
    - ``CMS_DB_CONNECT_TIMEOUT``: seconds before a database connection attempt gives up
      (default 3), so an outage answers 503 quickly instead of hanging.
    - ``REDIS_URL``: where rate-limit counters live, shared by every worker process. Unset,
      each process counts in its own memory (fine for one process, lenient for several).
    - ``CMS_QUESTION_RATE_LIMIT``: how many reader questions one client address may send,
      in flask-limiter's notation (default ``5 per minute``).
    - ``CMS_SEARCH_RATE_LIMIT``: searches one client address may make (default
      ``120 per minute``).
    - ``CMS_VECTOR_SEARCH``: ``auto`` (default: pgvector where the server has it, else an
      in-memory scan in each worker) or ``memory`` (always the in-memory scan).
    - ``CMS_ANSWER_THRESHOLD``: the confidence (0 to 1, default ``0.9``) an instant answer
      needs; below it /v1/answers answers ``answered: false`` and counts the question. The
      default keeps wrong answers to about 1 in 50 (bench/README.md, "Instant answers").
    - ``CMS_ADMIN_WRITE_RATE_LIMIT``: admin writes one token may make (default
      ``1000 per minute``), so a runaway script cannot flood the editorial database.
    - ``CMS_TRUSTED_PROXIES``: how many reverse proxies sit in front of the app (default 0);
      their ``X-Forwarded-For`` then names the client, for rate limits.
    - ``CMS_DOCUMENT_CACHE_MB``: memory each worker may keep published documents in,
      dropped as soon as PostgreSQL announces a change (default 128, about 15,000
      articles kept brotli-compressed; 0 turns it off).
    - ``CMS_WEBHOOKS_ALLOW_PRIVATE``: ``true`` lets webhooks target private, loopback and
      link-local addresses, and plain ``http`` (default false; for tests and local receivers).
    - ``CMS_WEBHOOK_RETENTION_DAYS``: days a delivered, failed or cancelled webhook delivery
      (and its attempts) is kept after it finished (default 30; at least 1). Pending ones
      are never removed.
    - ``CMS_TOKEN_MAX_LIFETIME_DAYS``: the longest a bearer token may live, in days (default
      90; at least 1). A token issued without an expiry gets this one; a later one is refused.
    - ``CMS_STUDIO_SECURE_COOKIE``: ``false`` sends the editor studio's cookies without the
      ``Secure`` attribute (default true). Browsers keep ``Secure`` cookies over plain http
      on ``localhost`` and ``127.0.0.1``; turn it off only to reach a development studio by
      another plain-http address, never in production.
    - ``CMS_SECRET_KEYS``: comma-separated Fernet keys (``cms-api webhooks generate-key``)
      that encrypt webhook signing secrets at rest. The first encrypts, all decrypt: to
      rotate, put a new key first, run ``cms-api webhooks rotate-secrets``, then drop the old
      one. Unset, a key generated once under the instance folder (``webhook-secret.key``)
      is used and each process logs a warning: fine on a laptop, not in production, where
      the key must not sit beside the data it protects.
    - ``CMS_MEDIA_MAX_BYTES``: the largest image file an upload may send (default 25 MiB).
    - ``CMS_MEDIA_MAX_PIXELS``: the most pixels (width x height) an uploaded image may claim,
      checked before it is decoded (default 50 million), so a small file cannot make the
      server allocate gigabytes.
    - ``CMS_MEDIA_ROOT``: the folder media files are stored in (default ``media`` under the
      instance folder), when no bucket is configured.
    - ``CMS_MEDIA_S3_BUCKET``: store media files in this S3 (or S3-compatible) bucket instead
      of the filesystem. Credentials and region come from boto3's usual chain (environment,
      shared config, instance role); needs the ``s3`` extra.
    - ``CMS_MEDIA_S3_ENDPOINT_URL``: the address of an S3-compatible store (MinIO, R2, ...);
      unset, AWS's own. ``CMS_MEDIA_S3_PREFIX``: a folder inside the bucket (default none).
    - ``CMS_PASSWORD_HASHING``: how costly each studio password's argon2id hash is to make,
      and so to guess: ``rfc9106-low-memory`` (default: RFC 9106's second recommended
      profile, 64 MiB and 3 passes, about a fifth of a second a sign-in on one core) or
      ``insecure-fast-for-tests`` (argon2's smallest parameters, for test suites that sign
      in hundreds of times; never in production, where a stolen hash would then be cheap
      to guess; the app logs a warning when it starts with it). A hash weaker than the
      configured cost is remade at its user's next sign-in; a stronger one is kept.
    """

    database_url: str | None = None
    database_replica_url: str | None = None
    database_listen_url: str | None = None
    instance_path: str = "instance"
    cors_origins: list[str] = field(default_factory=lambda: ["*"])
    cache_max_age: int = 60
    cache_stale_while_revalidate: int = 600
    public_base_url: str = "https://www.example-health.org"
    # Lower-case host names; empty means the host of public_base_url.
    image_hosts: list[str] = field(default_factory=list)
    api_base_url: str = "http://localhost"
    rate_limits_per_worker: bool = False
    publisher_name: str = "Example Health"
    publisher_logo_url: str | None = None
    editorial_policy_url: str | None = None
    default_locale: str = "en"
    locales: list[str] = field(default_factory=lambda: ["en", "es"])
    # Locale -> path prefix on the public site; see locale_path().
    locale_paths: dict[str, str] = field(default_factory=dict)
    db_connect_timeout: int = 3
    redis_url: str | None = None
    question_rate_limit: str = "5 per minute"
    search_rate_limit: str = "120 per minute"
    # The confidence below which /v1/answers declines and points to a reader question.
    answer_threshold: float = 0.9
    # Where instant answers find passages by meaning: "auto" (pgvector where migration 0017
    # could add its column, else an in-memory scan in each worker) or "memory".
    vector_search: str = "auto"
    admin_write_rate_limit: str = "1000 per minute"
    trusted_proxies: int = 0
    webhooks_allow_private: bool = False
    document_cache_mb: int = 128
    webhook_retention_days: int = 30
    token_max_lifetime_days: int = 90
    secret_keys: list[str] = field(default_factory=list)
    studio_secure_cookie: bool = True
    # The sitemaps.org limit of URLs per sitemap file; past it, an index of numbered sitemaps.
    sitemap_max_urls: int = 50_000
    media_max_bytes: int = 25 * 1024 * 1024
    media_max_pixels: int = 50_000_000
    media_root: str | None = None  # None: media/ under instance_path
    media_s3_bucket: str | None = None
    media_s3_endpoint_url: str | None = None
    media_s3_prefix: str = ""
    password_hashing: str = "rfc9106-low-memory"

    def __post_init__(self) -> None:
        self._check_locales()
        # A typo here would otherwise surface as a 500 on the first limited request.
        for name in ("question_rate_limit", "search_rate_limit", "admin_write_rate_limit"):
            value = getattr(self, name)
            try:
                parse_many(value)
            except ValueError as error:
                raise ValueError(
                    f"CMS_{name.upper()} {value!r} is not a rate limit such as '5 per minute'."
                ) from error
        # Outside 0..1 every answer would be given, or none.
        if not 0 <= self.answer_threshold <= 1:
            raise ValueError(
                f"CMS_ANSWER_THRESHOLD {self.answer_threshold} is not between 0 and 1."
            )
        if self.vector_search not in ("auto", "memory"):
            raise ValueError(
                f"CMS_VECTOR_SEARCH {self.vector_search!r} is neither 'auto' nor 'memory'."
            )
        # Zero would delete each delivery as it finishes, before an admin could look at it.
        if self.webhook_retention_days < 1:
            raise ValueError(
                f"CMS_WEBHOOK_RETENTION_DAYS {self.webhook_retention_days} must be 1 or more: "
                "the days finished webhook deliveries are kept."
            )
        # Every absolute URL the API emits starts with it: a relative or query-carrying one
        # would make them all wrong.
        scheme, _, rest = self.api_base_url.partition("://")
        if scheme not in ("http", "https") or not rest.strip("/") or any(c in rest for c in "?#"):
            raise ValueError(
                f"CMS_API_BASE_URL {self.api_base_url!r} must be an absolute http(s) URL "
                "without query or fragment, such as 'https://api.example-health.org'."
            )
        # Published in every article as a link readers follow: a relative or javascript:
        # address would be a broken (or hostile) link on every page.
        if self.editorial_policy_url is not None and not _is_web_url(self.editorial_policy_url):
            raise ValueError(
                f"CMS_EDITORIAL_POLICY_URL {self.editorial_policy_url!r} must be an absolute "
                "http(s) URL, such as 'https://www.example-health.org/editorial-policy'."
            )
        # A token that never expires is what this cap exists to prevent.
        if self.token_max_lifetime_days < 1:
            raise ValueError(
                f"CMS_TOKEN_MAX_LIFETIME_DAYS {self.token_max_lifetime_days} must be 1 or more."
            )
        # Zero or less would refuse every upload, and the operator would only learn of it then.
        if self.media_max_bytes < 1 or self.media_max_pixels < 1:
            raise ValueError("CMS_MEDIA_MAX_BYTES and CMS_MEDIA_MAX_PIXELS must be 1 or more.")
        if self.password_hashing not in PASSWORD_HASHINGS:
            raise ValueError(
                f"CMS_PASSWORD_HASHING {self.password_hashing!r} is not one of "
                f"{', '.join(PASSWORD_HASHINGS)}."
            )
        for position, key in enumerate(self.secret_keys, start=1):
            if not _is_fernet_key(key):
                raise ValueError(
                    f"CMS_SECRET_KEYS entry {position} is not a Fernet key (32 bytes, url-safe "
                    "base64); `cms-api webhooks generate-key` prints one."
                )

    def _check_locales(self) -> None:
        # Tags are compared as stored: a site configured "es-mx" must find "es-MX" content.
        default = locales.normalized(self.default_locale)
        if default is None:
            raise ValueError(
                f"CMS_DEFAULT_LOCALE {self.default_locale!r} is not a BCP 47 tag such as 'en'."
            )
        tags = [default]
        for tag in self.locales:
            canonical = locales.normalized(tag)
            if canonical is None:
                raise ValueError(f"CMS_LOCALES entry {tag!r} is not a BCP 47 tag such as 'es'.")
            if canonical not in tags:
                tags.append(canonical)
        paths: dict[str, str] = {}
        for tag, prefix in self.locale_paths.items():
            canonical = locales.normalized(tag)
            if canonical not in tags:
                raise ValueError(f"CMS_LOCALE_PATHS names {tag!r}, which is not in CMS_LOCALES.")
            if prefix and (not prefix.startswith("/") or not _is_path(prefix)):
                raise ValueError(
                    f"CMS_LOCALE_PATHS prefix {prefix!r} for {tag} must start with '/' "
                    "and hold only URL path characters."
                )
            paths[canonical] = prefix.rstrip("/")
        # Frozen: the normal forms are written back once, here.
        object.__setattr__(self, "default_locale", default)
        object.__setattr__(self, "locales", tags)
        object.__setattr__(self, "locale_paths", paths)

    def locale_path(self, locale: str) -> str:
        """The path prefix of `locale`'s pages on the public site ("" or "/es")."""
        if locale in self.locale_paths:
            return self.locale_paths[locale]
        return "" if locale == self.default_locale else "/" + locale.lower()

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            database_replica_url=env.get("DATABASE_REPLICA_URL") or None,
            database_listen_url=env.get("DATABASE_LISTEN_URL") or None,
            instance_path=env.get("CMS_INSTANCE_PATH", "instance"),
            cors_origins=_split(env.get("CMS_CORS_ORIGINS", "*")),
            cache_max_age=int(env.get("CMS_CACHE_MAX_AGE", "60")),
            cache_stale_while_revalidate=int(env.get("CMS_CACHE_STALE_WHILE_REVALIDATE", "600")),
            public_base_url=env.get("CMS_PUBLIC_BASE_URL", "https://www.example-health.org"),
            image_hosts=[host.lower() for host in _split(env.get("CMS_IMAGE_HOSTS", ""))],
            api_base_url=env.get("CMS_API_BASE_URL") or "http://localhost",
            rate_limits_per_worker=env.get("CMS_RATE_LIMITS_PER_WORKER", "").strip().lower()
            in ("1", "true", "yes", "on"),
            publisher_name=env.get("CMS_PUBLISHER_NAME", "Example Health"),
            publisher_logo_url=env.get("CMS_PUBLISHER_LOGO_URL") or None,
            editorial_policy_url=env.get("CMS_EDITORIAL_POLICY_URL") or None,
            default_locale=env.get("CMS_DEFAULT_LOCALE", "en"),
            locales=_split(env.get("CMS_LOCALES", "en,es")),
            locale_paths=_pairs(env.get("CMS_LOCALE_PATHS", "")),
            db_connect_timeout=int(env.get("CMS_DB_CONNECT_TIMEOUT", "3")),
            redis_url=env.get("REDIS_URL") or None,
            question_rate_limit=env.get("CMS_QUESTION_RATE_LIMIT", "5 per minute"),
            search_rate_limit=env.get("CMS_SEARCH_RATE_LIMIT", "120 per minute"),
            answer_threshold=float(env.get("CMS_ANSWER_THRESHOLD", "0.9")),
            vector_search=env.get("CMS_VECTOR_SEARCH", "auto").strip().lower(),
            admin_write_rate_limit=env.get("CMS_ADMIN_WRITE_RATE_LIMIT", "1000 per minute"),
            trusted_proxies=int(env.get("CMS_TRUSTED_PROXIES", "0")),
            document_cache_mb=int(env.get("CMS_DOCUMENT_CACHE_MB", "128")),
            webhooks_allow_private=env.get("CMS_WEBHOOKS_ALLOW_PRIVATE", "").strip().lower()
            in ("1", "true", "yes", "on"),
            webhook_retention_days=int(env.get("CMS_WEBHOOK_RETENTION_DAYS", "30")),
            token_max_lifetime_days=int(env.get("CMS_TOKEN_MAX_LIFETIME_DAYS", "90")),
            secret_keys=_split(env.get("CMS_SECRET_KEYS", "")),
            studio_secure_cookie=env.get("CMS_STUDIO_SECURE_COOKIE", "true").strip().lower()
            not in ("0", "false", "no", "off"),
            media_max_bytes=int(env.get("CMS_MEDIA_MAX_BYTES", str(25 * 1024 * 1024))),
            media_max_pixels=int(env.get("CMS_MEDIA_MAX_PIXELS", "50000000")),
            media_root=env.get("CMS_MEDIA_ROOT") or None,
            media_s3_bucket=env.get("CMS_MEDIA_S3_BUCKET") or None,
            media_s3_endpoint_url=env.get("CMS_MEDIA_S3_ENDPOINT_URL") or None,
            media_s3_prefix=env.get("CMS_MEDIA_S3_PREFIX", "").strip("/"),
            password_hashing=env.get("CMS_PASSWORD_HASHING", "rfc9106-low-memory").strip(),
        )


def flask_config(settings: Settings, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Flask and extension configuration derived from the settings."""
    config: dict[str, Any] = {
        "CMS_SETTINGS": settings,
        "API_TITLE": "cms-api",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
        "SQLALCHEMY_ENGINE_OPTIONS": {
            # No ping before each checkout (a round trip per request): a connection the
            # server dropped fails once, answers 503, and the pool is invalidated.
            "pool_pre_ping": False,
            "pool_recycle": 1800,
            "pool_size": 5,
            "max_overflow": 5,
            "pool_timeout": settings.db_connect_timeout,
            "connect_args": {"connect_timeout": settings.db_connect_timeout},
            # JSON columns (revision snapshots above all) written with orjson. They are
            # read with the standard library: orjson reads an integer past 64 bits as a
            # float, and looking for one costs more than the parse saves.
            "json_serializer": formats.dumps,
        },
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Response headers a browser script may read across origins.
        "CMS_CORS_EXPOSE_HEADERS": [
            "ETag",
            "Link",
            "Location",
            "X-Request-ID",
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
        "JSON_SORT_KEYS": False,
        # flask-limiter. Set explicitly on every app: the limiter is one shared object and
        # init_app would otherwise keep whatever the previously built app configured.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": "cms-api",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: count in memory meanwhile rather than answer 500s or stop limiting.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    }
    config.update(overrides or {})
    return config
