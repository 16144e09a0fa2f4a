"""Incoming Avito notifications and their durable, signed delivery to n8n."""
