"""A partial update (`core.schemas.UpdateModel`) needs at least one field: an empty body is refused
with "Nothing to update", whichever domain's update it is."""

import pytest
from pydantic import ValidationError

from functions.auth.schemas import UpdateMeIn
from functions.emergency.schemas import HospitalUpdateIn


@pytest.mark.parametrize(("model", "one_field"), [(UpdateMeIn, {"name": "Asha Rao"}),
                                                  (HospitalUpdateIn, {"city": "Pune"})])
def test_an_update_with_no_field_is_refused_and_one_field_is_enough(model, one_field):
    # Given an update body with no field
    # When it is validated
    with pytest.raises(ValidationError) as refused:
        model.model_validate({})
    # Then it is refused as nothing to update, while one field is a valid update
    assert "Nothing to update" in str(refused.value)
    assert model.model_validate(one_field).model_fields_set == set(one_field)
