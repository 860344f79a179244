"""Issue 17 item 1 in the manifest room: an empty value counts as unset wherever it comes from,
and `${{ secrets.NAME || '' }}` is the one way to accept an empty secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.manifest import (
    SecretRef,
    TemplateError,
    load_env_files,
    lookup_secret,
    parse_template,
)


def test_an_empty_environment_variable_does_not_hide_a_file_value() -> None:
    assert lookup_secret("KEY", {"KEY": ""}, {"KEY": "from-file"}) == "from-file"
    assert lookup_secret("KEY", {"KEY": "from-env"}, {"KEY": "from-file"}) == "from-env"


def test_a_secret_empty_everywhere_is_empty_and_one_set_nowhere_is_none() -> None:
    assert lookup_secret("KEY", {"KEY": ""}, {}) == ""
    assert lookup_secret("KEY", {}, {"KEY": ""}) == ""
    assert lookup_secret("KEY", {}, {}) is None


def test_an_empty_line_in_a_later_env_file_does_not_hide_an_earlier_value(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KEY=kept\nONLY_EMPTY=\n")
    (tmp_path / ".env.local").write_text("KEY=\n")

    values = load_env_files(tmp_path, None, "production")

    assert values == {"KEY": "kept", "ONLY_EMPTY": ""}


@pytest.mark.parametrize(
    "text", ["${{ secrets.DSN || '' }}", '${{ secrets.DSN || "" }}', "${{secrets.DSN||''}}"]
)
def test_an_empty_default_allows_an_empty_secret(text: str) -> None:
    assert parse_template(text) == [SecretRef("DSN", allow_empty=True)]
    assert str(SecretRef("DSN", allow_empty=True)) == "${{ secrets.DSN || '' }}"


@pytest.mark.parametrize(
    "text", ["${{ secrets.DSN || 'x' }}", "${{ secrets.DSN || }}", "${{ secrets.DSN ?? '' }}"]
)
def test_only_an_empty_default_is_accepted(text: str) -> None:
    with pytest.raises(TemplateError, match="a secret name must be a variable name"):
        parse_template(text)
