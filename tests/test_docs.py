"""Every hook specification is documented in docs/plugins.md (as Datasette checks its hooks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from msmcore import hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs"


def hook_names() -> list[str]:
    return sorted(n for n, f in vars(hookspecs).items()
                  if n.startswith("msm_") and hasattr(f, "msmcore_spec"))


def test_there_are_hooks():
    assert "msm_register_components" in hook_names()


@pytest.mark.parametrize("hook", hook_names())
def test_hook_is_documented(hook):
    text = (DOCS / "plugins.md").read_text()
    assert re.search(rf"^#+ .*\b{hook}\b", text, re.MULTILINE), f"no heading for {hook} in docs/plugins.md"


def test_readme_begins_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text()
    first = readme[:1500]
    assert "make demo" in first and "make test" in first
