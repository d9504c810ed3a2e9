import pytest
from django.core.management import CommandError, call_command

from gulian.core.models import Industry


def test_full_class_table_loads_from_csv(db, tmp_path):
    f = tmp_path / "gbt4754.csv"
    f.write_text(
        "代码,名称\n391,计算机制造\n3911,计算机整机制造\n3912,计算机零部件制造\n397,电子器件制造\n3973,集成电路制造\n",
        encoding="utf-8-sig",
    )
    call_command("load_industries", str(f))
    c = Industry.objects.get(code="3973")
    assert (c.level, c.parent_id, c.parent.parent_id, c.parent.parent.parent_id) == ("class", "397", "39", "C")
    # loading again changes nothing and duplicates nothing
    call_command("load_industries", str(f))
    assert Industry.objects.filter(level="class").count() == 3


def test_bad_industry_file_loads_nothing(db, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("code,name\n391,计算机制造\n9999,无上级\n", encoding="utf-8")
    with pytest.raises(CommandError, match="9999"):
        call_command("load_industries", str(f))
    assert not Industry.objects.filter(code="391").exists()


def test_gbk_industry_file(db, tmp_path):
    f = tmp_path / "gbk.csv"
    f.write_bytes("code,name\n391,计算机制造\n".encode("gb18030"))
    call_command("load_industries", str(f))
    assert Industry.objects.get(code="391").name == "计算机制造"
