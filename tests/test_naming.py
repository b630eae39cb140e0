import time

from cloud_sync.naming import (
    ODOO_FORBIDDEN,
    ODOO_RULES,
    NameRules,
    SiblingNames,
    sanitize,
    unique_name,
)


def test_every_forbidden_character_becomes_dash():
    for char in ODOO_FORBIDDEN:
        assert sanitize(f"a{char}b") == "a-b"


def test_control_characters_and_empty_names():
    assert sanitize("a\x00b\x1fc") == "a-b-c"
    assert sanitize("   ") == "-"
    assert sanitize("..") == "-"


def test_length_is_capped_and_extension_kept():
    long = "x" * 300
    assert len(sanitize(long)) == ODOO_RULES.max_length
    name = sanitize("y" * 300 + ".pdf")
    assert name.endswith(".pdf") and len(name) == ODOO_RULES.max_length


def test_unicode_emoji_and_rtl_survive():
    for name in ("Проект 🚀", "مجلد العميل", "日本語のフォルダ"):
        assert sanitize(name) == name


def test_unique_name_is_stable_and_case_aware():
    assert unique_name("Docs", ["Docs", "Docs (2)"]) == "Docs (3)"
    assert unique_name("a.pdf", ["a.pdf"]) == "a (2).pdf"
    insensitive = NameRules(case_sensitive=False)
    assert unique_name("docs", ["DOCS"], insensitive) == "docs (2)"
    assert unique_name("docs", ["DOCS"]) == "docs"


def test_sibling_names_follow_adds_and_removals():
    insensitive = NameRules(case_sensitive=False)
    siblings = SiblingNames(["Docs", "DOCS"], insensitive)
    assert siblings.unique("docs") == "docs (2)"
    siblings.discard("Docs")  # one of the two clashing names left: still taken
    assert siblings.unique("docs") == "docs (2)"
    siblings.discard("DOCS")
    assert siblings.unique("docs") == "docs"
    siblings.add("docs")
    siblings.add(siblings.unique("docs"))
    assert siblings.unique("Docs") == "Docs (3)"


def test_naming_many_siblings_is_linear():
    """20,000 new folders in one parent: each name costs the same, whatever the count
    (the rules engine names thousands of record folders per batch)."""
    def name_all(count):
        siblings, started = SiblingNames(), time.perf_counter()
        for i in range(count):
            siblings.add(siblings.unique(f"Partner {i}"))
        return time.perf_counter() - started

    small, large = name_all(2000), name_all(20000)
    assert large < small * 10 * 3, (small, large)


def test_reserved_names_get_a_suffix():
    rules = NameRules(reserved_names=frozenset({"CON", "desktop.ini"}))
    assert sanitize("con", rules) == "con-"
    assert sanitize("desktop.ini", rules) == "desktop.ini-"
    # A reserved stem with an extension is reserved too (Windows: CON.txt is CON).
    assert sanitize("CON.txt", rules) == "CON-.txt"
    assert sanitize("con.tar.gz", rules) == "con-.tar.gz"
