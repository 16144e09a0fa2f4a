"""The forms on a chat's page: the reply (with its idempotency key) and blocking the client."""
from __future__ import annotations

import uuid

from django import forms

from messenger.services.limits import MAX_IMAGE_BYTES, MAX_TEXT_LENGTH, REASON_IDS

BLOCK_REASONS = dict(zip(REASON_IDS, ("spam", "fraud", "insults", "other")))


class ReplyForm(forms.Form):
    text = forms.CharField(required=False, max_length=MAX_TEXT_LENGTH, strip=False,
                           widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write to the client…"}))
    image = forms.FileField(required=False, help_text=f"JPEG, PNG, GIF, BMP or HEIC, at most "
                                                      f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    # One key per rendered form: a double click or a resubmitted form sends once.
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_image(self):
        """Refused by its size as uploaded, before the view reads it whole to send it."""
        upload = self.cleaned_data.get("image")
        if upload is not None and upload.size > MAX_IMAGE_BYTES:
            raise forms.ValidationError(f"The image is {upload.size} bytes; Avito accepts at most {MAX_IMAGE_BYTES}.")
        return upload

    @classmethod
    def fresh(cls) -> "ReplyForm":
        return cls(initial={"idempotency_key": uuid.uuid4().hex})


class BlockForm(forms.Form):
    reason_id = forms.TypedChoiceField(coerce=int, choices=[(key, f"{key}: {name}") for key, name in BLOCK_REASONS.items()],
                                       label="Reason")
