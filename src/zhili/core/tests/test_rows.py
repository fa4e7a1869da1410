"""instance_from_row: values land in their own fields, whatever order they come in."""

import pytest

from zhili.accounts.models import RoleAssignment
from zhili.core.rows import instance_from_row


def test_values_land_in_their_fields_in_any_order():
    # The model's order is id, user, role, area, area_path, department.
    row = {"area_path": "50/", "role": "grid_worker", "user_id": 7, "id": 3, "area_id": 11}
    assignment = instance_from_row(RoleAssignment, row)
    assert (assignment.pk, assignment.user_id, assignment.role, assignment.area_id,
            assignment.area_path) == (3, 7, "grid_worker", 11, "50/")
    assert assignment.get_deferred_fields() == {"department_id", "created_at"}
    assert not assignment._state.adding


def test_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="no fields"):
        instance_from_row(RoleAssignment, {"id": 1, "colour": "red"})
