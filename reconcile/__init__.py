"""Reconciliation: find the customer messages whose Avito notification never arrived, and deliver them."""
