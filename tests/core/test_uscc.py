import pytest

from gulian.core import uscc
from gulian.core.uscc import USCCError

# Published USCCs of well-known enterprises (from their public business-licence records).
PUBLISHED = [
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "914403001922038216",  # 华为技术有限公司
    "91330000733796106P",  # 杭州海康威视数字技术股份有限公司
    "91440300192317458F",  # 比亚迪股份有限公司
    "9144030027939873X7",  # 中兴通讯股份有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "91110000710925243K",  # 国家电网有限公司
    "91110000600037341L",  # python-stdnum's own example
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert uscc.validate(code) == code
    assert uscc.is_valid(code)


def test_compact_handles_spaces_dashes_lowercase_and_full_width():
    assert uscc.validate(" 9133-0100 716105852f ") == "91330100716105852F"
    assert uscc.validate("９１３３０１００７１６１０５８５２Ｆ") == "91330100716105852F"


def _fail(code):
    with pytest.raises(USCCError) as e:
        uscc.validate(code)
    return e.value


def test_each_failure_is_named():
    assert _fail("9133010071610585").code == "length"
    assert _fail("9A330100716105852F").code == "format"
    assert _fail("91330100716105852I").code == "format"  # I is not in the alphabet
    assert _fail("91330100716105852E").code == "checksum"
    err = _fail("91330100716105852E")
    assert "校验码" in str(err) and "check digit" in str(err)


@pytest.mark.parametrize("code", PUBLISHED)
def test_mutated_codes_fail(code):
    # change one character of the body: the check digit catches it (or the format does)
    pos = 10
    alt = "0" if code[pos] != "0" else "1"
    mutated = code[:pos] + alt + code[pos + 1 :]
    assert not uscc.is_valid(mutated)
    # swap two adjacent unequal characters
    i = next(i for i in range(8, 16) if code[i] != code[i + 1])
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert not uscc.is_valid(swapped)


def test_organisation_code_check_on_positions_9_to_17():
    # a code whose position-18 digit is right but whose organisation code check fails
    body = "71610585"
    bad_org = body + ("3" if uscc.org_code_check_digit(body) != "3" else "4")
    partial = "91330100" + bad_org
    from stdnum.cn import uscc as stdnum_uscc

    code = partial + stdnum_uscc.calc_check_digit(partial)
    assert stdnum_uscc.is_valid(code)  # stdnum alone accepts it
    assert _fail(code).code == "org_code"
    assert uscc.org_code_check_digit("71610585") == "2"  # 716105852 from Alibaba's code


def test_region_check_on_positions_3_to_8():
    code = uscc.make("339999", "MA2H4K0B")
    assert _fail(code).code == "region"
    # a former code (崇文区 110103, merged in 2010) is still accepted: licences keep it
    assert uscc.is_valid(uscc.make("110103", "MA2H4K0B"))
    # national-level registrations use 100000
    assert uscc.is_valid(uscc.make("100000", "MA2H4K0B"))


def test_make_builds_valid_codes():
    code = uscc.make("330106", "MA2H4K0B")
    assert len(code) == 18 and uscc.validate(code) == code
