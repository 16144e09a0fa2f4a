"""Avito sandbox: a local, in-memory emulator of Avito's Messenger API.

It answers the same paths, bodies and errors as ``https://api.avito.ru`` (see
``shared/avito-api.md`` and Avito's OpenAPI files) so the gateway, n8n workflows
and end-to-end tests can run without Avito. Start it with
``python manage.py avito_sandbox`` or ``python -m sandbox.server``. It is a program of its
own, not a Django app: no settings module installs it.
"""
