"""Validating a request's input with a serializer: one call for every API action of every app."""
from __future__ import annotations

from rest_framework import serializers


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """The serializer's validated data, or a ValidationError (400 naming each bad field)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
