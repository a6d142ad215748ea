"""Who may read a prescription (D-11: the reference let any doctor read any), and the lists."""

from bson import ObjectId

from functions.core import db as core_db
from functions.prescriptions.api import RxLine, reserve_for_order
from tests.commands import COMMANDS
from tests.factories import make_user
from tests.prescriptions_support import appointment, body, doctor, get, issue, patient, payload, post


def test_authorization_matrix_for_reading_a_prescription_and_its_pdf(api):
    # Given a prescription by doctor A for patient P, and everyone else who might ask
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    allowed = {"the patient": owner, "the author": author, "an admin": make_user("admin")}
    refused = {"another doctor": doctor(), "another patient": patient(),
               "a pharmacist without an order": make_user("pharmacist")}
    for path in (f"/prescription/{rx['_id']}", f"/prescription/{rx['_id']}/pdf"):
        # When each of them reads it
        outcomes = {who: get(api, user, path, Accept="application/pdf").status_code
                    for who, user in {**allowed, **refused}.items()}
        # Then the patient, the author and admins get it; everyone else a 404, as for an unknown id
        assert outcomes == {**dict.fromkeys(allowed, 200), **dict.fromkeys(refused, 404)}, path
        assert get(api, None, path).status_code == 401


def test_a_pharmacist_reads_a_prescription_once_their_order_reserved_it(api):
    # Given a prescription and a pharmacist who fills an order against it (the pharmacy's seam)
    author, owner, pharmacist = doctor(), patient(), make_user("pharmacist")
    rx = issue(api, author, owner)
    reserve_for_order(rx["_id"], owner["_id"], pharmacist["_id"],
                      [RxLine("Amoxicillin", None, "500 mg", 21)], ObjectId())
    # When the pharmacist reads it and its PDF
    one = get(api, pharmacist, f"/prescription/{rx['_id']}")
    pdf = get(api, pharmacist, f"/prescription/{rx['_id']}/pdf", Accept="application/pdf")
    # Then both are served, and the reservation shows in what is left
    assert one.status_code == 200 and pdf.status_code == 200
    assert body(one)["prescription"]["medications"][0]["remaining"] == 0


def test_the_frontends_read_by_appointment_id_finds_the_appointments_newest_prescription(api, clock):
    # Given an appointment with two prescriptions, five minutes apart
    author, owner = doctor(), patient()
    appt = appointment(author, owner)
    post(api, author, "/prescription/new", payload(appt))
    clock.advance(minutes=5)
    newer = body(post(api, author, "/prescription/new", payload(appt)))["prescription"]
    # When the patient's frontend asks for /prescription/<appointment id>, and another patient does too
    mine = get(api, owner, f"/prescription/{appt['_id']}")
    theirs = get(api, patient(), f"/prescription/{appt['_id']}")
    # Then the patient gets the newest one, and the other patient a 404
    assert mine.status_code == 200 and body(mine)["prescription"]["_id"] == newer["_id"]
    assert theirs.status_code == 404


def test_malformed_and_unknown_ids_are_404(api):
    # Given a patient
    owner = patient()
    # When they ask for ids that are not prescriptions
    # Then 404 each time
    for bad in ("nope", "0" * 24, str(ObjectId())):
        assert get(api, owner, f"/prescription/{bad}").status_code == 404
        assert get(api, owner, f"/prescription/{bad}/pdf", Accept="application/pdf").status_code == 404


def test_reads_by_anyone_but_the_patient_are_audited(api, db):
    # Given a prescription
    author, owner, admin = doctor(), patient(), make_user("admin")
    rx = issue(api, author, owner)
    # When the patient, the author and an admin read it
    for reader in (owner, author, admin):
        assert get(api, reader, f"/prescription/{rx['_id']}").status_code == 200
    # Then the author's and the admin's reads are in the audit log, the patient's own read is not
    readers = {e["actorId"] for e in db["audit_log"].find({"resourceType": "prescription", "action": "read"})}
    assert readers == {author["_id"], admin["_id"]}


def test_a_read_carries_the_verification_code_and_the_list_does_not(api):
    # Given a prescription
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    # When the patient reads it and lists theirs
    one = body(get(api, owner, f"/prescription/{rx['_id']}"))["prescription"]
    listed = body(get(api, owner, "/prescriptions"))["prescriptions"][0]
    # Then the single read shows the code to print, the list card does not
    assert one["verificationCode"] == rx["verificationCode"]
    assert "verificationCode" not in listed


# ---------------------------------------------------------------- GET /prescriptions


def test_a_patient_lists_their_own_newest_first_with_what_the_cards_read(api, clock):
    # Given two prescriptions for P (a day apart) and one for someone else
    author, owner = doctor(speciality="ENT"), patient()
    older = issue(api, author, owner)
    clock.advance(days=1)
    newer = issue(api, doctor(), owner)
    issue(api, author, patient())
    # When P lists their prescriptions without paging
    response = get(api, owner, "/prescriptions")
    # Then they get theirs, newest first, each with the fields the frontend's cards read
    data = body(response)
    assert [p["_id"] for p in data["prescriptions"]] == [newer["_id"], older["_id"]]
    card = data["prescriptions"][1]
    for key in ("prescriptionNumber", "createdAt", "diagnosis", "symptoms", "medications", "notes",
                "followUpInstructions", "doctor", "patient"):
        assert key in card
    assert card["doctor"] == {"_id": str(author["_id"]), "name": author["name"], "speciality": "ENT"}
    assert card["patient"] == {"_id": str(owner["_id"]), "name": owner["name"], "contact": owner["contact"]}
    assert data["pagination"] == {"total": 2, "page": 1, "pages": 1, "limit": 100}


def test_a_doctor_lists_the_ones_they_wrote(api):
    # Given doctor A wrote two prescriptions and doctor B one
    author = doctor()
    mine = {issue(api, author, patient())["_id"] for _ in range(2)}
    issue(api, doctor(), patient())
    # When A lists
    listed = body(get(api, author, "/prescriptions"))["prescriptions"]
    # Then only A's
    assert {p["_id"] for p in listed} == mine


def test_the_list_pages(api):
    # Given three prescriptions for one patient
    author, owner = doctor(), patient()
    for _ in range(3):
        issue(api, author, owner)
    # When the patient asks for page 2 of 2 per page
    data = body(get(api, owner, "/prescriptions?page=2&limit=2"))
    # Then one item, and the pagination says so
    assert len(data["prescriptions"]) == 1
    assert data["pagination"] == {"total": 3, "page": 2, "pages": 2, "limit": 2}


def test_the_list_joins_users_with_one_read_whatever_the_page_size(api, db):
    # Given ten prescriptions by ten doctors for one patient
    owner = patient()
    for _ in range(10):
        issue(api, doctor(), owner)
    core_db.close_client()  # listeners apply to clients created after registration
    # When the patient lists them, counting the reads
    response, sent = COMMANDS.during(lambda: get(api, owner, "/prescriptions"))
    # Then all ten come back with their doctors' names, from one read of prescriptions and one join of users
    listed = body(response)["prescriptions"]
    assert len(listed) == 10 and all(p["doctor"]["name"] for p in listed)
    assert sent.count("find:prescriptions") == 1
    assert sent.count("find:users") == 2  # the guard's read of the caller, and the join


def test_pharmacists_and_admins_have_no_list_of_their_own(api):
    # Given a pharmacist and an admin
    # When they call the list
    # Then 403: the list is a patient's or a doctor's
    for role in ("pharmacist", "admin"):
        assert get(api, make_user(role), "/prescriptions").status_code == 403


def test_the_patient_record_includes_their_prescriptions(api):
    # Given a patient with a prescription from their doctor
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    # When the patient and their doctor read the complete record
    for reader in (owner, author):
        data = body(get(api, reader, f"/patient/{owner['_id']}/complete-data"))["data"]
        # Then the prescription is in it
        assert [p["prescriptionNumber"] for p in data["prescriptions"]] == [rx["prescriptionNumber"]]
