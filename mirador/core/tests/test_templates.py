"""What Django's template language shows the reader by mistake: a `{# ... #}` comment ends
on its line, so one spread over two lines is printed on the page as text."""

from __future__ import annotations

from pathlib import Path

import mirador

PACKAGE = Path(mirador.__file__).resolve().parent


def test_no_template_comment_spans_lines() -> None:
    templates = sorted(PACKAGE.rglob("templates/**/*.html")) + sorted(
        PACKAGE.rglob("templates/**/*.txt")
    )
    assert templates, "the templates are found"
    unclosed = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in templates
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert unclosed == [], "use {% comment %} for a comment of several lines"
