"""The tenancy matrix: every page of the URL configuration and every operation of both OpenAPI
documents is tried as anonymous, as another firm and as another company against the rows of one
victim firm and its client company. Each must refuse (401/403/404, or the sign-in redirect for
anonymous pages) and never show the victim's data.

Routes and operations are discovered, not listed, so that those added later are covered without
editing this file. Their id parameters are filled from the victim's own rows, found by the
parameter's name (`device_id`, `{id}` after `/devices/`, …); a parameter no victim row fits
fails the test, asking for such a row in `victim_world`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from ledgerdrop.accounts import services as accounts
from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.connectors.presets import services as connector_presets
from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol import routes
from tests import builders

pytestmark = pytest.mark.django_db

# Pages anybody may open: signing in and up, password reset, language, health. Adding a page
# here is a security decision: it says the page shows nobody's data.
PUBLIC_PAGES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "signup",
    "signup-firm",
    "signup-company",
    "set-language",
    "set_language",
    "healthz",
    # The downloader and its install scripts (API.md, Downloads): the same for everybody, no
    # key or firm in them.
    "downloads-agent",
    "downloads-install-sh",
    "downloads-install-ps1",
    "downloads-windows-zip",
    "downloads-wheel",
}
# Operations without credentials by design (sign-up, sign-in, the first steps of pairing, the
# PEPPOL access point with its own token). Same rule as above.
PUBLIC_OPERATIONS = {
    ("POST", "/api/v1/signup"),
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/inbound/peppol"),
    ("POST", routes.PAIRINGS.url()),
    ("POST", routes.TOKEN.url()),
}
# Prefixes whose pages are not the product's: Django's own staff-only admin, and the two APIs,
# which are covered through their OpenAPI documents instead.
NOT_PAGES = ("admin/", "api/v1/", f"{routes.PREFIX.removeprefix('/')}/", "static/")
REFUSALS = {401, 403, 404, 405}
VICTIM_CODE = "VICTIM01"
VICTIM_NUMBER = "VICTIM-0001"


@dataclass
class World:
    firm: Organisation
    company: Organisation
    firm_owner: User
    company_owner: User
    device_token: str
    attackers: dict[str, User]
    attacker_device_token: str
    markers: list[str]
    owned: dict[type[models.Model], list[int]] = field(default_factory=dict)


def victim_world() -> World:
    kevin = builders.user("kevin.victim@fidu-victim.be")
    anne = builders.user("anne.victim@victim-company.be")
    firm = builders.firm("Fiduciaire Victime", owner=kevin)
    company = builders.company("Victime Boulangerie", owner=anne)
    dossier, _connection = builders.connected_dossier(firm, company, code=VICTIM_CODE)
    for preset in connector_presets.available_presets():
        connector_presets.switch(firm, preset.slug, True, by=None)
    connector_presets.connect(dossier, "expert-m", by=None)
    accounts.add_external_user(company, "invited.victim@elsewhere.be", by=anne)
    document = builders.document(company, number=VICTIM_NUMBER)
    credential = delivery.register_device(firm, name="PC Victime", hostname="victim-pc")
    delivery.queue_delivery(
        credential.device,
        relative_path=f"{VICTIM_CODE}/ventes/{VICTIM_NUMBER}.xml",
        blob=storage.Blob(sha256=document.ubl_sha256, size=document.ubl_size),
        source=document,
        company=company,
    )
    accounts.issue_token(kevin, "victim script")
    accounts.issue_token(anne, "victim script")
    delivery.mint_enrolment_key(firm, by=kevin)

    other_firm_owner = builders.user("eve@other-firm.be")
    builders.firm("Autre Fiduciaire", owner=other_firm_owner)
    other_company_owner = builders.user("mallory@other-company.be")
    builders.company("Autre Société", owner=other_company_owner)
    other_firm = Organisation.objects.get(memberships__user=other_firm_owner)
    attacker_device = delivery.register_device(other_firm, name="PC Eve")

    world = World(
        firm=firm,
        company=company,
        firm_owner=kevin,
        company_owner=anne,
        device_token=credential.token,
        attackers={"another firm": other_firm_owner, "another company": other_company_owner},
        attacker_device_token=attacker_device.token,
        markers=[firm.name, company.name, VICTIM_NUMBER, VICTIM_CODE, kevin.email, anne.email],
    )
    world.owned = owned_rows(roots=[firm, company, kevin, anne, credential.device])
    return world


def project_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("ledgerdrop.")]


def owned_rows(roots: list[models.Model]) -> dict[type[models.Model], list[int]]:
    """Every row that belongs to the victim: the roots and, repeatedly, rows pointing to them."""
    owned: dict[type[models.Model], set[Any]] = {}
    for root in roots:
        owned.setdefault(type(root), set()).add(root.pk)
    for _round in range(6):
        grew = False
        for model in project_models():
            for fk in model._meta.get_fields():
                if not isinstance(fk, models.ForeignKey | models.OneToOneField):
                    continue
                target = fk.related_model
                # Who did something (an audit row's actor) does not make the row theirs.
                if not isinstance(target, type) or target not in owned or fk.name == "actor":
                    continue
                pks = set(
                    model._default_manager.filter(**{f"{fk.name}__in": owned[target]}).values_list(
                        "pk", flat=True
                    )
                )
                if not pks <= owned.get(model, set()):
                    owned.setdefault(model, set()).update(pks)
                    grew = True
        if not grew:
            break
    return {model: sorted(pks) for model, pks in owned.items()}


def word_value(name: str) -> str:
    """A string parameter: an application's slug, a choice such as a document kind, or a word."""
    if name == "slug":
        return "bob-demat"
    return _choice_fields().get(name, "x")


def _choice_fields() -> dict[str, str]:
    """`kind` → the first kind a model offers: a string parameter that names a choice."""
    return {
        f.name: str(f.choices[0][0])
        for model in project_models()
        for f in model._meta.get_fields()
        if isinstance(f, models.Field) and f.choices
    }


def _singular(word: str) -> str:
    word = word.lower().replace("-", "").replace("_", "")
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def victim_value(
    world: World, name: str, previous_segment: str, route: str, app_package: str = ""
) -> Any:
    """The value of one path parameter: the victim's own organisation or row."""
    if name in {"firm_id", "fid"}:
        return world.firm.pk
    if name in {"company_id", "cid"}:
        return world.company.pk
    model = victim_model(world, name, previous_segment, app_package)
    if model is None:
        pytest.fail(
            f"{route}: no victim row fits the parameter {name!r}; add one to victim_world()"
        )
    return world.owned[model][0]


def victim_model(
    world: World, name: str, previous_segment: str, app_package: str = ""
) -> type[models.Model] | None:
    """`device_id` → Device; `default_device_id` → Device; `{id}` after `/documents/` →
    Document; `connection_id` → the connection model of the app whose view answers."""
    # `{id}`, and abbreviations such as `{did}`, name the collection the path just went into.
    short = name in {"id", "pk"} or re.fullmatch(r"[a-z]{1,2}id", name)
    stem = previous_segment if short else name.removesuffix("_id")
    words = re.split(r"[-_]", stem)
    names = {m: m._meta.model_name or "" for m in world.owned}
    for start in range(len(words)):
        wanted = _singular("".join(words[start:]))
        fitting = [
            *[m for m, n in names.items() if n == wanted],
            *[m for m, n in names.items() if n.endswith(wanted)],
            *[m for m, n in names.items() if n.startswith(wanted)],
        ]
        if fitting:
            own = [m for m in fitting if m.__module__.rpartition(".")[0] == app_package]
            return (own or fitting)[0]
    return None


# ---- pages ---------------------------------------------------------------------------------

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Page:
    route: str
    name: str
    default_kwargs: tuple[str, ...]
    # The app whose view answers: of two models that fit a parameter (two connectors both
    # have connections), the one of this app is meant.
    app_package: str = ""


def pages(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[Page]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith(NOT_PAGES):
                yield from pages(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and not route.startswith(NOT_PAGES):
            package = getattr(entry.callback, "__module__", "").rpartition(".")[0]
            yield Page(route, entry.name or "", tuple(entry.default_args), package)


def page_url(world: World, page: Page) -> str:
    def fill(match: re.Match[str]) -> str:
        if match["converter"] != "int":
            return word_value(match["name"])
        before = [s for s in page.route[: match.start()].split("/") if s]
        previous = before[-1] if before else ""
        return str(victim_value(world, match["name"], previous, page.route, page.app_package))

    return "/" + PARAMETER.sub(fill, page.route)


def is_sign_in_redirect(response: Any) -> bool:
    return bool(response.status_code == 302 and response["Location"].startswith("/accounts/login/"))


def shows_victim_data(world: World, response: Any) -> list[str]:
    body = response.content.decode(errors="replace")
    return [marker for marker in world.markers if marker in body]


def test_the_matrix_finds_the_pages_of_every_app() -> None:
    names = {page.name for page in pages()}

    assert {"dossiers", "dossier-detail", "company-users", "firm-apps", "devices"} <= names


def test_every_page_refuses_anonymous_visitors(client: Client) -> None:
    world = victim_world()
    failures = []
    for page in pages():
        if page.name in PUBLIC_PAGES:
            continue
        url = page_url(world, page)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if not (is_sign_in_redirect(response) or response.status_code in REFUSALS):
                failures.append(f"{method.upper()} {url} ({page.name}): {response.status_code}")
    assert failures == []


def test_every_page_of_an_organisation_refuses_other_firms_and_companies(client: Client) -> None:
    world = victim_world()
    failures = []
    checked = 0
    for page in pages():
        if page.name in PUBLIC_PAGES or not PARAMETER.search(page.route):
            continue
        url = page_url(world, page)
        for who, attacker in world.attackers.items():
            client.force_login(attacker)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                checked += 1
                leaked = shows_victim_data(world, response)
                if response.status_code not in REFUSALS or leaked:
                    failures.append(
                        f"{method.upper()} {url} as {who}: {response.status_code} {leaked}"
                    )
    assert checked > 0
    assert failures == []


def test_the_victims_own_pages_open_so_the_matrix_uses_real_ids(client: Client) -> None:
    """Without this, a wrong id would make every refusal above meaningless."""
    world = victim_world()
    failures = []
    for page in pages():
        converters = {m["converter"] for m in PARAMETER.finditer(page.route)}
        if page.name in PUBLIC_PAGES or converters != {"int"}:
            continue  # a guessed word (a kind, a slug) may rightly be unknown
        owner = world.company_owner if "company_id" in page.route else world.firm_owner
        client.force_login(owner)
        url = page_url(world, page)
        if client.get(url).status_code == 404:
            failures.append(url)
    assert failures == []


# ---- API operations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]
    components: dict[str, Any]

    @property
    def public(self) -> bool:
        return (self.method, self.path) in PUBLIC_OPERATIONS

    @property
    def secured(self) -> bool:
        return bool(self.spec.get("security"))


def operations(client: Client, document: str) -> list[Operation]:
    schema = client.get(document).json()
    components = schema.get("components", {}).get("schemas", {})
    return [
        Operation(method.upper(), path, spec, components)
        for path, methods in schema["paths"].items()
        for method, spec in methods.items()
    ]


def all_operations(client: Client) -> list[Operation]:
    return operations(client, "/api/v1/openapi.json") + operations(
        client, f"{routes.PREFIX}/openapi.json"
    )


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(
    world: World, schema: dict[str, Any], components: dict[str, Any], name: str = ""
) -> Any:
    """A small value the schema accepts; ids are the victim's (the server must still refuse)."""
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, components).get("type") != "null"]
            return example(world, options[0], components, name)
    if "allOf" in schema:
        return example(world, schema["allOf"][0], components, name)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            prop: example(world, properties[prop], components, prop)
            for prop in schema.get("required", [])
        }
    if kind == "array":
        item = example(world, schema.get("items", {}), components, name.removesuffix("s"))
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        model = victim_model(world, name, "") if name.endswith("_id") else None
        return world.owned[model][0] if model is not None else 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    return _string_example(schema, name)


def _string_example(schema: dict[str, Any], name: str) -> str:
    formats = {
        "email": "someone@example.be",
        "date": dt.date(2026, 11, 2).isoformat(),
        "date-time": "2026-11-02T10:00:00+01:00",
        "decimal": str(Decimal("1.00")),
        "binary": "",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    if "email" in name:
        return "someone@example.be"
    if "vat" in name:
        return "BE0403019261"
    if "pattern" in schema and "\\d" in schema["pattern"]:
        return "1"
    return "x" * max(1, int(schema.get("minLength", 1)))


def request_for(world: World, op: Operation) -> tuple[str, dict[str, Any]]:
    params = {p["name"]: p for p in op.spec.get("parameters", []) if p["in"] == "path"}

    def fill(match: re.Match[str]) -> str:
        name = match[1]
        schema = _resolve(params[name].get("schema", {}), op.components)
        if "enum" in schema or schema.get("type") == "string":
            return str(example(world, schema, op.components, name))
        before = [s for s in op.path[: match.start()].split("/") if s]
        return str(victim_value(world, name, before[-1] if before else "", op.path))

    url = re.sub(r"\{(\w+)\}", fill, op.path)
    kwargs: dict[str, Any] = {}
    content = op.spec.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = example(world, content["application/json"].get("schema", {}), op.components)
        kwargs = {"data": body, "content_type": "application/json"}
    elif "multipart/form-data" in content:
        from django.core.files.uploadedfile import SimpleUploadedFile

        schema = _resolve(content["multipart/form-data"].get("schema", {}), op.components)
        kwargs = {
            "data": {
                prop: SimpleUploadedFile("invoice.xml", b"<Invoice/>", "application/xml")
                for prop in schema.get("required", [])
            }
        }
    return url, kwargs


def call(client: Client, op: Operation, url: str, kwargs: dict[str, Any], **headers: str) -> Any:
    return getattr(client, op.method.lower())(url, headers=headers, **kwargs)


def user_token(user: User) -> str:
    _token, raw = accounts.issue_token(user, "matrix")
    return raw


def test_the_matrix_finds_the_operations_of_both_apis(client: Client) -> None:
    found = {(op.method, op.path) for op in all_operations(client)}

    assert {
        ("GET", "/api/v1/firms/{fid}/dossiers"),
        ("POST", "/api/v1/companies/{cid}/external-users"),
        ("PUT", "/api/v1/firms/{fid}/apps/{slug}"),
        ("GET", routes.OFFERS.url()),
    } <= found


def test_only_the_listed_operations_work_without_credentials(client: Client) -> None:
    unsecured = {(op.method, op.path) for op in all_operations(client) if not op.secured}

    assert unsecured <= PUBLIC_OPERATIONS


def test_every_operation_refuses_anonymous_callers(client: Client) -> None:
    world = victim_world()
    failures = []
    for op in all_operations(client):
        if op.public:
            continue
        url, kwargs = request_for(world, op)
        response = call(client, op, url, kwargs)
        if response.status_code != 401:
            failures.append(f"{op.method} {url}: {response.status_code}")
    assert failures == []


def test_every_application_operation_refuses_other_firms_and_companies(client: Client) -> None:
    world = victim_world()
    failures = []
    for op in operations(client, "/api/v1/openapi.json"):
        if op.public:
            continue
        url, kwargs = request_for(world, op)
        names_a_tenant = any(p in op.path for p in ("{fid}", "{cid}", "_id}", "{id}"))
        for who, attacker in world.attackers.items():
            response = call(client, op, url, kwargs, Authorization=f"Bearer {user_token(attacker)}")
            leaked = shows_victim_data(world, response)
            refused = response.status_code in REFUSALS
            if leaked or (names_a_tenant and not refused):
                failures.append(f"{op.method} {url} as {who}: {response.status_code} {leaked}")
    assert failures == []


def test_the_victims_own_operations_find_their_rows_so_the_matrix_uses_real_ids(
    client: Client,
) -> None:
    world = victim_world()
    failures = []
    for op in operations(client, "/api/v1/openapi.json"):
        # The resource itself, not its parts: a document may rightly have no PDF yet.
        if op.method != "GET" or not op.path.endswith(("}", "}/")):
            continue
        owner = world.company_owner if "{cid}" in op.path else world.firm_owner
        url, kwargs = request_for(world, op)
        response = call(client, op, url, kwargs, Authorization=f"Bearer {user_token(owner)}")
        if response.status_code == 404:
            failures.append(url)
    assert failures == []


def test_the_device_api_refuses_user_tokens_and_other_firms_devices(client: Client) -> None:
    world = victim_world()
    failures = []
    for op in operations(client, f"{routes.PREFIX}/openapi.json"):
        if op.public:
            continue
        url, kwargs = request_for(world, op)
        as_user = call(
            client, op, url, kwargs, Authorization=f"Bearer {user_token(world.firm_owner)}"
        )
        if as_user.status_code != 401:
            failures.append(f"{op.method} {url} with a user's API token: {as_user.status_code}")
        as_other = call(
            client, op, url, kwargs, Authorization=f"Bearer {world.attacker_device_token}"
        )
        leaked = shows_victim_data(world, as_other)
        if leaked or ("{" in op.path and as_other.status_code not in REFUSALS):
            failures.append(
                f"{op.method} {url} as another firm's device: {as_other.status_code} {leaked}"
            )
    assert failures == []


def test_the_victims_device_reaches_its_deliveries_so_the_matrix_uses_real_ids(
    client: Client,
) -> None:
    world = victim_world()
    assert Device.objects.filter(firm=world.firm).exists()
    failures = []
    for op in operations(client, f"{routes.PREFIX}/openapi.json"):
        if op.method != "GET" or op.public:
            continue
        url, kwargs = request_for(world, op)
        response = call(client, op, url, kwargs, Authorization=f"Bearer {world.device_token}")
        if response.status_code in REFUSALS:
            failures.append(f"{url}: {response.status_code}")
    assert failures == []
