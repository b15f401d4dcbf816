"""RFC 9457 problem details, the one error shape of both APIs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    """`code` is the stable name of the problem (also the end of `type`); `errors` points at
    the fields at fault, one `{"field", "message", …}` each."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    code: str | None = None
    errors: list[dict[str, Any]] | None = None

    def message(self) -> str:
        """One line a person can act on."""
        if not self.detail or self.detail == self.title:
            return self.title
        return f"{self.title}: {self.detail}"
