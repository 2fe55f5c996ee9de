"""WSGI entry point: `gunicorn wsgi:app`."""

from cms_api import create_app

app = create_app()
