"""Why an e-mail preset's message waits or failed, kept as a code and its values and said in
the reader's language when read: the worker that records it runs in the service's default
language (French), and a Dutch- or English-speaking accountant reads it later in theirs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop

TEXTS = {
    # The service's own answers, where a mail server's would stand.
    "no_answer": gettext_noop("No answer from the mail server %(host)s:%(port)s (%(error)s)."),
    "too_big": gettext_noop(
        "The message is %(size)s bytes, more than the %(limit)s bytes the service "
        "sends (LEDGERDROP_CONNECTOR_EMAIL_MAX_BYTES)."
    ),
    # Why a message waits, or failed.
    "not_taken_yet": gettext_noop(
        "The mail server did not take it yet (%(answer)s); next try at %(when)s."
    ),
    "refused_after_tries": gettext_noop(
        "The mail server refused it after %(count)s tries: %(answer)s"
    ),
    "refused": gettext_noop("Refused: %(answer)s"),
}


def text(code: str, params: Mapping[str, Any]) -> str:
    """The reason in the active language. A value that is itself a reason (the service's own
    answer: `{"code", "params"}`) is said the same way; `when`, an ISO date and time, in the
    local time zone."""
    values = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            values[key] = text(value["code"], value["params"])
        elif key == "when":
            moment = timezone.localtime(dt.datetime.fromisoformat(value))
            values[key] = date_format(moment, "SHORT_DATETIME_FORMAT")
        else:
            values[key] = value
    return gettext(TEXTS[code]) % values
