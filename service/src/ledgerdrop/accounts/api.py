"""Application API of accounts (`/api/v1/`)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["accounts"])


class OrganisationOut(Schema):
    id: int
    kind: str
    name: str
    role: str


class MeOut(Schema):
    email: str
    organisations: list[OrganisationOut]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    user = request.auth  # type: ignore[attr-defined]
    memberships = user.memberships.select_related("organisation").order_by("organisation__name")
    return MeOut(
        email=user.email,
        organisations=[
            OrganisationOut(
                id=m.organisation.pk,
                kind=m.organisation.kind,
                name=m.organisation.name,
                role=m.role,
            )
            for m in memberships
        ],
    )
