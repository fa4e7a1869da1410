"""`node_by_code`: the one place an area code (full or trimmed) becomes a node."""

import pytest

from zhili.geo.selectors import node_by_code


def test_a_trimmed_code_and_the_full_code_name_the_same_node(district):
    assert node_by_code("500103") == node_by_code("500103000000") == district
    assert node_by_code(" 500103 ") == district


def test_a_grid_keeps_its_fifteen_digits(grid):
    assert node_by_code(grid.code) == grid


def test_the_outline_is_not_read(street):
    assert "geometry" in node_by_code("500103001").get_deferred_fields()


@pytest.mark.parametrize("code", ["", "5", "abc", "5001030010010", "50010300100100199",
                                  "５００１０３", None, 500103.0, "999999"])
def test_what_cannot_be_a_code_or_is_none_gives_none(db, code):
    assert node_by_code(code) is None
