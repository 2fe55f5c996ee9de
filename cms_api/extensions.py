"""Flask extensions, created unbound and attached to an app in create_app (`db` is in database)."""

from __future__ import annotations

from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate

from cms_api.http.problems import ProblemApi

api = ProblemApi()
migrate = Migrate(compare_type=True)
cors = CORS()
# No default limits: only the operations that decorate themselves are limited (reader
# questions). Storage and headers come from the app config (RATELIMIT_*), see config.py.
limiter = Limiter(key_func=get_remote_address)
