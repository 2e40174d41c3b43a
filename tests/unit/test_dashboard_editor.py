"""The template editor reads the line a refusal names out of the upload's error details."""

from __future__ import annotations

from ogmint.dashboard.editor import Problem, problems
from ogmint.errors import FieldError, TemplateInvalidError, TemplateTooLargeError


def test_the_line_of_each_detail() -> None:
    error = TemplateInvalidError(
        "refused",
        [
            FieldError("svg", "line 4, <script>: element is not allowed"),
            FieldError("svg", "not well-formed XML: mismatched tag"),
            FieldError("svg", "line 12: the document must be UTF-8"),
        ],
    )
    assert problems(error) == [
        Problem("<script>: element is not allowed", 4),
        Problem("not well-formed XML: mismatched tag", None),
        Problem("the document must be UTF-8", 12),
    ]


def test_without_details_the_message_is_shown() -> None:
    assert problems(TemplateTooLargeError("template is larger than 262144 bytes")) == [
        Problem("template is larger than 262144 bytes", None)
    ]
