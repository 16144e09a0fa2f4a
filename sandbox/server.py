"""Serves the sandbox with gunicorn embedded: one worker process, gthread threads, keep-alive.

One worker because the state lives in that process's memory; threads for concurrency.
``python -m sandbox.server [flags]`` runs it without Django; ``manage.py avito_sandbox``
takes the same flags.
"""

from __future__ import annotations

import argparse
import logging
import sys

from gunicorn.app.base import BaseApplication

from sandbox.accounts import default_name
from sandbox.options import SandboxOptions, add_arguments, options_from


def describe(options: SandboxOptions) -> str:
    rate = f"{options.rate[0]}/{options.rate[1]:g}s" if options.rate else "no limit"
    accounts = options.accounts()
    if len(accounts) == 1 and not options.account_specs and options.account_count is None:
        credentials = "only the configured client id/secret" if (options.client_id or options.client_secret) \
            else "any client id/secret"
        return (f"Avito sandbox listening on http://{options.host}:{options.port} "
                f"(account id {options.user_id}, {options.chats} chats, seed {options.seed}, rate {rate}, "
                f"{credentials}; control hooks at {options.base_url}/_sandbox/)")
    lines = [f"Avito sandbox listening on http://{options.host}:{options.port} "
             f"({len(accounts)} accounts, {options.chats} chats each, seed {options.seed}, rate {rate} per account; "
             f"control hooks at {options.base_url}/_sandbox/)"]
    for index, spec in enumerate(accounts):
        lines.append(f"  account id {spec.user_id} ({spec.name or default_name(index)}): "
                     f"client_id={spec.client_id} client_secret={spec.client_secret}")
    return "\n".join(lines)


class SandboxServer(BaseApplication):
    def __init__(self, options: SandboxOptions):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": f"{self.options.host}:{self.options.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": self.options.threads,
            "keepalive": 30,
            # Injected hangs ("status": "timeout") last 30 s; the worker must outlive them.
            "timeout": 120,
            "graceful_timeout": 5,
            "accesslog": "-" if self.options.access_log else None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "avito-sandbox",
            # No control socket: it defaults to one shared path, which a gateway's gunicorn also wants.
            "control_socket_disable": True,
        }
        for name, value in settings.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self):
        # Imported here so the app (its state, its webhook pool) is built inside the worker process.
        from sandbox.app import SandboxApp
        return SandboxApp(self.options)


def serve(options: SandboxOptions) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    print(describe(options), flush=True)
    SandboxServer(options).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.server", description="Avito Messenger API sandbox")
    add_arguments(parser)
    try:
        options = options_from(vars(parser.parse_args(argv)))
    except ValueError as exc:
        parser.error(str(exc))
    sys.argv = sys.argv[:1]  # gunicorn must not read our flags as its own
    serve(options)


if __name__ == "__main__":
    main()
