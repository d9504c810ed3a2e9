"""The suite's own isolation rules (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_restores_the_database_it_found(request):
    """conftest adds serialized rollback to every transactional test, so a flush loses no migrated rows."""
    assert "django_db_serialized_rollback" in request.fixturenames


def test_a_live_server_test_restores_the_database_it_found(request, live_server):
    assert "django_db_serialized_rollback" in request.fixturenames


@pytest.mark.django_db
def test_an_ordinary_test_rolls_back_without_serializing(request):
    assert "django_db_serialized_rollback" not in request.fixturenames
