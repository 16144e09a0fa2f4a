"""The account flags: one account by default, ``--account`` (repeatable) and ``--accounts N``."""

import argparse

import pytest

from sandbox.accounts import AccountSpec
from sandbox.options import add_arguments, options_from
from sandbox.server import describe


def parse(*argv: str):
    parser = argparse.ArgumentParser()
    add_arguments(parser, default_user=1000)
    return options_from(vars(parser.parse_args(list(argv))))


def test_without_the_new_flags_one_account_as_before():
    assert parse().accounts() == [AccountSpec(1000, None, None)]
    configured = parse("--user-id", "5", "--client-id", "gw", "--client-secret", "s")
    assert configured.accounts() == [AccountSpec(5, "gw", "s")]
    assert "account id 1000" in describe(parse()) and "any client id/secret" in describe(parse())
    # A caller that knows nothing of the new options (an older launcher's dict) still works.
    assert options_from({"user_id": 7}).accounts() == [AccountSpec(7)]


def test_accounts_n_generates_ids_and_credentials_and_prints_them():
    options = parse("--accounts", "3", "--user-id", "4000001")
    assert options.accounts() == [AccountSpec(4000001, "client-4000001", "secret-4000001"),
                                  AccountSpec(4000002, "client-4000002", "secret-4000002"),
                                  AccountSpec(4000003, "client-4000003", "secret-4000003")]
    text = describe(options)
    assert "3 accounts" in text and "account id 4000003" in text
    assert "client_id=client-4000002 client_secret=secret-4000002" in text
    first = parse("--accounts", "2", "--client-id", "gw", "--client-secret", "s").accounts()[0]
    assert first == AccountSpec(1000, "gw", "s")


def test_account_specs_with_and_without_credentials_and_names():
    options = parse("--account", "11:c11:s11:Лавка: у дома", "--account", "12", "--accounts", "3")
    assert options.accounts() == [AccountSpec(11, "c11", "s11", "Лавка: у дома"),
                                  AccountSpec(12, "client-12", "secret-12"), AccountSpec(13, "client-13", "secret-13")]
    assert "(Лавка: у дома)" in describe(options)


@pytest.mark.parametrize("value, says", [("abc", "positive numeric USER_ID"), ("0", "positive numeric USER_ID"),
                                         ("11:only-id", "both CLIENT_ID and CLIENT_SECRET"),
                                         ("11::s", "both CLIENT_ID and CLIENT_SECRET")])
def test_malformed_account_flags_are_refused(value, says, capsys):
    with pytest.raises(SystemExit):
        parse("--account", value)
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [
    (["--account", "11", "--account", "11"], "differ"),
    (["--account", "11:c:s", "--account", "12:c:t"], "client_id"),
    (["--account", "11", "--client-id", "x"], "--client-id"),
    (["--accounts", "0"], "1 or more"),
])
def test_contradictory_account_flags_are_refused(argv, says):
    with pytest.raises(ValueError, match=says):
        parse(*argv)
