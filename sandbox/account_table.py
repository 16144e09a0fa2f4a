"""The table of served accounts: in order (the first is the primary one), looked up by id, credentials or chat.

Adding an account replaces the inner mapping instead of changing it, so a request reading
the table while a control hook adds an account sees one whole version or the other.
"""

from __future__ import annotations

from typing import Iterator

from sandbox.accounts import Account
from sandbox.errors import ApiError


class AccountTable:
    def __init__(self, accounts: list[Account]):
        self._by_id = {account.user_id: account for account in accounts}

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._by_id))

    def __len__(self) -> int:
        return len(self._by_id)

    def __getitem__(self, user_id: int) -> Account:
        return self._by_id[user_id]

    def values(self) -> list[Account]:
        return list(self._by_id.values())

    def get(self, user_id: int | None) -> Account | None:
        return self._by_id.get(user_id)

    def add(self, account: Account) -> None:
        self._by_id = {**self._by_id, account.user_id: account}

    @property
    def primary(self) -> Account:
        """The first account: the one of one-account use, and the default of the /_sandbox hooks."""
        return next(iter(self._by_id.values()))

    def require(self, user_id: int) -> Account:
        account = self._by_id.get(user_id)
        if account is None:
            raise ApiError(404, f"Not found: the sandbox serves no account {user_id}")
        return account

    def for_credentials(self, client_id: str) -> Account | None:
        """The account these credentials are for: its own client_id, else one that takes any."""
        accounts = self.values()
        return (next((a for a in accounts if a.client_id == client_id), None)
                or next((a for a in accounts if a.accepts_any_credentials), None))

    def with_chat(self, chat_id: str) -> Account:
        """The account that has the chat (chat ids are unique across accounts); 404 if none."""
        for account in self.values():
            if chat_id in account.state.chats:
                return account
        raise ApiError(404, f"Not found: chat {chat_id} does not exist")
