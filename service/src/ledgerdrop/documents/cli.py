"""The documents' commands of `ledgerdrop`: `smtpd` and `rules install`. Imported by
`core/cli.py` before Django is set up, so Django and the apps are imported inside `run`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

COMMANDS = frozenset({"smtpd", "rules"})


def add_commands(commands: Any) -> None:
    smtpd = commands.add_parser("smtpd", help="the inbound e-mail listener")
    smtpd.add_argument("--host", default="127.0.0.1")
    smtpd.add_argument("--port", type=int, default=2525)

    rules = commands.add_parser("rules", help="the PEPPOL validation rules")
    actions = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    install = actions.add_parser("install", help="install the official PEPPOL Schematron file")
    install.add_argument("--from", dest="source", required=True, help="a path or an https URL")
    install.add_argument("--sha256", required=True, help="the SHA-256 the file must have")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    import django

    django.setup()
    from django.conf import settings

    if args.command == "smtpd":
        from ledgerdrop.documents import smtpd

        smtpd.serve(args.host, args.port)
        return 0
    from ledgerdrop.documents import peppol_validator, rules_install

    try:
        if peppol_validator.rules_in_storage():
            sha256 = rules_install.install_in_storage(args.source, args.sha256)
            print(
                f"PEPPOL rules {sha256} installed in the bucket {settings.LEDGERDROP_S3_BUCKET}; "
                f"every node uses them within {peppol_validator.RULES_RECHECK_SECONDS:.0f} s."
            )
            return 0
        path = rules_install.install(args.source, args.sha256, settings.LEDGERDROP_PEPPOL_RULES)
    except rules_install.RulesInstallError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"PEPPOL rules installed at {path}; restart the service to use them.")
    return 0
