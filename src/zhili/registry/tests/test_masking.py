import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.registry.masking import (
    mask_address,
    mask_certificate_number,
    mask_credit_code,
    mask_id_number,
    mask_name,
    mask_phone,
)


def test_id_number_keeps_region_and_last_four():
    assert mask_id_number("500103199001011234") == "500103********1234"


def test_phone_keeps_three_and_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("023-63891234") == "023*****1234"


@pytest.mark.parametrize("name, masked", [
    ("张三丰", "张**"), ("张三", "张*"), ("张", "张*"), ("", ""),
    ("欧阳修", "欧**"), ("阿依古丽·买买提", "阿***·买**"), ("示例·张伟", "示*·张*"),
])
def test_name_keeps_the_first_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("address, masked", [
    ("重庆市渝中区解放碑街道民族路188号3栋2单元501", "重庆市渝中区解放碑街道****"),
    ("重庆市渝中区民族路188号", "重庆市渝中区****"),
    ("重庆市渝中区镇江路1号", "重庆市渝中区****"),  # 镇 in a road name is no town
    ("重庆市渝北区某某小区5栋", "重庆市渝北区****"),  # 小区 is not a district
    ("重庆市巫山县大昌镇白鹤村3组", "重庆市巫山县大昌镇****"),
    ("民族路188号", "****"),
    ("", ""),
])
def test_address_keeps_district_and_street(address, masked):
    assert mask_address(address) == masked


def test_credit_code_keeps_first_eight_and_last_two():
    assert mask_credit_code("91350100M000100Y43") == "91350100********43"


def test_certificate_numbers():
    assert mask_certificate_number("HJ2024000012345678") == "HJ2024********5678"
    assert mask_certificate_number("AB12345") == "AB***45"


@settings(deadline=None)
@given(st.text(max_size=40))
def test_masks_never_fail_and_never_return_long_inputs_whole(value):
    for mask in (mask_id_number, mask_phone, mask_name, mask_credit_code,
                 mask_certificate_number):
        out = mask(value)
        assert isinstance(out, str)
        if len(value.strip()) >= 3:
            assert out != value.strip() or value.strip().count("*") == len(value.strip())
    assert isinstance(mask_address(value), str)


@settings(deadline=None)
@given(st.from_regex(r"\A[0-9]{17}[0-9X]\Z"))
def test_masked_id_numbers_hide_the_birth_date(number):
    masked = mask_id_number(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert masked[6:14] == "*" * 8
