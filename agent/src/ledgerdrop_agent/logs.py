"""Structured log lines (`ts=… level=info event=placed id=12 path="ACME01/achats/x.xml"`),
one event per line, so that a support person can grep a customer's log file."""

from __future__ import annotations

import logging
import logging.handlers
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOGGER = "ledgerdrop_agent"
_FIELDS = "ledgerdrop_fields"


def event(logger: logging.Logger, level: int, name: str, **fields: Any) -> None:
    # Not `logger.log`: it looks up the caller's file and line for every record (a walk up the
    # stack, at a line per placed file), and no formatter here shows them.
    if logger.isEnabledFor(level):
        extra = {_FIELDS: fields}
        logger.handle(logger.makeRecord(logger.name, level, "", 0, name, (), None, extra=extra))


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


class _RotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The standard handler formats every line twice (once to see whether it still fits) and
    asks the file system twice per line whether the log is a regular file: at a line per placed
    file, a tenth of the downloader's CPU. This one formats each line once; still written and
    flushed line by line, so that a crash loses none."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        # Never roll over anything but a regular file (a log sent to /dev/null, say).
        self._rolls = max_bytes > 0 and Path(self.baseFilename).is_file()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
            # Characters, not bytes: the limit is approximate anyway (as the standard one's).
            if self._rolls and self.stream.tell() + len(line) >= self.maxBytes:
                self.doRollover()
                if self.stream is None:
                    self.stream = self._open()
            self.stream.write(line)
            self.stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def file_handler(path: Path) -> logging.Handler:
    handler = _RotatingFileHandler(path, max_bytes=5_000_000, backups=5)
    handler.setFormatter(KeyValueFormatter())
    return handler


_NEEDS_QUOTES = re.compile(r'[ "=\\\n\t]')


def _quote(value: object) -> str:
    text = str(value)
    if text and not _NEEDS_QUOTES.search(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'
