"""Fresh voice links for deliveries that had to wait: Avito's getVoiceFiles URL lives one hour.

A voice message's URL is resolved when the event is processed. When n8n was down for
longer than the link lives, posting the stored body would hand n8n a dead link, so an
attempt made after VOICE_URL_FRESH asks Avito again and stores the new body (the
webhook-id stays the same). If Avito cannot answer, the stored body is sent as it is.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from messenger.avito import get_client
from messenger.avito.errors import AvitoError
from messenger.normalizer import voice_id
from webhooks.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

VOICE_URL_FRESH = timedelta(minutes=50)  # Avito's hour, less a margin for n8n to fetch the file


def delivery_voice_refresh(*, delivery_pk: int, now: datetime) -> bool:
    """Renew the voice URL of a due delivery older than VOICE_URL_FRESH; True when it changed."""
    delivery = Delivery.objects.select_related("incoming_event").filter(
        pk=delivery_pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
        created_at__lte=now - VOICE_URL_FRESH,
    ).first()
    if delivery is None or delivery.incoming_event is None:
        return False
    payload = json.loads(delivery.body)
    if not (payload.get("media") or {}).get("has_voice"):
        return False
    value = ((delivery.incoming_event.raw.get("payload") or {}).get("value") or {})
    wanted = voice_id(value.get("content"))
    if not wanted:
        return False
    try:
        url = get_client().voice_urls([wanted]).get(wanted)
    except AvitoError as exc:
        logger.warning("Could not renew the voice URL of %s: %s", delivery.event_id, exc.message)
        return False
    if not url or url == payload["media"].get("voice_url"):
        return False
    payload["media"]["voice_url"] = url
    return bool(Delivery.objects.filter(pk=delivery_pk, status=DeliveryStatus.PENDING).update(
        body=json.dumps(payload, ensure_ascii=False)))
