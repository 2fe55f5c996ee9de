"""Flask extensions, unbound until create_app (`db` is in database, the limiter in ratelimit)."""

from __future__ import annotations

from flask_cors import CORS
from flask_migrate import Migrate

from cms_api.http.problems import ProblemApi

api = ProblemApi()
migrate = Migrate(compare_type=True)
cors = CORS()
