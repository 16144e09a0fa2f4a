"""Celery tasks of the messenger app (thin: each calls one service)."""
from celery import shared_task

from messenger.services.token import token_refresh_ahead
from messenger.task_names import TOKEN_REFRESH


@shared_task(name=TOKEN_REFRESH, ignore_result=True)
def token_refresh() -> None:
    """Beat: renew the shared Avito token before it expires, so no caller waits for one."""
    token_refresh_ahead()
