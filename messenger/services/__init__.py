"""Business logic of the REST API and the workers: each module owns one resource.

Views and Celery tasks call these keyword-only functions (`message_send_text`,
`chat_mark_read`, ...); they talk to Avito through `messenger.avito.get_client()`,
store what they see through `messenger.storage`, and raise the gateway's own error types
(`core.errors`) or Avito's typed errors, which the one exception handler turns into
the JSON error envelope.
"""
