"""App config of `reconcile`."""
from django.apps import AppConfig


class ReconcileConfig(AppConfig):
    name = "reconcile"
    verbose_name = "Reconciliation (messages whose notification never came)"
