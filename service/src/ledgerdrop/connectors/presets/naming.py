"""Where a folder connector places a document and under what name: the connection's path
template (the dossier folder and its sub-folder, below the device's main folder) and file-name
pattern, filled with the dossier's and the document's facts, and the checks that keep every
result a plain, unique Windows path that cannot leave the main folder."""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass

from django.utils.translation import gettext as _

from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.delivery.folders import WINDOWS_MAX_PATH, on_device, too_long_for_windows
from ledgerdrop_protocol import paths

PATH_VARIABLES = (
    "dossier_code",
    "enterprise_number",
    "vat_number",
    "company_name",
    "direction",
    "kind",
    "year",
    "month",
)
FILE_VARIABLES = (*PATH_VARIABLES, "date", "number", "id")
# A dossier folder named by one of these keeps two dossiers' documents apart.
DOSSIER_VARIABLES = frozenset({"dossier_code", "enterprise_number", "vat_number", "company_name"})
# What `Delivery.relative_path` holds.
MAX_RELATIVE_PATH = 255

_WINDOWS_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')
_NUMBER_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_DEVICE_NAMES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])$", re.IGNORECASE)


@dataclass(frozen=True)
class Facts:
    """What the templates may say of a document and its dossier."""

    dossier_code: str
    enterprise_number: str
    vat_number: str
    company_name: str
    direction: str
    kind: str
    issue_date: dt.date
    number: str
    id: int

    def values(self) -> dict[str, str]:
        return {
            "dossier_code": self.dossier_code,
            "enterprise_number": self.enterprise_number,
            "vat_number": self.vat_number,
            "company_name": windows_safe(self.company_name),
            "direction": self.direction,
            "kind": self.kind,
            "year": f"{self.issue_date:%Y}",
            "month": f"{self.issue_date:%m}",
            "date": f"{self.issue_date:%Y%m%d}",
            "number": _NUMBER_UNSAFE.sub("-", self.number).strip("-")[:40] or "sans-numero",
            "id": str(self.id),
        }


def windows_safe(name: str) -> str:
    """A company name as a folder name Windows accepts: no reserved characters, no trailing
    dots or spaces, at most 60 characters."""
    safe = " ".join(_WINDOWS_UNSAFE.sub("-", name).split())[:60].rstrip(". ")
    return safe or "-"


def enterprise_number(vat_number: str) -> str:
    """The 10 digits of a Belgian enterprise number, from a VAT number (BE0477472701)."""
    digits = "".join(ch for ch in vat_number if ch.isdigit())
    return digits.zfill(10) if digits else ""


def _invalid(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, Kind.INVALID)


def _variables(template: str, allowed: tuple[str, ...]) -> set[str]:
    """The variables a template names; refuses anything but a plain `{name}` (no attribute,
    index, conversion or format: a template is never a way into Python objects)."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _invalid(
            "invalid_template", _("Unbalanced braces in %(template)s.") % {"template": template}
        ) from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            raise _invalid(
                "unknown_variable",
                _("%(variable)s is not a variable you can use here. Use: %(allowed)s.")
                % {
                    "variable": "{" + name + "}",
                    "allowed": ", ".join("{" + variable + "}" for variable in allowed),
                },
            )
        names.add(name)
    return names


def check_templates(path_template: str, file_template: str) -> None:
    """Refuses templates that could never give a good path, whatever the document."""
    _variables(path_template, PATH_VARIABLES)
    file_names = _variables(file_template, FILE_VARIABLES)
    segments = path_template.replace("\\", "/").split("/")
    if (
        path_template.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", path_template)
        or any(segment.strip() in {"", ".", ".."} for segment in segments)
    ):
        raise _invalid(
            "escapes_main_folder",
            _(
                "The folder must stay inside the device's main folder: write it without a "
                "leading slash, a drive, empty parts, '.' or '..'."
            ),
        )
    if len(segments) != 2:
        raise _invalid(
            "wrong_depth",
            _(
                "The folder is a dossier folder and its sub-folder (two levels, e.g. "
                "{dossier_code}/{direction}), not %(count)s."
            )
            % {"count": len(segments)},
        )
    if not DOSSIER_VARIABLES & set(
        name for _l, name, _s, _c in string.Formatter().parse(segments[0]) if name
    ):
        raise _invalid(
            "not_unique",
            _(
                "The dossier folder must name the dossier ({dossier_code}, {enterprise_number}, "
                "{vat_number} or {company_name}), or two dossiers would share it."
            ),
        )
    if "id" not in file_names:
        raise _invalid(
            "not_unique",
            _("The file name must contain {id}, or two documents could get the same name."),
        )
    if "/" in file_template or "\\" in file_template:
        raise _invalid(
            "escapes_main_folder", _("The file name cannot contain a slash or a backslash.")
        )


def relative_folder(path_template: str, facts: Facts) -> str:
    """The dossier folder and sub-folder of a document, below the main folder."""
    values = facts.values()
    segments = [
        segment.format_map(values) for segment in path_template.replace("\\", "/").split("/")
    ]
    for segment in segments:
        _check_segment(segment)
    return "/".join(segments)


def file_stem(file_template: str, facts: Facts) -> str:
    stem = file_template.format_map(facts.values())
    _check_segment(stem)
    return stem


def relative_path(path_template: str, file_template: str, facts: Facts, suffix: str) -> str:
    path = f"{relative_folder(path_template, facts)}/{file_stem(file_template, facts)}{suffix}"
    if len(path) > MAX_RELATIVE_PATH:
        raise _invalid(
            "too_long",
            _("%(path)s is longer than %(max)s characters.")
            % {"path": path, "max": MAX_RELATIVE_PATH},
        )
    problem = paths.payload_problem(path)
    if problem:
        raise _invalid("invalid_path", problem)
    return path


def full_path(main_folder: str, relative: str) -> str:
    """The path on the device, with its own separator; refused when Windows could not open it."""
    full = on_device(main_folder, relative)
    if too_long_for_windows(main_folder, full):
        raise _invalid(
            "too_long",
            _("%(path)s is longer than Windows allows (%(max)s characters): shorten the template.")
            % {"path": full, "max": WINDOWS_MAX_PATH},
        )
    return full


def check_word(word: str) -> None:
    """A word {direction} stands for becomes a folder name."""
    _check_segment(word)


def _check_segment(segment: str) -> None:
    if not segment.strip() or segment in {".", ".."}:
        raise _invalid(
            "escapes_main_folder",
            _("A folder or file name of this template would be empty."),
        )
    if (
        _WINDOWS_UNSAFE.search(segment)
        or segment[-1] in ". "
        or _DEVICE_NAMES.match(segment.split(".")[0].rstrip(" "))
    ):
        raise _invalid(
            "windows_name",
            _(
                "%(name)s cannot be a folder or file name on Windows (reserved name, a "
                "character Windows refuses, or a trailing dot or space)."
            )
            % {"name": segment},
        )
