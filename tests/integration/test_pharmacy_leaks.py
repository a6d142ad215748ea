"""Issue 21 item 12, the pharmacy's small leaks: the public view names no admin (`verifiedBy`), a
registration does not tell a pharmacist whether a licence is registered elsewhere, and an owner's
edit racing a suspension cannot leave a suspended pharmacy's medicine listed."""

from functions.pharmacy import inventory
from tests.factories import make_user
from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy, patient, pharmacist, registration


def test_the_public_pharmacy_view_does_not_name_the_admin_who_verified_it(api, db):
    # Given a pharmacy an admin verified
    owner = pharmacist()
    assert call(api, "POST", "/pharmacy/register", as_=owner, json=registration()).status_code == 201
    shop = db.pharmacies.find_one({"owner": owner["_id"]})
    admin = make_user("admin")
    assert call(api, "PUT", f"/admin/pharmacy/{shop['_id']}/status", as_=admin,
                json={"status": "verified"}).status_code == 200
    assert db.pharmacies.find_one({"_id": shop["_id"]})["verifiedBy"] == admin["_id"]
    # When anyone reads it, alone or in the directory
    one = body(call(api, "GET", f"/pharmacy/{shop['_id']}", as_=patient()))["pharmacy"]
    listed = body(call(api, "GET", "/pharmacies", as_=patient()))["pharmacies"]
    # Then no admin id is shown
    assert one["name"] and "verifiedBy" not in one
    assert listed and all("verifiedBy" not in p for p in listed)


def test_a_pharmacist_is_not_told_that_a_licence_is_registered_elsewhere(api, db):
    # Given a pharmacy holding licence MH-PUN-12345
    assert call(api, "POST", "/pharmacy/register", as_=pharmacist(), json=registration()).status_code == 201
    # When another pharmacist registers that licence
    response = call(api, "POST", "/pharmacy/register", as_=pharmacist(),
                    json=registration(licenseNumber="mh pun 12345"))
    # Then the answer is a generic conflict that names no licence, and an admin can read the clash
    answer = body(response)
    assert (response.status_code, answer["code"]) == (409, "REGISTRATION_REFUSED")
    assert "licen" not in answer["message"].lower().replace("licence reviewed", "")
    assert db.pharmacies.count_documents({}) == 1
    assert db.audit_log.count_documents({"action": "registration_refused"}) == 1


def test_an_edit_racing_a_suspension_does_not_leave_the_medicine_listed(api, db, monkeypatch):
    # Given a listed medicine of a verified pharmacy
    shop = make_pharmacy()
    medicine = make_medicine(shop, isActive=False)
    admin = make_user("admin")
    read = inventory.medicines.get_owned

    def suspended_right_after_the_read(*args):
        found = read(*args)  # the owner's edit has read the pharmacy (listed) and the medicine...
        response = call(api, "PUT", f"/admin/pharmacy/{shop['_id']}/status", as_=admin,
                        json={"status": "suspended", "reason": "complaints"})  # ...when an admin suspends
        assert response.status_code == 200
        return found

    monkeypatch.setattr(inventory.medicines, "get_owned", suspended_right_after_the_read)
    # When the owner re-activates the medicine at that moment
    response = call(api, "PUT", f"/pharmacy/medicine/{medicine['_id']}", as_=shop["ownerUser"], json={"isActive": True})
    # Then the edit is refused as the pharmacy is no longer verified, and nothing is listed
    assert response.status_code == 403
    assert db.medicines.find_one({"_id": medicine["_id"]})["listed"] is False
    monkeypatch.undo()
    assert body(call(api, "GET", "/medicines", as_=patient()))["medicines"] == []
