from gulian.core.models import Industry, Region, RegionLevel


def test_full_gbt2260_list_is_loaded(db):
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 34
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() == 333
    counties = Region.objects.filter(level=RegionLevel.COUNTY).count()
    assert 2800 <= counties <= 2900


def test_known_codes(db):
    assert Region.objects.get(code="330000").name == "浙江省"
    assert Region.objects.get(code="330100").name == "杭州市"
    xihu = Region.objects.get(code="330106")
    assert xihu.name == "西湖区" and xihu.parent_id == "330100" and xihu.prefix == "330106"
    assert xihu.full_name == "浙江省杭州市西湖区"
    assert Region.objects.get(code="500000").name == "重庆市"
    # counties of a municipality hang from the province; prefixes cover subtrees
    assert Region.objects.get(code="110105").parent_id == "110000"
    assert Region.objects.get(code="330100").prefix == "3301"
    assert Region.objects.get(code="330000").prefix == "33"
    assert Region.objects.within("3301").filter(level=RegionLevel.COUNTY).count() == 13


def test_industry_sections_and_divisions_ship(db):
    assert Industry.objects.filter(level="section").count() == 20
    assert Industry.objects.filter(level="division").count() == 97
    assert Industry.objects.get(code="39").name == "计算机、通信和其他电子设备制造业"
    assert Industry.objects.get(code="36").parent_id == "C"
