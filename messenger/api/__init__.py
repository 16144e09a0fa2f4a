"""The gateway's REST API for chats, messages, token, webhook subscriptions and blacklist."""
