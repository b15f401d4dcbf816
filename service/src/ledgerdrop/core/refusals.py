"""A service's refusal on a page: the one way views show a `ServiceError` to a person, as the
form's error when there is a form to correct, else as a message on the next page."""

from __future__ import annotations

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpRequest

from ledgerdrop.core.errors import ServiceError


def show_refusal(
    request: HttpRequest,
    error: ServiceError,
    *,
    form: BaseForm | None = None,
    field: str | None = None,
    details: int = 0,
) -> None:
    """The error's message on `form` (on `field`, else on the whole form) or, with no form, as
    an error message. `details` also lists that many of the error's own points (the findings of
    a validation), each in a person's words when the error has them (`summary`)."""
    if form is None:
        messages.error(request, error.message)
        return
    form.add_error(field, error.message)
    for point in error.errors[:details]:
        text = (
            f"{point['summary']} ({point['message']})" if "summary" in point else point["message"]
        )
        form.add_error(None, text)
