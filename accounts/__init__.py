"""The Avito accounts one gateway serves (issue 22; contract §8): the Account row and its API.

Where it sits: above `messenger`, below `webhooks`. The Avito client lives in messenger and
knows an account only as a plain `AvitoCredentials` value (messenger.avito.credentials), so
messenger never imports this app; this app turns an Account into those credentials
(accounts.avito_clients) and asks messenger for that account's client (`client_for`). Apps above
(webhooks, bulk, reconcile, inbox) may import accounts to learn which account a piece of work is
for. Models of lower apps that come to belong to an account will name it as "accounts.Account"
(a string reference, no import).

What this foundation holds: the model, secrets encrypted at rest (accounts.encryption), the
environment's account `default` (accounts.environment), a client per account with its own token
and call window, and the accounts API and admin. What issue 22 still asks is listed in
docs/accounts.md, "Not yet".
"""
