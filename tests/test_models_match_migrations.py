"""The migrations describe the models exactly: a model change without its migration (or a model
edited so it no longer reads as its migration wrote it) would be migrated by nobody, or make the
next makemigrations write a surprise. radius 0011's index was such a case until caught here."""
import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db  # it checks the applied migrations' history too
def test_makemigrations_finds_nothing_to_write():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:  # --check exits 1 when there are changes
        raise AssertionError(f"models differ from their migrations:\n{out.getvalue()}") from exit_
