"""Pure rules of prescriptions: numbers, codes, access, matching and the shapes sent out."""

from datetime import UTC, date, datetime, timedelta

import pytest
from bson import ObjectId

from functions.core.errors import NotFound, Unprocessable
from functions.prescriptions import access, lines, numbers, status, views
from functions.prescriptions.lines import RxLine

NOW = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


def test_numbers_use_the_clinics_calendar_day_and_never_overflow():
    # Given 20:00 UTC on 2 March, which is already 3 March in India
    # When numbers are formed
    day = numbers.day_key(NOW, "Asia/Kolkata")
    # Then the day is the local one and the sequence widens past 9999
    assert day == "260303"
    assert numbers.prescription_number(day, 7) == "RX2603030007"
    assert numbers.prescription_number(day, 12345) == "RX26030312345"


def test_codes_are_long_random_and_free_of_look_alikes():
    # Given many fresh codes
    codes = {numbers.new_code() for _ in range(500)}
    # Then they differ, are 12 characters, and never contain 0, O, 1, I or L
    assert len(codes) == 500
    assert all(len(c) == 12 and not set(c) & set("0O1IL") for c in codes)


@pytest.mark.parametrize(("typed", "expected"), [
    ("ABCD-EFGH-JKMN", "ABCDEFGHJKMN"),
    (" abcd efgh jkmn ", "ABCDEFGHJKMN"),
    ("ABCD-EFGH-JKM", None),
    ("ABCD-EFGH-JKM0", None),  # 0 is never in a code
    ("", None),
    ("../../etc/passwd", None),
])
def test_typed_codes_are_normalised_or_rejected(typed, expected):
    assert numbers.normalize_code(typed) == expected


def test_codes_print_in_groups_of_four():
    assert numbers.format_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"


@pytest.mark.parametrize(("name", "initials"), [
    ("Zofia Łukasiewicz", "Z. Ł."),
    ("प्रिया शर्मा", "प. श."),
    ("anna  maria  de la cruz", "A. M. D."),
    ("", ""),
    (None, ""),
])
def test_patient_initials(name, initials):
    assert views.patient_initials(name) == initials


@pytest.mark.parametrize(("name", "printed"), [
    ("Ananya Iyer", "Dr. Ananya Iyer"),
    ("Dr. Ananya Iyer", "Dr. Ananya Iyer"),
    ("Dr Ananya", "Dr Ananya"),
    ("dr. x", "dr. x"),
    ("DR.Ravi Kumar", "DR.Ravi Kumar"),
    ("  Ananya   Iyer ", "Dr. Ananya Iyer"),
    ("Drew Carter", "Dr. Drew Carter"),  # a name that merely starts with the letters
    ("", ""),
    (None, ""),
])
def test_a_doctors_title_prints_once(name, printed):
    assert views.doctor_title(name) == printed


def test_status_is_revoked_expired_or_active():
    base = {"status": "active", "validUntil": NOW + timedelta(days=1)}
    assert status.effective_status(base, NOW) == "active"
    assert status.effective_status({**base, "validUntil": NOW}, NOW) == "expired"
    assert status.effective_status({**base, "status": "revoked"}, NOW) == "revoked"


def test_who_may_read():
    # Given a prescription by doctor D for patient P, dispensed by pharmacist F
    d, p, f, other = ObjectId(), ObjectId(), ObjectId(), ObjectId()
    rx = {"doctor": d, "patient": p, "pharmacistIds": [f]}
    # Then the patient, the author, the pharmacist who dispensed it and admins may read it; nobody else
    assert access.can_read("patient", p, rx) and access.can_read("doctor", d, rx)
    assert access.can_read("pharmacist", f, rx) and access.can_read("admin", other, rx)
    assert not access.can_read("doctor", other, rx)
    assert not access.can_read("patient", other, rx)
    assert not access.can_read("pharmacist", other, rx)
    assert not access.can_read("patient", d, rx)  # the author's id under another role


def test_the_appointment_must_be_the_doctors_with_this_patient_and_confirmed_or_completed():
    d, p = ObjectId(), ObjectId()
    appt = {"doctor": d, "patient": p, "status": "confirmed"}
    access.check_appointment(appt, d, p)
    access.check_appointment({**appt, "status": "completed"}, d, p)
    with pytest.raises(NotFound):
        access.check_appointment(None, d, p)
    with pytest.raises(NotFound):
        access.check_appointment(appt, ObjectId(), p)
    with pytest.raises(Unprocessable) as mismatch:
        access.check_appointment(appt, d, ObjectId())
    assert mismatch.value.code == "APPOINTMENT_MISMATCH"
    with pytest.raises(Unprocessable) as pending:
        access.check_appointment({**appt, "status": "pending"}, d, p)
    assert pending.value.code == "APPOINTMENT_NOT_ELIGIBLE"


MEDS = [{"name": "Augmentin", "genericName": "Amoxicillin + Clavulanate", "strength": "625 mg", "quantity": 10},
        {"name": "Crocin", "genericName": "Paracetamol", "strength": None, "quantity": None, "refills": 2}]


@pytest.mark.parametrize(("line", "index"), [
    (RxLine("augmentin", None, None, 1), 0),
    (RxLine("Clavam", "amoxicillin  +  clavulanate", "625MG", 1), 0),
    (RxLine("Augmentin", None, "375 mg", 1), None),
    (RxLine("Dolo", "paracetamol", "650 mg", 1), 1),  # the doctor stated no strength
    (RxLine("Ibuprofen", None, None, 1), None),
])
def test_order_lines_match_by_name_or_generic_and_strength(line, index):
    matches = [i for i, med in enumerate(MEDS) if lines.line_matches(med, line)]
    assert matches == ([] if index is None else [index])


def test_allowance_counts_refills_and_defaults_to_one_unit():
    assert lines.allowance(MEDS[0]) == 10
    assert lines.allowance(MEDS[1]) == 3


def test_plan_takes_sums_lines_of_the_same_medicine_and_explains_a_shortfall():
    rx = {"medications": MEDS, "remaining": {"m0": 10, "m1": 3}}
    assert lines.plan_takes(rx, [RxLine("Augmentin", None, None, 4), RxLine("augmentin", None, None, 6)]) == {"m0": 10}
    with pytest.raises(Unprocessable, match="only 10 left"):
        lines.plan_takes(rx, [RxLine("Augmentin", None, None, 6), RxLine("Augmentin", None, None, 5)])
    with pytest.raises(Unprocessable, match="at least 1"):
        lines.plan_takes(rx, [RxLine("Augmentin", None, None, 0)])
    with pytest.raises(Unprocessable, match="No medicines"):
        lines.plan_takes(rx, [])


def test_plan_gives_caps_at_the_allowance():
    rx = {"medications": MEDS}
    assert lines.plan_gives(rx, [RxLine("Crocin", None, None, 2), RxLine("Unknown", None, None, 1)]) == {"m1": (2, 3)}


def test_the_verify_view_names_no_diagnosis_and_only_initials():
    rx = {"prescriptionNumber": "RX2603020001", "status": "active", "issuedAt": NOW, "validUntil": NOW + timedelta(1),
          "diagnosis": "secret", "medications": [{**MEDS[0], "instructions": "secret too"}]}
    view = views.verify_view(rx, {"name": "Dr A", "speciality": "ENT", "contact": "a@b.c"}, {"name": "Ravi Kumar"}, NOW)
    assert view["valid"] and view["patientInitials"] == "R. K." and view["doctor"] == {"name": "Dr A",
                                                                                       "speciality": "ENT"}
    assert "secret" not in repr(view)


def test_age_from_a_date_of_birth_in_any_stored_form():
    from functions.prescriptions.pdf import age_text

    today = date(2026, 3, 2)
    assert age_text("1990-03-03", today).startswith("35 years")
    assert age_text(datetime(1990, 3, 2, tzinfo=UTC), today).startswith("36 years")
    assert age_text("garbage", today) == "" and age_text(None, today) == "" and age_text("2030-01-01", today) == ""
