"""Request fields stricter than DRF's defaults, so wrong types and unknown fields get a 400 naming them.

DRF quietly turns `123` into `"123"` for a CharField and ignores keys it does not know;
for a send, either usually means the caller made a mistake that would otherwise send
the wrong thing, so both are refused here.
"""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers



class StrictCharField(serializers.CharField):
    """A string, and only a string (no numbers or booleans turned into text)."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# http:// or https://, a host (a name or an [IPv6] literal), then anything but spaces and control characters.
# Exactly what the OpenAPI document says (the pattern is in it), no more: Avito or the URL guard judges the
# rest. Explicit ranges rather than \s: Python's and JavaScript's \s disagree (U+0085, U+001C..U+001F).
_URL_CHAR = r"[^\x00-\x20\x7f-\x9f/?#\[\]@]"
HTTP_URL_RE = (rf"^https?://({_URL_CHAR}+@)?(\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\]|{_URL_CHAR}+)(:[0-9]*)?"
               r"([/?#][^\x00-\x20\x7f-\x9f]*)?$")


@deconstructible
class HttpUrlValidator(RegexValidator):
    """The pattern over the whole value (RegexValidator searches, and Python's `$` also matches before a
    final newline, which the document's pattern does not)."""

    def __call__(self, value):
        if not isinstance(value, str) or not re.fullmatch(HTTP_URL_RE, value):
            raise ValidationError(self.message, code=self.code, params={"value": value})


class HttpUrlField(StrictCharField):
    """An absolute http:// or https:// URL (no ftp, file, javascript...)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2048)
        super().__init__(**kwargs)
        self.validators.append(HttpUrlValidator(HTTP_URL_RE, "Must be an http:// or https:// URL."))


def comma_list_pattern(part: str) -> str:
    """A whole comma-separated list of `part`s, spaces allowed around each; no empty parts."""
    return f"^ *{part} *(, *{part} *)*$"


@extend_schema_field(OpenApiTypes.STR)
class CommaListField(serializers.Field):
    """A query parameter holding a comma-separated list, each part checked by `child`.

    Subclasses name the shape of one part (`part`), which is both checked here and written
    into the OpenAPI document as the parameter's pattern, so the two cannot disagree.
    """

    # Starts and ends with neither comma nor space, so the spaces around a part belong to ` *` alone:
    # with `[^,]+` each space could go to either side, and a hostile list backtracked 4^segments times.
    part = r"[^, ]([^,]*[^, ])?"
    default_error_messages = {"invalid": "Must be a comma-separated list."}

    def __init__(self, *, child: serializers.Field, **kwargs):
        self.child = child
        super().__init__(**kwargs)
        self.child.bind(field_name="", parent=self)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(comma_list_pattern(self.part), data):
            self.fail("invalid")
        parts = [part.strip() for part in data.split(",") if part.strip()]
        values, errors = [], {}
        for index, part in enumerate(parts):
            try:
                values.append(self.child.run_validation(part))
            except serializers.ValidationError as exc:
                errors[index] = f"{part!r}: {' '.join(str(e) for e in exc.detail)}"
        if errors:
            raise serializers.ValidationError(list(errors.values()))
        return list(dict.fromkeys(values))  # drop repeats, keep order

    def to_representation(self, value):
        return ",".join(str(v) for v in value)


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare: `{"chat_id", "txt"}` is a typo, not a message with no text."""

    def validate(self, attrs):
        if hasattr(self.initial_data, "keys"):
            unknown = sorted(set(self.initial_data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().validate(attrs)
