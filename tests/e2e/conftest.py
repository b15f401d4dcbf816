"""Browser tests: Playwright drives Debian's Chromium against the real service on loopback.

Playwright cannot download its own browser here, so the test command installs the `chromium`
package and the browser is launched from /usr/bin/chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django import Settings as SettingsWrapper

from tests import builders
from tests.conftest import LiveService, started_service, store_files_beside

CHROMIUM = os.environ.get("LEDGERDROP_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium tries to reach Google's services at start and floods a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still
# plain synchronous code, so Django's async-safety guard does not apply to them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def module_service(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveService]:
    """One server for the browser tests of a module: starting one, and its first invoice
    compiling the validation rules, cost more than most browser tests themselves. The server
    keeps nothing of a test in memory that the next one could see: sessions, sign-in limits and
    tasks are rows, and `transactional_db` empties the database after each test."""
    service = started_service(tmp_path_factory.mktemp("service"))
    yield service
    service.stop()


@pytest.fixture
def live_service(
    module_service: LiveService, transactional_db: None, settings: SettingsWrapper
) -> LiveService:
    if module_service.process.poll() is not None:  # a test stopped it to start it otherwise
        module_service.start()
    store_files_beside(module_service, settings)
    return module_service


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page a browser test opens reports its Content-Security-Policy violations here (the
# init script is injected by the browser's debugging protocol, which the policy does not block).
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.ldReportCspViolation(
    `${location.pathname}: ${event.violatedDirective} refused ${event.blockedURI || "inline"}`
  );
});
"""


def watch_csp_violations(context: BrowserContext) -> list[str]:
    """The Content-Security-Policy violations of every page of the context, as they happen."""
    violations: list[str] = []

    def report(violation: str) -> None:
        violations.append(violation)

    context.expose_function("ldReportCspViolation", report)
    context.add_init_script(_REPORT_VIOLATIONS)
    context.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


@pytest.fixture
def page(browser: Browser, live_service: LiveService) -> Iterator[Page]:
    context = browser.new_context(base_url=live_service.url, locale="fr-BE")
    violations = watch_csp_violations(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    # A page that breaks the policy loses a script or a style in production: fail its test.
    assert not violations, f"Content-Security-Policy violations: {violations}"


def sign_in(page: Page, email: str, password: str = builders.PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
