"""Name rules: the one place where folder and file names are made acceptable.

``cloud_base`` sanitises every folder name with :func:`sanitize` and the default
:data:`ODOO_RULES`; each provider declares its own :class:`NameRules`, applied by the
same function before anything is sent, so a name that one side accepts never breaks
the other.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# Characters refused in folder names by cloud_base (issue 3) and therefore never sent.
ODOO_FORBIDDEN = "*?\"':<>/+%!@\\"
DEFAULT_MAX_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class NameRules:
    """What a storage accepts as the name of one item (not a path)."""

    forbidden_chars: str = "/\\"
    reserved_names: frozenset[str] = field(default_factory=frozenset)
    reserved_prefixes: tuple[str, ...] = ()
    reserved_suffixes: tuple[str, ...] = ()
    forbidden_substrings: tuple[str, ...] = ()  # refused anywhere in a name (OneDrive _vti_)
    max_length: int = 255
    case_sensitive: bool = True
    strip_trailing: str = " "
    strip_leading: str = ""
    replacement: str = "-"

    def key(self, name: str) -> str:
        """The comparison key of a name: two names with the same key clash."""
        name = unicodedata.normalize("NFC", name)
        return name if self.case_sensitive else name.casefold()


ODOO_RULES = NameRules(forbidden_chars=ODOO_FORBIDDEN, max_length=DEFAULT_MAX_LENGTH)
# A name that extracts the same on Windows, macOS and Linux (zip entries, downloaded and
# uploaded file names): no separator or character Windows refuses, no device name, no
# trailing dot or space, and two names differing only by case clash.
PORTABLE_RULES = NameRules(
    forbidden_chars='/\\:*?"<>|',
    reserved_names=frozenset(
        {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)}
    ),
    max_length=255,
    case_sensitive=False,
    strip_trailing=" .",
)


def sanitize(name: str, rules: NameRules = ODOO_RULES, max_length: int | None = None) -> str:
    """Return ``name`` made acceptable under ``rules``; never empty.

    Forbidden and control characters become the replacement character, reserved names
    get a replacement suffix, the result is cut to the maximum length (counted in
    characters, never splitting a surrogate pair since Python strings are code points)
    while keeping a file extension where possible.
    """
    limit = max_length or rules.max_length
    text = unicodedata.normalize("NFC", str(name or ""))
    text = _CONTROL.sub(rules.replacement, text)
    if rules.forbidden_chars:
        text = text.translate({ord(c): rules.replacement for c in rules.forbidden_chars})
    for part in rules.forbidden_substrings:
        text = re.sub(re.escape(part), rules.replacement, text, flags=re.IGNORECASE)
    text = text.strip()
    if len(text) > limit:
        text = _truncate(text, limit)
    if rules.strip_trailing:
        text = text.rstrip(rules.strip_trailing)
    if rules.strip_leading:
        text = text.lstrip(rules.strip_leading)
    if not text or text in {".", ".."}:
        text = rules.replacement
    lowered = text.casefold()
    stem = lowered.split(".", 1)[0]
    reserved = {r.casefold() for r in rules.reserved_names}
    if lowered in reserved:
        text = _truncate(text + rules.replacement, limit)
    elif stem in reserved:  # "CON.txt" is reserved too: the mark goes after the stem
        text = _truncate(text[:len(stem)] + rules.replacement + text[len(stem):], limit)
    if any(lowered.startswith(p.casefold()) for p in rules.reserved_prefixes):
        text = _truncate(rules.replacement + text, limit)
    if any(lowered.endswith(s.casefold()) for s in rules.reserved_suffixes):
        text = _truncate(text + rules.replacement, limit)
    return text


def _truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, keeping a short extension."""
    if len(text) <= limit:
        return text
    stem, dot, ext = text.rpartition(".")
    if dot and stem and 0 < len(ext) <= 10 and limit > len(ext) + 1:
        return stem[: limit - len(ext) - 1].rstrip() + "." + ext
    return text[:limit].rstrip()


def unique_name(name: str, taken: Iterable[str], rules: NameRules = ODOO_RULES) -> str:
    """Return ``name`` or the first ``name (n)`` (n >= 2) that clashes with none of ``taken``.

    The suffix goes before a file extension and the result stays within the length
    limit. Deterministic for the same inputs, so recomputing gives a stable suffix.
    """
    return SiblingNames(taken, rules).unique(name)


class SiblingNames:
    """The names used in one folder, by comparison key, kept up to date as names are added
    and removed: naming thousands of new siblings costs time linear in their number
    (calling :func:`unique_name` with the whole list each time is quadratic)."""

    def __init__(self, names: Iterable[str] = (), rules: NameRules = ODOO_RULES):
        self.rules = rules
        self._keys = Counter(rules.key(n) for n in names)

    def __contains__(self, name: str) -> bool:
        return self.rules.key(name) in self._keys

    def add(self, name: str) -> None:
        self._keys[self.rules.key(name)] += 1

    def discard(self, name: str) -> None:
        key = self.rules.key(name)
        if self._keys[key] > 1:
            self._keys[key] -= 1
        else:
            self._keys.pop(key, None)

    def unique(self, name: str) -> str:
        """``name`` or its first free ``name (n)``, as :func:`unique_name` describes."""
        if name not in self:
            return name
        stem, dot, ext = name.rpartition(".")
        if not (dot and stem and 0 < len(ext) <= 10):
            stem, dot, ext = name, "", ""
        n = 2
        while True:
            tail = f" ({n}){dot}{ext}"
            candidate = stem[: max(1, self.rules.max_length - len(tail))].rstrip() + tail
            if candidate not in self:
                return candidate
            n += 1
