"""Bulk send jobs: many messages, sent by workers within the shared rate limit."""
