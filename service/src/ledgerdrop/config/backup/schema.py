"""The backup's schema against this release's: which migrations it lacks, whether it is newer
than the code, and the historical models of its state, through which its rows are loaded."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

Applied = dict[str, list[str]]


def _known() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _pairs(applied: Applied) -> set[tuple[str, str]]:
    return {(app, name) for app, names in applied.items() for name in names}


def unapplied(applied: Applied) -> list[str]:
    """This release's migrations that `applied` lacks."""
    return [f"{app}.{name}" for app, name in sorted(_known() - _pairs(applied))]


def unknown(applied: Applied) -> list[str]:
    """The migrations of `applied` this release does not have: a newer release wrote them."""
    return [f"{app}.{name}" for app, name in sorted(_pairs(applied) - _known())]


def _targets(executor: MigrationExecutor, applied: Applied) -> list[tuple[str, str | None]]:
    """For each app, the last of its applied migrations (the one all others lead to)."""
    graph = executor.loader.graph
    targets: list[tuple[str, str | None]] = []
    for app in sorted(executor.loader.migrated_apps):
        names = set(applied.get(app, []))
        last = [
            name
            for name in names
            if not any((app, name) in graph.forwards_plan((app, other)) for other in names - {name})
        ]
        targets.append((app, last[0] if last else None))
    return targets


def migrate_to(applied: Applied) -> Apps:
    """Bring the empty database to the backup's schema; returns the models of that schema."""
    executor = MigrationExecutor(connection)
    targets = _targets(executor, applied)
    executor.migrate(targets)
    return executor.loader.project_state(
        [target for target in targets if target[1] is not None]  # type: ignore[misc]
    ).apps
