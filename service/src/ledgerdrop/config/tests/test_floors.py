"""The service's floors run one way (DESIGN §4, the README's Layout): `core` → `accounts` →
`documents` | `delivery` → `connectors` → `config`. Nothing imports a floor above its own, the
two apps that share a floor, `documents` and `delivery`, import nothing of each other, no two
files import each other even through others, the device protocol imports nothing of the service
or the downloader, and the downloader nothing of the service or Django. Read
from the source's own imports (every `import`, also inside functions or `TYPE_CHECKING`);
tests and migrations aside, which may reach anywhere. Templates likewise load no template
tags and include or extend no template of a floor above or beside their app's."""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
from django.template.backends.django import get_installed_libraries

import ledgerdrop
import ledgerdrop_agent
import ledgerdrop_protocol

PACKAGE = Path(ledgerdrop.__file__).parent

# Bottom to top; apps on one floor may not import each other either.
FLOORS: list[set[str]] = [
    {"core"},
    {"accounts"},
    {"documents", "delivery"},
    {"connectors"},
    {"config"},
]
FLOOR_OF = {app: level for level, apps in enumerate(FLOORS) for app in apps}


def _app(module: str) -> str | None:
    """The app a `ledgerdrop.…` module belongs to, or None for anything else."""
    parts = module.split(".")
    return parts[1] if parts[0] == "ledgerdrop" and len(parts) > 1 else None


def _imports(source: str, package: str) -> set[str]:
    """Every module that `source`, a module of `package`, imports, relative imports resolved."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            modules.add(module)
            # `from ledgerdrop import documents` imports the app itself.
            modules.update(f"{module}.{alias.name}" for alias in node.names)
    return modules


def _source_files(package: Path = PACKAGE) -> list[Path]:
    return [
        path
        for path in sorted(package.rglob("*.py"))
        if not {"tests", "migrations"} & set(path.relative_to(package).parts)
    ]


def _module_of(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def upward_imports() -> list[str]:
    """`file: app` for each file that imports an app on a floor above its own or beside it."""
    found: set[str] = set()
    for path in _source_files():
        importer = _app(".".join(("ledgerdrop", *path.relative_to(PACKAGE).parts)))
        if importer not in FLOOR_OF:
            continue
        package = ".".join(("ledgerdrop", *path.relative_to(PACKAGE).parent.parts))
        for module in sorted(_imports(path.read_text(encoding="utf-8"), package)):
            imported = _app(module)
            if imported is None or imported == importer or imported not in FLOOR_OF:
                continue
            if FLOOR_OF[imported] >= FLOOR_OF[importer]:
                found.add(f"{path.relative_to(PACKAGE)}: {imported}")
    return sorted(found)


def test_no_app_imports_a_floor_above_it_or_an_app_beside_it() -> None:
    assert upward_imports() == []


LOAD = re.compile(r"{%\s*load\s+([^%]+?)\s*%}")
INCLUDE_OR_EXTEND = re.compile(r"""{%\s*(?:include|extends)\s+["']([^/"']+)/""")


def upward_template_references() -> list[str]:
    """`template: app` for each template that uses the tags or templates of an app on a floor
    above its own or beside it."""
    # Each app keeps its templates under a folder of its own name: bob_demat/…, documents/….
    folder_owner = {
        folder.name: _app(".".join(("ledgerdrop", *folder.relative_to(PACKAGE).parts)))
        for folder in PACKAGE.glob("**/templates/*")
        if folder.is_dir()
    }
    library_owner = {name: _app(module) for name, module in get_installed_libraries().items()}
    found: set[str] = set()
    for path in sorted(PACKAGE.glob("**/templates/**/*.*")):
        user = path.relative_to(PACKAGE).parts[0]
        if user not in FLOOR_OF:
            continue
        text = path.read_text(encoding="utf-8")
        used = {folder_owner.get(folder) for folder in INCLUDE_OR_EXTEND.findall(text)}
        used |= {library_owner.get(name) for names in LOAD.findall(text) for name in names.split()}
        for app in used:
            if app in FLOOR_OF and app != user and FLOOR_OF[app] >= FLOOR_OF[user]:
                found.add(f"{path.relative_to(PACKAGE)}: {app}")
    return sorted(found)


def test_no_template_uses_a_floor_above_it_or_an_app_beside_it() -> None:
    assert upward_template_references() == []


def test_the_check_sees_every_form_of_import() -> None:
    # The check above passing must mean something: this reading finds each of these.
    source = (
        "from ledgerdrop.documents.models import Document\n"
        "from ledgerdrop import delivery\n"
        "from ..connectors import bob_demat\n"
        "def later():\n"
        "    import ledgerdrop.config.settings\n"
    )

    modules = _imports(source, "ledgerdrop.accounts")

    assert {
        "ledgerdrop.documents.models",
        "ledgerdrop.delivery",
        "ledgerdrop.connectors.bob_demat",
        "ledgerdrop.config.settings",
    } <= modules


def test_every_module_of_the_service_is_on_a_floor() -> None:
    # A module outside the floors (say `ledgerdrop/helpers.py`) would escape the checks above.
    outside = {
        str(path.relative_to(PACKAGE))
        for path in _source_files()
        if _app(_module_of(path, PACKAGE)) not in FLOOR_OF and path.name != "__init__.py"
    }
    assert outside == set()


def test_no_two_files_import_each_other_even_through_others() -> None:
    modules = {_module_of(path, PACKAGE): path for path in _source_files()}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        imported = _imports(path.read_text(encoding="utf-8"), package)
        graph[module] = {name for name in imported if name in modules and name != module}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"files import each other: {' -> '.join(cycle.args[1])}")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (ledgerdrop_protocol, ("ledgerdrop", "ledgerdrop_agent", "django")),
        (ledgerdrop_agent, ("ledgerdrop", "django")),
    ],
    ids=["protocol", "downloader"],
)
def test_the_protocol_and_the_downloader_stand_apart_from_the_service(
    package: object, forbidden: tuple[str, ...]
) -> None:
    root = Path(package.__file__).parent  # type: ignore[attr-defined]
    found = {
        f"{path.name}: {module}"
        for path in _source_files(root)
        for module in _imports(path.read_text(encoding="utf-8"), _module_of(path, root))
        if module.split(".")[0] in forbidden
    }
    assert found == set()
