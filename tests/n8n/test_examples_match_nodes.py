"""Every parameter the example workflows set exists, and is shown, in the built node's description.

Fast (no n8n): Node.js loads the compiled nodes from dist/ and prints their descriptions. A typo
or a renamed parameter would otherwise only show in n8n as a silently ignored value.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.n8n.package import build_reason, ensure_built
from tests.sandbox.test_sandbox_n8n_examples import AVITOGW, EXAMPLES, ON_THE_PACKAGE, TRIGGER, load

pytestmark = pytest.mark.skipif(build_reason() is not None, reason=str(build_reason()))
PRINT_DESCRIPTIONS = """
const dist = process.argv[1];
const { Avitogw } = require(`${dist}/nodes/Avitogw/Avitogw.node.js`);
const { AvitogwTrigger } = require(`${dist}/nodes/AvitogwTrigger/AvitogwTrigger.node.js`);
console.log(JSON.stringify({ action: new Avitogw().description, trigger: new AvitogwTrigger().description }));
"""


@pytest.fixture(scope="module")
def descriptions():
    dist = ensure_built()
    completed = subprocess.run(["node", "-e", PRINT_DESCRIPTIONS, str(dist)], capture_output=True, text=True,
                               timeout=60, check=True)
    described = json.loads(completed.stdout)
    return {AVITOGW: described["action"], TRIGGER: described["trigger"]}


def shown(prop: dict, parameters: dict, properties: list[dict]) -> bool:
    defaults = {p["name"]: p.get("default") for p in properties}
    for name, allowed in ((prop.get("displayOptions") or {}).get("show") or {}).items():
        if parameters.get(name, defaults.get(name)) not in allowed:
            return False
    return True


def check_value(prop: dict, value) -> None:
    if isinstance(value, str) and value.startswith("="):
        return  # an expression: its value is only known at run time
    if prop["type"] == "options":
        assert value in [option["value"] for option in prop["options"]], (prop["name"], value)
    if prop["type"] == "collection":
        inner = {option["name"]: option for option in prop["options"]}
        for key, inner_value in value.items():
            assert key in inner, (prop["name"], key)
            check_value(inner[key], inner_value)
    if prop["type"] == "multiOptions":
        assert set(value) <= {option["value"] for option in prop["options"]}, (prop["name"], value)


@pytest.mark.parametrize("name", ON_THE_PACKAGE)
def test_example_parameters_exist_in_the_nodes(descriptions, name):
    for node in load(name)["nodes"]:
        if node["type"] not in descriptions:
            continue
        properties = descriptions[node["type"]]["properties"]
        for key, value in node["parameters"].items():
            candidates = [p for p in properties if p["name"] == key and shown(p, node["parameters"], properties)]
            assert candidates, f"{name}: {node['name']} sets {key!r}, which its node does not show"
            check_value(candidates[0], value)
        for credential in node.get("credentials", {}):
            assert credential in [c["name"] for c in descriptions[node["type"]]["credentials"]]


def test_the_nodes_cover_every_operation_issues_15_and_23_list(descriptions):
    wanted = {"message": {"sendText", "sendImage", "sendLink", "delete", "list", "unreadAll"},
              "chat": {"get", "list", "markRead", "unreadCount", "searchByItem"},
              "bulk": {"submit", "get", "cancel"}, "blacklist": {"add"}, "delivery": {"list", "replay"},
              "automation": {"get", "set"}}  # issue 23: a chat's automation state
    properties = descriptions[AVITOGW]["properties"]
    offered = {}
    for prop in properties:
        if prop["name"] == "operation":
            [resource] = prop["displayOptions"]["show"]["resource"]
            offered[resource] = {option["value"] for option in prop["options"]}
    assert offered == wanted
    assert descriptions[AVITOGW]["name"] == "avitogw" and descriptions[TRIGGER]["name"] == "avitogwTrigger"
    assert EXAMPLES.is_dir()


def test_the_account_field_and_sender_default_to_what_todays_gateway_takes(descriptions):
    """Contract §7: Account empty = the unprefixed routes; sender "bot" = no body field (see sender.ts)."""
    properties = {p["name"]: p for p in descriptions[AVITOGW]["properties"]}
    assert properties["account"]["default"] == "" and properties["account"]["type"] == "options"
    assert properties["account"]["typeOptions"] == {"loadOptionsMethod": "getAccounts"}
    senders = [p for p in descriptions[AVITOGW]["properties"] if p["name"] == "sender"]
    assert {r for p in senders for r in p["displayOptions"]["show"]["resource"]} == {"message", "bulk"}
    assert all(p["default"] == "bot" for p in senders)
