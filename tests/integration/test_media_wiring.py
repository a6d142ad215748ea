"""Who may use an upload, where entities take `{public_id, url}`: avatars (PUT /me, the sign-up
form, the pharmacy's picture) and medicine images. Only assets recorded for that owner and
purpose are accepted; replaced ones are destroyed in Cloudinary. Cloudinary's SDK runs for real,
only its transport is replaced (tests.media_support)."""
# ruff: noqa: F811  (pytest fixtures imported from tests.media_support)

import json

import pytest

from functions.core.db import get_db
from tests.auth_support import register
from tests.factories import bearer, make_user
from tests.http import call
from tests.media_support import CLOUD, cloudinary_api  # noqa: F401  (fixture)
from tests.media_support import uploaded as recorded
from tests.pharmacy_support import body, make_pharmacy, medicine_fields, multipart, order_body, png_bytes

ME = "/me"


def uploaded(client, owner, purpose, name="abc123"):
    """`{public_id, url}` of an upload Cloudinary reported (signed webhook) for owner and purpose."""
    found = recorded(client, owner, purpose, name)
    return {"public_id": found["public_id"], "url": found["url"]}


def assets() -> dict[str, tuple[str, str]]:
    return {d["_id"]: (d["purpose"], d["status"]) for d in get_db()["media_assets"].find({})}


# ---------------------------------------------------------------- the user's avatar


def test_a_recorded_avatar_of_the_caller_is_accepted_with_cloudinarys_url(client, cloudinary_api):
    # Given a patient whose avatar upload Cloudinary reported
    who = make_user("patient")
    mine = uploaded(client, who, "avatar", name="me")
    # When they set it, sending a url of their own
    response = call(client, "PUT", ME, as_=who, json={"avatar": {"public_id": mine["public_id"],
                                                        "url": "https://evil.example/x.png"}})
    # Then the avatar is the recorded one, with the url Cloudinary reported
    assert response.status_code == 200, response.body
    assert body(response)["user"]["avatar"] == {"public_id": mine["public_id"], "url": mine["url"]}
    assert get_db().users.find_one({"_id": who["_id"]})["avatar"]["url"] == mine["url"]


@pytest.mark.parametrize("case", ["another user's", "another purpose's", "never recorded"])
def test_foreign_wrong_purpose_or_unknown_avatars_are_422(client, cloudinary_api, case):
    # Given a patient, and an upload that is not their avatar
    who, other = make_user("patient"), make_user("patient")
    ref = {
        "another user's": lambda: uploaded(client, other, "avatar", name="theirs"),
        "another purpose's": lambda: uploaded(client, who, "prescription-scan", name="scan"),
        "never recorded": lambda: {"public_id": f"cureconnect/avatar/{who['_id']}/forged",
                                   "url": f"https://res.cloudinary.com/{CLOUD}/x.png"},
    }[case]()
    # When they set it as their avatar
    response = call(client, "PUT", ME, as_=who, json={"avatar": {"public_id": ref["public_id"], "url": ref["url"]}})
    # Then it is refused with the catalogue's code, naming the field, and nothing changed
    assert response.status_code == 422, response.body
    assert body(response)["code"] == "ASSET_INVALID"
    assert [e["field"] for e in body(response)["errors"]] == ["avatar.public_id"]
    assert (get_db().users.find_one({"_id": who["_id"]}).get("avatar") or {}).get("public_id") != ref["public_id"]


def test_replacing_or_removing_an_avatar_destroys_the_old_one(client, cloudinary_api):
    # Given a doctor with a recorded avatar in use, and a second upload
    who = make_user("doctor")
    old, new = uploaded(client, who, "avatar", name="old"), uploaded(client, who, "avatar", name="new")
    assert call(client, "PUT", ME, as_=who, json={"avatar": old}).status_code == 200
    # When they replace it, then remove the avatar
    replaced = call(client, "PUT", ME, as_=who, json={"avatar": {"public_id": new["public_id"], "url": new["url"]}})
    removed = call(client, "PUT", ME, as_=who, json={"avatar": {"public_id": "", "url": ""}})
    # Then each given-up avatar left Cloudinary, and neither can be used again
    assert (replaced.status_code, removed.status_code) == (200, 200)
    assert body(removed)["user"]["avatar"] == {"public_id": "", "url": ""}
    assert cloudinary_api.destroyed == [old["public_id"], new["public_id"]]
    assert assets() == {old["public_id"]: ("avatar", "destroyed"), new["public_id"]: ("avatar", "destroyed")}
    assert call(client, "PUT", ME, as_=who, json={"avatar": old}).status_code == 422


def test_a_failing_cloudinary_does_not_fail_the_avatar_change(client, cloudinary_api):
    # Given a patient's avatar in use, a new upload, and Cloudinary failing to delete
    who = make_user("patient")
    old, new = uploaded(client, who, "avatar", name="old"), uploaded(client, who, "avatar", name="new")
    call(client, "PUT", ME, as_=who, json={"avatar": old})
    cloudinary_api.fail = True
    # When the avatar is replaced
    response = call(client, "PUT", ME, as_=who, json={"avatar": new})
    # Then the change is made (the failure is only logged)
    assert response.status_code == 200 and body(response)["user"]["avatar"]["public_id"] == new["public_id"]


@pytest.mark.parametrize(("url", "kept"), [
    (f"https://res.cloudinary.com/{CLOUD}/image/upload/v1/a.png", True),
    ("https://res.cloudinary.com/someone-else/image/upload/v1/a.png", False),
    ("https://evil.example/a.png", False),
])
def test_the_sign_up_forms_avatar_is_kept_only_on_our_cloud(client, cloudinary_api, url, kept):
    # Given the sign-up form's avatar, a JSON string from an unsigned browser upload (no account yet)
    avatar = json.dumps({"public_id": "doctors/meera", "url": url})
    # When a doctor signs up with it
    response = register(client, role="doctor", name="Dr Meera Iyer", contact="meera@example.com", avatar=avatar)
    # Then it is kept only when it is on this deployment's Cloudinary cloud; otherwise dropped
    assert response.status_code == 201, response.body
    expected = {"public_id": "doctors/meera", "url": url} if kept else {"public_id": "", "url": ""}
    assert body(response)["user"]["avatar"] == expected


def test_without_cloudinary_configured_the_sign_up_avatar_is_dropped(client):
    avatar = json.dumps({"public_id": "doctors/meera", "url": "https://res.cloudinary.com/cc/m.png"})
    response = register(client, role="patient", avatar=avatar)
    assert response.status_code == 201 and body(response)["user"]["avatar"] == {"public_id": "", "url": ""}


# ---------------------------------------------------------------- medicine images


def test_a_medicine_takes_only_its_pharmacists_recorded_medicine_images(client, cloudinary_api):
    # Given a verified pharmacy, its owner's medicine photo, and uploads that are not theirs for this
    shop = make_pharmacy()
    owner, rival = shop["ownerUser"], make_user("pharmacist")
    photo = uploaded(client, owner, "medicine-image", name="box")
    theirs = uploaded(client, rival, "medicine-image", name="rival")
    licence = uploaded(client, owner, "pharmacy-license", name="licence")
    unknown = {"public_id": f"cureconnect/medicine-image/{owner['_id']}/nope", "url": "https://x.example/n.png"}
    # When the owner adds medicines with each
    forged_url = {"public_id": photo["public_id"], "url": "https://evil.example/x.png"}
    ok = call(client, "POST", "/pharmacy/medicines", as_=owner, json=medicine_fields(images=[forged_url]))
    refused = [call(client, "POST", "/pharmacy/medicines", as_=owner, json=medicine_fields(images=[photo, ref]))
               for ref in (theirs, licence, unknown)]
    # Then only their own medicine photo is accepted, with Cloudinary's url
    assert ok.status_code == 201, ok.body
    assert body(ok)["medicine"]["images"] == [{"public_id": photo["public_id"], "url": photo["url"]}]
    assert [(r.status_code, body(r)["code"], body(r)["errors"][0]["field"]) for r in refused] == \
        [(422, "ASSET_INVALID", "images.1.public_id")] * 3
    assert get_db().medicines.count_documents({"pharmacy": shop["_id"]}) == 1


def test_replacing_a_medicines_images_destroys_the_ones_dropped(client, cloudinary_api):
    # Given a medicine showing two recorded photos, and a new one
    shop = make_pharmacy()
    owner = shop["ownerUser"]
    a, b, c = (uploaded(client, owner, "medicine-image", name=n) for n in ("a", "b", "c"))
    created = body(call(client, "POST", "/pharmacy/medicines", as_=owner,
                        json=medicine_fields(images=[a, b])))["medicine"]
    # When the pharmacist keeps b and adds c
    response = call(client, "PUT", f"/pharmacy/medicine/{created['_id']}", as_=owner, json={"images": [b, c]})
    # Then a left Cloudinary; b and c are in use
    assert response.status_code == 200, response.body
    assert [i["public_id"] for i in body(response)["medicine"]["images"]] == [b["public_id"], c["public_id"]]
    assert cloudinary_api.destroyed == [a["public_id"]]
    assert assets()[a["public_id"]] == ("medicine-image", "destroyed")


def test_a_bulk_upload_naming_a_foreign_image_is_refused(client, cloudinary_api):
    # Given a pharmacist and a rival's medicine photo
    shop = make_pharmacy()
    owner, rival = shop["ownerUser"], make_user("pharmacist")
    mine, theirs = uploaded(client, owner, "medicine-image", name="m"), uploaded(client, rival, "medicine-image")
    rows = [medicine_fields(name="A", images=[mine]), medicine_fields(name="B", images=[theirs])]
    # When the rows are uploaded, then only the owner's
    refused = call(client, "POST", "/pharmacy/medicines/bulk-upload", as_=owner, json=rows)
    accepted = call(client, "POST", "/pharmacy/medicines/bulk-upload", as_=owner, json=rows[:1])
    # Then the foreign photo refuses the upload; the owner's own is stored with Cloudinary's url
    assert (refused.status_code, body(refused)["code"]) == (422, "ASSET_INVALID")
    assert accepted.status_code == 201, accepted.body
    stored = get_db().medicines.find_one({"pharmacy": shop["_id"], "name": "A"})
    assert stored["images"] == [{"public_id": mine["public_id"], "url": mine["url"]}]


def test_form_file_images_are_recorded_so_json_edits_accept_them(client, cloudinary_api):
    # Given a medicine added with the frontend's form and an image file (uploaded server-side)
    shop = make_pharmacy()
    owner = shop["ownerUser"]
    raw, ctype = multipart(medicine_fields(), {"images": ("a.png", "image/png", png_bytes())})
    added = client.http.post("/api/v1/pharmacy/medicines", body=raw, headers={"Content-Type": ctype, **bearer(owner)})
    assert added.status_code == 201, added.body
    image = body(added)["medicine"]["images"][0]
    # When the pharmacist later edits the medicine with JSON that echoes that image
    edited = call(client, "PUT", f"/pharmacy/medicine/{body(added)['medicine']['_id']}", as_=owner,
                  json={"images": [image], "stock": 7})
    # Then the server-side upload went to the owner's medicine-image folder and was recorded as theirs
    assert image["public_id"].startswith(f"cureconnect/medicine-image/{owner['_id']}/")
    assert assets() == {image["public_id"]: ("medicine-image", "active")}
    assert edited.status_code == 200, edited.body
    assert cloudinary_api.destroyed == []


# ---------------------------------------------------------------- the pharmacy's picture


def test_the_pharmacy_avatar_is_recorded_and_a_new_one_destroys_the_old(client, cloudinary_api):
    # Given a pharmacy registered with the frontend's multipart form and a picture
    from tests.pharmacy_support import pharmacist, registration

    owner = pharmacist()
    raw, ctype = multipart(registration(), {"avatar": ("me.png", "image/png", png_bytes())})
    registered = client.http.post("/api/v1/pharmacy/register", body=raw, headers={"Content-Type": ctype,
                                                                                  **bearer(owner)})
    assert registered.status_code == 201, registered.body
    first = body(registered)["pharmacy"]["avatar"]
    # When the owner uploads a new picture through PUT /pharmacy/my
    raw, ctype = multipart({"description": "New look"}, {"avatar": ("new.png", "image/png", png_bytes())})
    updated = client.http.put("/api/v1/pharmacy/my", body=raw, headers={"Content-Type": ctype, **bearer(owner)})
    # Then both were recorded as the owner's pharmacy pictures, and the first one left Cloudinary
    assert updated.status_code == 200, updated.body
    second = body(updated)["pharmacy"]["avatar"]
    assert first["public_id"].startswith(f"cureconnect/pharmacy-picture/{owner['_id']}/") and second != first
    assert assets() == {first["public_id"]: ("pharmacy-picture", "destroyed"),
                        second["public_id"]: ("pharmacy-picture", "active")}
    assert cloudinary_api.destroyed == [first["public_id"]]


def test_the_pharmacys_picture_cannot_become_its_owners_avatar(client, cloudinary_api):
    # Given a pharmacy registered with a picture
    from tests.pharmacy_support import pharmacist, registration

    owner = pharmacist()
    raw, ctype = multipart(registration(), {"avatar": ("me.png", "image/png", png_bytes())})
    picture = body(client.http.post("/api/v1/pharmacy/register", body=raw,
                                    headers={"Content-Type": ctype, **bearer(owner)}))["pharmacy"]["avatar"]
    # When the owner tries to use it as their own avatar
    response = client.http.put("/api/v1/me", body=json.dumps({"avatar": picture}).encode(),
                               headers={"Content-Type": "application/json", **bearer(owner)})
    # Then it is refused (replacing either would otherwise destroy the other), and stays active
    assert (response.status_code, json.loads(response.body)["code"]) == (422, "ASSET_INVALID")
    assert assets()[picture["public_id"]] == ("pharmacy-picture", "active")


def test_a_refused_registration_uploads_no_picture(client, cloudinary_api):
    # Given a pharmacist who already has a pharmacy
    owner = make_user("pharmacist")
    make_pharmacy(owner)
    from tests.pharmacy_support import registration

    raw, ctype = multipart(registration(licenseNumber="OTHER-9"), {"avatar": ("me.png", "image/png", png_bytes())})
    # When they register another with a picture
    response = client.http.post("/api/v1/pharmacy/register", body=raw, headers={"Content-Type": ctype,
                                                                                **bearer(owner)})
    # Then it is refused before anything is uploaded (and a registration that loses a race to the
    # unique index destroys the picture it uploaded)
    assert (response.status_code, body(response)["code"]) == (409, "PHARMACY_EXISTS")
    assert cloudinary_api.uploads == []


def test_a_registration_refused_by_the_database_destroys_the_picture_it_uploaded(client, cloudinary_api):
    # Given a pharmacy holding a licence number
    from tests.pharmacy_support import pharmacist, registration

    make_pharmacy(licenseNumber="MH-PUN-777", licenseKey="MHPUN777")
    owner = pharmacist()
    raw, ctype = multipart(registration(licenseNumber="MH-PUN-777"), {"avatar": ("me.png", "image/png", png_bytes())})
    # When another pharmacist registers that licence with a picture
    response = client.http.post("/api/v1/pharmacy/register", body=raw, headers={"Content-Type": ctype,
                                                                                **bearer(owner)})
    # Then the unique index refuses it and the uploaded picture leaves Cloudinary (no orphan, D-35)
    assert (response.status_code, body(response)["code"]) == (409, "REGISTRATION_REFUSED")  # issue 21
    assert len(cloudinary_api.uploads) == 1
    assert cloudinary_api.destroyed == [next(iter(assets()))]
    assert list(assets().values()) == [("pharmacy-picture", "destroyed")]


# ---------------------------------------------------------------- licence documents


def test_licence_documents_are_the_owners_recorded_licence_uploads(client, cloudinary_api):
    # Given a pharmacist's licence scan, their medicine photo, and another pharmacist's licence scan
    from tests.pharmacy_support import pharmacist, registration

    owner, rival = pharmacist(), pharmacist()
    scan = uploaded(client, owner, "pharmacy-license", name="lic")
    photo = uploaded(client, owner, "medicine-image", name="photo")
    theirs = uploaded(client, rival, "pharmacy-license", name="theirs")
    # When they register naming a photo, then a rival's scan, then their own scan
    attempts = [call(client, "POST", "/pharmacy/register", as_=owner,
                     json=registration(verificationDocuments={"pharmacyLicense": scan, "drugLicense": ref}))
                for ref in (photo, theirs)]
    ok = call(client, "POST", "/pharmacy/register", as_=owner, json=registration(verificationDocuments={
        "pharmacyLicense": {"public_id": scan["public_id"], "url": "https://evil.example/l.pdf"}}))
    # Then only their own licence upload is accepted, with Cloudinary's url, and the refusals name the document
    assert [(r.status_code, body(r)["code"], [e["field"] for e in body(r)["errors"]]) for r in attempts] == \
        [(422, "ASSET_INVALID", ["verificationDocuments.drugLicense.public_id"])] * 2
    assert ok.status_code == 201, ok.body
    assert body(ok)["pharmacy"]["verificationDocuments"] == {"pharmacyLicense": scan}


def test_replacing_a_licence_document_destroys_the_old_one_and_keeps_the_others(client, cloudinary_api):
    # Given a pharmacy with two recorded licence documents, and a new scan of one of them
    from tests.pharmacy_support import pharmacist, registration

    owner = pharmacist()
    old, drug, new = (uploaded(client, owner, "pharmacy-license", name=n) for n in ("old", "drug", "new"))
    call(client, "POST", "/pharmacy/register", as_=owner,
         json=registration(verificationDocuments={"pharmacyLicense": old, "drugLicense": drug}))
    # When the owner sends the new pharmacy licence only
    response = call(client, "PUT", "/pharmacy/my", as_=owner, json={"verificationDocuments": {"pharmacyLicense": new}})
    # Then the old scan left Cloudinary and the drug licence stayed
    assert response.status_code == 200, response.body
    assert body(response)["pharmacy"]["verificationDocuments"] == {"pharmacyLicense": new, "drugLicense": drug}
    assert cloudinary_api.destroyed == [old["public_id"]]


def test_an_image_an_order_shows_survives_the_medicines_new_images(client, cloudinary_api):
    # Given a medicine showing photo a, ordered by a patient (the order's item shows a)
    shop = make_pharmacy()
    owner = shop["ownerUser"]
    a, b, c = (uploaded(client, owner, "medicine-image", name=n) for n in ("a", "b", "c"))
    created = body(call(client, "POST", "/pharmacy/medicines", as_=owner, json=medicine_fields(images=[a])))["medicine"]
    patient = make_user("patient")
    ordered = call(client, "POST", "/orders", as_=patient,
                   json=order_body(shop, [({"_id": created["_id"]}, 1)], deliveryInfo={"type": "pickup"}))
    assert ordered.status_code == 201, ordered.body
    # When the pharmacist replaces the photos twice
    call(client, "PUT", f"/pharmacy/medicine/{created['_id']}", as_=owner, json={"images": [b]})
    response = call(client, "PUT", f"/pharmacy/medicine/{created['_id']}", as_=owner, json={"images": [c]})
    # Then a stays in Cloudinary (the order still shows it); b, never ordered, is destroyed
    assert response.status_code == 200, response.body
    assert cloudinary_api.destroyed == [b["public_id"]]
    assert assets()[a["public_id"]] == ("medicine-image", "active")
    order = body(call(client, "GET", f"/order/{body(ordered)['order']['_id']}", as_=patient))["order"]
    assert order["items"][0]["medicine"]["images"] == [{"public_id": a["public_id"], "url": a["url"]}]
    # And the bookkeeping is not part of the medicine the API shows
    assert "orderedImages" not in body(response)["medicine"]
