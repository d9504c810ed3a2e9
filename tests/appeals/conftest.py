"""Fixtures shared by the appeals tests."""

from __future__ import annotations

import pytest

from gulian.core.models import Role


@pytest.fixture
def world(two_cities, make_user):
    """two_cities plus department handlers in Xihu (330106), Hangzhou and Ningbo."""
    w = two_cities
    w.xihu_transport = make_user(Role.HANDLER, "330106", department="transport")
    w.xihu_hrss = make_user(Role.HANDLER, "330106", department="hrss")
    w.hz_transport = make_user(Role.HANDLER, "330100", department="transport")
    w.nb_transport = make_user(Role.HANDLER, "330200", department="transport")
    return w
