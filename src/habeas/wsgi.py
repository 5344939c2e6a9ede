"""WSGI entry point for gunicorn (``habeas serve``)."""

import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

# The server's home and its static folder (whitenoise reads STATIC_ROOT), before settings load.
(Path(os.environ.get("HABEAS_HOME", "var")).resolve() / "static").mkdir(parents=True, exist_ok=True)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
application = get_wsgi_application()
