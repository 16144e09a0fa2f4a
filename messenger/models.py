"""What passes through the gateway, stored so staff see it in the admin and work survives restarts.

Chats, messages and blacklist entries are upserted by Avito's ids. AvitoToken and
RateLimitCall back the shared token store and rate limiter when there is no Redis.
Bulk jobs and their items belong to the `bulk` app (bulk/models.py).
"""
from __future__ import annotations

from django.db import models



class ChatType(models.TextChoices):
    U2I = "u2i", "about an item"
    U2U = "u2u", "user to user"
    A2U = "a2u", "Avito to user"


class Chat(models.Model):
    id = models.CharField(primary_key=True, max_length=128, help_text="Avito chat id")
    chat_type = models.CharField(max_length=8, choices=ChatType.choices, blank=True, db_index=True)
    item_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    item_title = models.CharField(max_length=512, blank=True)
    client_user_id = models.BigIntegerField(null=True, blank=True, help_text="the other party")
    client_name = models.CharField(max_length=255, blank=True)
    is_unread = models.BooleanField(default=False, db_index=True)
    last_message_text = models.TextField(blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    avito_created = models.DateTimeField(null=True, blank=True)
    avito_updated = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="Avito's chat object as last seen")
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at"]
        permissions = [("reply_chat", "Can reply to the client and mark the chat read (staff inbox)")]

    def __str__(self) -> str:
        return f"{self.id} ({self.client_name or 'unknown'})"


class Direction(models.TextChoices):
    IN = "in", "incoming"
    OUT = "out", "outgoing"


class Message(models.Model):
    id = models.CharField(primary_key=True, max_length=128, help_text="Avito message id")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    author_id = models.BigIntegerField(null=True, blank=True)
    direction = models.CharField(max_length=3, choices=Direction.choices, db_index=True)
    type = models.CharField(max_length=16, db_index=True)
    text = models.TextField(blank=True)
    content = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(null=True, blank=True, db_index=True)
    is_read = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)
    stored_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.id}"


class BlacklistEntry(models.Model):
    user_id = models.BigIntegerField(db_index=True)
    item_id = models.BigIntegerField(null=True, blank=True)
    reason_id = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "blacklist entries"
        constraints = [models.UniqueConstraint(fields=["user_id", "item_id"], name="blacklist_user_item")]


class IdempotencyRecord(models.Model):
    """The first answer to a send with an Idempotency-Key, replayed for 24 hours."""

    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=255, help_text="endpoint and API key the key belongs to")
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="empty while in flight")
    response_body = models.JSONField(null=True, blank=True)
    unsettled = models.JSONField(null=True, blank=True,
                                 help_text="a send with an unknown outcome: what to look for in the chat on a retry")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")]


# The account whose token and window a row holds: `default` (the environment's account: the rows of
# the single-account gateway) or another account's id (messenger.avito.credentials).
ACCOUNT_KEY_LENGTH = 40


class AvitoToken(models.Model):
    """An account's access token when there is no Redis: one row per account, plus a lease so one process fetches."""

    account_key = models.CharField(max_length=ACCOUNT_KEY_LENGTH, unique=True, default="default")
    access_token = models.TextField(blank=True)
    expires_at = models.FloatField(default=0, help_text="Unix time")
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.FloatField(default=0, help_text="Unix time")


class RateLimitCall(models.Model):
    """One Avito call in the current window, for the database-backed rate limiter."""

    account_key = models.CharField(max_length=ACCOUNT_KEY_LENGTH, default="default")
    at = models.FloatField(db_index=True, help_text="Unix time of the call")

    class Meta:
        indexes = [models.Index(fields=["account_key", "at"], name="ratelimitcall_account_at")]


class RateLimitLock(models.Model):
    """One row per account, locked with SELECT ... FOR UPDATE so its limiter decisions serialize on PostgreSQL;
    it also holds the pause every process keeps after Avito answers 429 to that account."""

    account_key = models.CharField(max_length=ACCOUNT_KEY_LENGTH, unique=True, default="default")
    paused_until = models.FloatField(default=0, help_text="Unix time; 0 = no pause")
    probing = models.BooleanField(default=False, help_text="one call is testing whether the pause is over")
