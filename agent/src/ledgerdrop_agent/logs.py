"""Structured log lines (`ts=… level=info event=placed id=12 path="ACME01/achats/x.xml"`),
one event per line, so that a support person can grep a customer's log file."""

from __future__ import annotations

import logging
import logging.handlers
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOGGER = "ledgerdrop_agent"
_FIELDS = "ledgerdrop_fields"


def event(logger: logging.Logger, level: int, name: str, **fields: Any) -> None:
    logger.log(level, name, extra={_FIELDS: fields})


def render_fields(record: logging.LogRecord) -> str:
    fields: dict[str, Any] = getattr(record, _FIELDS, {})
    return " ".join(f"{key}={_quote(value)}" for key, value in fields.items())


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"ts={stamp} level={record.levelname.lower()} event={_quote(record.getMessage())}"
        fields = render_fields(record)
        if fields:
            line += " " + fields
        if record.exc_info:
            line += " traceback=" + _quote(self.formatException(record.exc_info))
        return line


class EventFormatter(logging.Formatter):
    """For a person watching a terminal: the event and its fields, without the timestamp."""

    def format(self, record: logging.LogRecord) -> str:
        fields = render_fields(record)
        return f"{record.getMessage()} {fields}" if fields else record.getMessage()


def file_handler(path: Path) -> logging.Handler:
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(KeyValueFormatter())
    return handler


def _quote(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'
