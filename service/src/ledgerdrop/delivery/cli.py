"""The delivery commands of `ledgerdrop`: `downloads build`. Imported by `core/cli.py` before
Django is set up, so Django and the app are imported inside `run`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

COMMANDS = frozenset({"downloads"})


def add_commands(commands: Any) -> None:
    downloads = commands.add_parser("downloads", help="the downloader this server hands out")
    actions = downloads.add_subparsers(dest="downloads_command", required=True, metavar="ACTION")
    actions.add_parser(
        "build", help="build the downloader's wheels of this version into the downloads folder"
    )


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    import django

    django.setup()
    from ledgerdrop.delivery import downloads

    try:
        wheels = downloads.build()
    except downloads.DownloadsUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    for wheel in wheels:
        print(f"Built {wheel.path} (sha256 {wheel.sha256})")
    zip_path = downloads.windows_zip()
    if zip_path.is_file():
        print(f"Windows downloader: {zip_path}")
    else:
        print(
            f"Windows downloader: not built; `{downloads.WINDOWS_ZIP_COMMAND}` writes {zip_path}."
        )
    print("Served under /downloads/agent/.")
    return 0
