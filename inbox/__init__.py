"""The staff inbox in the admin: a chat's page is the conversation, with a reply form and actions.

`thread` reads a chat's stored messages with their n8n delivery status, `chat_admin` shows
chats (read-only: they are Avito's data) and `chat_actions` holds the reply, mark-read,
block and voice views, each a thin call of the services the REST API uses.
"""
