"""Talking to n8n: the one HTTP client (`client`) and Standard Webhooks signatures (`signing`).

Both message deliveries (webhooks.delivery) and bulk-job callbacks (bulk.callback_client)
POST signed bodies to n8n, so the client and the signer live here, in the project, where
either app uses them without reaching into the other.
"""
