"""Avito Messenger: the Avito client, chats, messages and sends."""
