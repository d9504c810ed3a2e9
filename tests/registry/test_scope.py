import pytest

from gulian.registry.scope import LinkScope, derive_scope


@pytest.mark.parametrize(
    ("supplier", "country", "customer", "expected"),
    [
        ("330106", "CN", "330110", LinkScope.CITY),  # 西湖 → 余杭, both 杭州
        ("330203", "CN", "330106", LinkScope.PROVINCE),  # 宁波 → 杭州
        ("320505", "CN", "330106", LinkScope.DOMESTIC),  # 苏州 → 杭州
        ("110105", "CN", "110108", LinkScope.CITY),  # two districts of Beijing
        (None, "JP", "330106", LinkScope.FOREIGN),
        ("710000", "CN", "330106", LinkScope.FOREIGN),  # Taiwan
        ("810000", "CN", "440305", LinkScope.FOREIGN),  # Hong Kong → Shenzhen
    ],
)
def test_derive_scope(supplier, country, customer, expected):
    assert derive_scope(supplier, country, customer) == expected
