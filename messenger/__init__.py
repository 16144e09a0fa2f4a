"""Avito Messenger: the Avito client, chats, messages, sends and bulk jobs."""
