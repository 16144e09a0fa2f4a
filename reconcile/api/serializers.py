"""What the reconciliation API reads and answers."""
from __future__ import annotations

from rest_framework import serializers

from reconcile.models import ReconcileRun


class RunListQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20, help_text="how many runs, newest first")


class ReconcileRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReconcileRun
        fields = ["id", "trigger", "outcome", "started_at", "finished_at", "since", "watermark", "chats_seen",
                  "messages_found", "calls", "error"]


class RunListResponse(serializers.Serializer):
    runs = ReconcileRunSerializer(many=True)
    interval = serializers.IntegerField(help_text="RECONCILE_INTERVAL: seconds between runs, 0 = off")
    lag_seconds = serializers.FloatField(allow_null=True, help_text=(
        "seconds since the watermark, the start of the oldest window still to read (about an interval "
        "when reconciliation keeps up); null before the first run"))
