"""`/api/reconcile/runs`: the latest reconciliation runs."""
