"""Keyset paging: a page is the rows after the last one shown, found through an index, so the
thousandth page costs what the first does and a row added meanwhile is neither skipped nor shown
twice (an OFFSET shifts under it). The cursor is the last row's date and id, as text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest

Row = TypeVar("Row", bound=models.Model)
# Rows of a page in the lists that can grow to a million (documents to process).
PER_PAGE = 50


@dataclass(frozen=True)
class Page(Generic[Row]):
    rows: list[Row]
    # The cursor of the next page, or "" on the last.
    next_cursor: str


# The most rows an API client gets in one page.
MAX_LIMIT = 1000


def clamp(limit: int) -> int:
    """An API client's `limit`, kept between 1 and MAX_LIMIT."""
    return min(max(limit, 1), MAX_LIMIT)


def parse_cursor(cursor: str | None) -> tuple[dt.date, int] | None:
    """A cursor as `page` wrote it (`2026-11-02.1234`), or None (the first page) for anything
    else: a mangled link shows the first page rather than an error."""
    date, _dot, pk = (cursor or "").partition(".")
    try:
        return dt.date.fromisoformat(date), int(pk)
    except ValueError:
        return None


def page(
    rows: QuerySet[Row], cursor: str | None, *, size: int, field: str, descending: bool = False
) -> Page[Row]:
    """The `size` rows after `cursor` in the order (`field`, id), newest first when
    `descending`. The query needs an index on (…, `field`, id) to stay fast at any depth."""
    after = parse_cursor(cursor)
    if after is not None:
        date, pk = after
        # The first condition alone bounds the index scan; the second drops the rows of that
        # date already shown.
        if descending:
            rows = rows.filter(Q((f"{field}__lte", date)), Q((f"{field}__lt", date)) | Q(pk__lt=pk))
        else:
            rows = rows.filter(Q((f"{field}__gte", date)), Q((f"{field}__gt", date)) | Q(pk__gt=pk))
    order = (f"-{field}", "-pk") if descending else (field, "pk")
    found = list(rows.order_by(*order)[: size + 1])
    shown = found[:size]
    more = len(found) > size
    last = shown[-1] if shown else None
    next_cursor = f"{getattr(last, field).isoformat()}.{last.pk}" if more and last else ""
    return Page(rows=shown, next_cursor=next_cursor)


def links(request: HttpRequest, shown: Page[Row]) -> dict[str, str]:
    """A pager's links (`first_page`, `next_page`, "" when there is none): the same filters,
    from the start or after this page."""
    query = request.GET.copy()
    query.pop("after", None)
    first = query.urlencode()
    query["after"] = shown.next_cursor
    return {
        "first_page": f"?{first}" if request.GET.get("after") else "",
        "next_page": f"?{query.urlencode()}" if shown.next_cursor else "",
    }


def link_header(request: HttpRequest, shown: Page[Row]) -> str:
    """RFC 8288's `Link: <…>; rel="next"` of an API list read in pages, or "" on the last:
    the answer stays the list it always was, and a client follows the links."""
    if not shown.next_cursor:
        return ""
    query = request.GET.copy()
    query["after"] = shown.next_cursor
    return f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'


def count_label(rows: QuerySet[Row], *, cap: int = 100) -> str:
    """How many rows, as a badge says it: "100+" past `cap`. Counting a million rows that
    each need a check (not yet sent, say) takes seconds; counting to the cap does not."""
    count = rows[: cap + 1].count()
    return f"{cap}+" if count > cap else str(count)
