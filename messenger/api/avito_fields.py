"""Request fields for Avito's own values: its ids, item id lists and chat types."""
from __future__ import annotations

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field

from core.api.fields import CommaListField, StrictCharField, comma_list_pattern
from messenger.avito.ids import AVITO_ID_RE, ID_MAX_LENGTH, ID_RULE


class AvitoIdField(StrictCharField):
    """A chat, message or image id as Avito writes it; nothing that could alter Avito's URL path."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", ID_MAX_LENGTH)
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(AVITO_ID_RE, f"Must be an Avito id: {ID_RULE}."))


ITEM_ID_PART = "[1-9][0-9]{0,17}"
CHAT_TYPE_PART = "(u2i|u2u|a2u)"


@extend_schema_field({"type": "string", "pattern": comma_list_pattern(ITEM_ID_PART)})
class ItemIdsField(CommaListField):
    part = ITEM_ID_PART
    default_error_messages = {"invalid": "Must be a comma-separated list of Avito item ids (1 to 18 digits)."}


@extend_schema_field({"type": "string", "pattern": comma_list_pattern(CHAT_TYPE_PART)})
class ChatTypesField(CommaListField):
    part = CHAT_TYPE_PART
    default_error_messages = {"invalid": "Must be a comma-separated list among u2i, u2u, a2u."}
