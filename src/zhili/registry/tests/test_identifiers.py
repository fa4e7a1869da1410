"""Check characters of identity numbers (GB 11643) and credit codes (GB 32100)."""

from datetime import date

import pytest
from django.utils import translation
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from zhili.registry.identifiers import (
    CREDIT_AUTHORITY_TYPES,
    CREDIT_CHARSET,
    PROVINCE_CODES,
    IdentifierError,
    credit_code_check_char,
    credit_code_is_valid,
    credit_code_make,
    credit_code_validate,
    id_number_check_char,
    id_number_is_valid,
    id_number_make,
    id_number_validate,
    org_code_check_char,
)


@pytest.fixture(autouse=True, scope="module")
def _english():
    """The reasons are read in English here; the API gives them in the caller's language."""
    with translation.override("en"):
        yield


TODAY = date(2026, 1, 1)
FAST = settings(deadline=None, max_examples=150)

regions = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.from_regex(r"\A[0-9]{4}\Z").filter(lambda s: s != "0000"),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
id_numbers = st.builds(id_number_make, regions, births, st.integers(0, 999))

authority_types = st.sampled_from([a + t for a, types in CREDIT_AUTHORITY_TYPES.items()
                                   for t in types])
credit_codes = st.builds(
    credit_code_make, authority_types, st.from_regex(r"\A[0-9]{6}\Z"),
    st.text(alphabet=CREDIT_CHARSET, min_size=8, max_size=8),
)


# --- identity numbers ---------------------------------------------------------------------------

def test_the_standard_example_check_digit():
    # GB 11643-1999's example body 11010519491231002 has check character X.
    assert id_number_check_char("11010519491231002") == "X"
    assert id_number_validate("11010519491231002x", today=TODAY) == "11010519491231002X"


@FAST
@given(id_numbers)
def test_every_generated_number_is_valid(number):
    assert id_number_validate(number, today=TODAY) == number


@FAST
@given(id_numbers, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_changing_any_one_character_is_caught(number, position, char):
    assume(number[position] != char)
    changed = number[:position] + char + number[position + 1:]
    assert not id_number_is_valid(changed, today=TODAY)


# One number in eleven ends in X: the filter discards the rest by design.
@settings(deadline=None, max_examples=150,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(id_numbers.filter(lambda n: n.endswith("X")))
def test_lower_case_x_is_accepted_and_normalised(number):
    assert id_number_validate(number.lower(), today=TODAY) == number
    assert id_number_validate(f"  {number.lower()} ", today=TODAY) == number


@FAST
@given(id_numbers, st.integers(0, 15))
def test_swapping_adjacent_body_digits_is_caught(number, position):
    # Adjacent weights differ mod 11, so every transposition inside the body is caught.
    a, b = number[position], number[position + 1]
    assume(a != b)
    swapped = number[:position] + b + a + number[position + 2:]
    assert not id_number_is_valid(swapped, today=TODAY)


@pytest.mark.parametrize("raw, reason", [
    ("", "18 characters"),
    ("50010319900101123", "18 characters"),
    ("5001031990010112345", "18 characters"),
    ("50010319900101123A", "digit or X"),
    ("５００１０３１９９００１０１１２３X", "digit or X"),  # full-width digits
    ("990103199001011234", "province"),
    ("500000199001011234", "province, not a county"),
    ("500103199002301234", "birth date"),
    ("500103189912311234", "plausible"),
])
def test_bad_numbers_say_why(raw, reason):
    with pytest.raises(IdentifierError, match=reason):
        id_number_validate(raw, today=TODAY)


def test_a_birth_date_in_the_future_is_refused():
    number = id_number_make("500103", date(2030, 1, 1), 1)
    with pytest.raises(IdentifierError, match="plausible"):
        id_number_validate(number, today=TODAY)


@given(st.text(max_size=30))
@settings(deadline=None)
def test_any_text_is_answered_without_a_crash(raw):
    assert id_number_is_valid(raw, today=TODAY) in (True, False)
    assert credit_code_is_valid(raw) in (True, False)


# --- unified social credit codes ----------------------------------------------------------------

@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L",
                                  "911100007109288314"])
def test_known_codes(code):
    assert credit_code_validate(code) == code
    assert credit_code_validate(code.lower()) == code


@FAST
@given(credit_codes)
def test_every_generated_code_is_valid(code):
    assert credit_code_validate(code) == code
    # The embedded GB 11714 organisation code carries its own check character too.
    assert org_code_check_char(code[8:16]) == code[16]


@FAST
@given(credit_codes, st.integers(0, 17), st.sampled_from(CREDIT_CHARSET + "IOZSV"))
def test_changing_any_one_code_character_is_caught(code, position, char):
    assume(code[position] != char)
    changed = code[:position] + char + code[position + 1:]
    assert not credit_code_is_valid(changed)


@FAST
@given(credit_codes)
def test_lower_case_codes_are_normalised(code):
    assert credit_code_validate(code.lower()) == code


def test_check_character_31_is_written_0():
    # Find a body whose weighted sum is 0 mod 31: its check character must be "0".
    body = "91500103MA0000000"
    for last in CREDIT_CHARSET:
        candidate = body[:16] + last
        values = [CREDIT_CHARSET.index(c) for c in candidate]
        weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
        if sum(v * w for v, w in zip(values, weights, strict=True)) % 31 == 0:
            assert credit_code_check_char(candidate) == "0"
            return
    pytest.fail("no body with sum 0 mod 31 found")


@pytest.mark.parametrize("raw, reason", [
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100YI3", "not allowed"),
    ("B1350100M000100Y43", "registration authority"),
    ("94350100M000100Y43", "organisation type"),
    ("9135A100M000100Y43", "region code"),
    ("91350100M000100Y44", "check character"),
])
def test_bad_codes_say_why(raw, reason):
    with pytest.raises(IdentifierError, match=reason):
        credit_code_validate(raw)
