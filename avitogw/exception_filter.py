"""What Django's debug page and error reports show of the settings and the request: passwords in URLs masked.

Django's own filter hides settings whose name sounds secret (KEY, TOKEN, PASS...) and the
PASSWORD of each database, but not the password inside a URL: DATABASE_URL, REDIS_URL,
CELERY_BROKER_URL and the cache's LOCATION would be shown as they are, and so would the same
URLs among the environment variables the development server copies into request.META.
Settings: DEFAULT_EXCEPTION_REPORTER_FILTER.
"""
from __future__ import annotations

import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@ (user may be empty, as in redis://:password@host); the password ends at the
# first "@", since a URL carries a literal "@" in its password as %40.
URL_PASSWORD = re.compile(r"(?P<start>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)


def url_passwords_masked(text: str, substitute: str) -> str:
    return URL_PASSWORD.sub(lambda match: f"{match['start']}{substitute}@", text)


class UrlPasswordsHidden(SafeExceptionReporterFilter):
    def cleanse_setting(self, key: Any, value: Any) -> Any:
        if isinstance(value, str):
            value = url_passwords_masked(value, self.cleansed_substitute)
        return super().cleanse_setting(key, value)
