"""RFC 9457 problem details, the one error shape of both APIs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[dict[str, Any]] | None = None

    def message(self) -> str:
        """One line a person can act on."""
        return f"{self.title}: {self.detail}" if self.detail else self.title
