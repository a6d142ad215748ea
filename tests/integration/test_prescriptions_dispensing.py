"""The pharmacy's seam: `reserve_for_order` / `release_for_order` on a real database."""

import pytest
from bson import ObjectId

from functions.core.errors import Unprocessable
from functions.prescriptions.api import RxLine, release_for_order, reserve_for_order
from tests.factories import make_user
from tests.prescriptions_support import doctor, issue, patient, put


@pytest.fixture
def setting(api):
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    return {"api": api, "author": author, "owner": owner, "rx": rx, "pharmacist": make_user("pharmacist")}


def _remaining(db, rx):
    return db["prescriptions"].find_one({"_id": ObjectId(rx["_id"])})["remaining"]


def _reserve(s, *lines, patient_id=None, order_id=None):
    reserve_for_order(s["rx"]["_id"], patient_id or s["owner"]["_id"], s["pharmacist"]["_id"], list(lines),
                      order_id or ObjectId())


def _refused(s, *lines, patient_id=None):
    with pytest.raises(Unprocessable) as caught:
        _reserve(s, *lines, patient_id=patient_id)
    assert caught.value.code == "PRESCRIPTION_INVALID"
    return caught.value.message


def test_names_match_by_name_or_generic_ignoring_case_and_spaces(setting, db):
    # Given a prescription of Amoxicillin (amoxicillin) 500 mg x21 and Omeprazole 20 mg x14 with a refill
    # When an order names them loosely
    _reserve(setting, RxLine("  AMOXICILLIN ", None, "500MG", 1), RxLine("Losec", "omeprazole", "20 mg", 28))
    # Then both are taken
    remaining = _remaining(db, setting["rx"])
    assert remaining["m0"] == 20 and remaining["m3"] == 0


def test_a_medicine_not_prescribed_or_of_another_strength_is_refused(setting, db):
    # Given the prescription
    # When orders name a medicine not on it, or the right one at another strength
    # Then each is refused naming the medicine, and nothing is taken
    assert "Ibuprofen" in _refused(setting, RxLine("Ibuprofen", None, None, 1))
    assert "Amoxicillin" in _refused(setting, RxLine("Amoxicillin", None, "250 mg", 1))
    assert _remaining(db, setting["rx"])["m0"] == 21


def test_all_lines_or_none(setting, db):
    # Given the prescription (Paracetamol x10)
    # When an order takes 5 Amoxicillin and 11 Paracetamol
    message = _refused(setting, RxLine("Amoxicillin", None, None, 5), RxLine("Paracetamol", None, None, 11))
    # Then it is refused for the Paracetamol and the Amoxicillin was not taken either
    assert "Paracetamol" in message and "10 left" in message
    assert _remaining(db, setting["rx"])["m0"] == 21


def test_someone_elses_revoked_or_expired_prescription_is_refused(setting, clock):
    line = RxLine("Amoxicillin", None, None, 1)
    # Given the prescription
    # When another patient's order uses it
    # Then refused
    _refused(setting, line, patient_id=patient()["_id"])
    # When it has expired
    clock.advance(days=31)
    assert "expired" in _refused(setting, line)
    clock.advance(days=-31)
    # When its author revoked it
    put(setting["api"], setting["author"], f"/prescription/{setting['rx']['_id']}/revoke", {"reason": "Wrong"})
    assert "revoked" in _refused(setting, line)


def test_an_unknown_or_malformed_prescription_id_is_refused(setting):
    # Given ids that are no prescription
    # When an order names them
    # Then PRESCRIPTION_INVALID, never a 404 or a crash inside the pharmacy's use case
    for bad in ("nope", str(ObjectId())):
        with pytest.raises(Unprocessable) as caught:
            reserve_for_order(bad, setting["owner"]["_id"], setting["pharmacist"]["_id"],
                              [RxLine("Amoxicillin", None, None, 1)], ObjectId())
        assert caught.value.code == "PRESCRIPTION_INVALID"


def test_refills_and_missing_quantities_set_the_allowance(setting, db):
    # Given Cetirizine with no quantity (one unit) and Salbutamol x1 with two refills
    # When an order takes one of each, and then the third and fourth Salbutamol
    _reserve(setting, RxLine("Cetirizine", None, None, 1), RxLine("Salbutamol Inhaler", None, None, 3))
    # Then the allowance is used up, and one more is refused
    assert _remaining(db, setting["rx"])["m2"] == 0 and _remaining(db, setting["rx"])["m4"] == 0
    _refused(setting, RxLine("Salbutamol Inhaler", None, None, 1))


def test_release_gives_back_exactly_what_the_order_reserved_once(setting, db):
    # Given an order that reserved 6 Amoxicillin
    lines = [RxLine("Amoxicillin", None, None, 6)]
    order_id = ObjectId()
    _reserve(setting, *lines, order_id=order_id)
    # When the order is cancelled, and the release is (wrongly) repeated, and another order that
    # never reserved is released too
    release_for_order(setting["rx"]["_id"], order_id)
    release_for_order(setting["rx"]["_id"], order_id)
    release_for_order(setting["rx"]["_id"], ObjectId())
    # Then the 21 prescribed are back, not 27
    assert _remaining(db, setting["rx"])["m0"] == 21


def test_release_of_an_unknown_prescription_does_nothing(setting, db):
    # Given a prescription nobody has reserved from
    # When a release names another, unknown prescription
    release_for_order(str(ObjectId()), ObjectId(), [RxLine("Amoxicillin", None, None, 1)])
    # Then nothing changes and nothing is raised
    assert _remaining(db, setting["rx"])["m0"] == 21
