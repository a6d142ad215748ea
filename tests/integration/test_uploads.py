"""Signed direct uploads, Cloudinary's signed notifications, and who may use an upload."""
# ruff: noqa: F811  (pytest fixtures imported from tests.media_support)

import json
import time

import cloudinary.utils
from bson import ObjectId

from functions.core import config
from functions.core.db import get_db
from functions.core.errors import Unprocessable
from functions.media import api as media
from tests.appointments_support import body
from tests.factories import json_headers, make_user
from tests.media_support import (  # noqa: F401  (fixture)
    CLOUD,
    KEY,
    PUBLIC_BASE,
    SECRET,
    cloudinary_api,
    notification,
    notify,
    uploaded,
)

SIGN = "/api/v1/uploads/sign"


def sign(client, who, purpose):
    return client.http.post(SIGN, headers=json_headers(who), body=json.dumps({"purpose": purpose}).encode())


def test_an_avatar_upload_is_signed_for_the_owners_folder_with_a_face_crop(client, cloudinary_api):
    # Given a patient
    who = make_user("patient")
    # When they ask to upload an avatar
    response = sign(client, who, "avatar")
    # Then the parameters name their avatar folder, image formats and the face crop, signed as the SDK signs
    assert response.status_code == 200, response.body
    out = body(response)
    params = out["params"]
    assert params["folder"] == f"cureconnect/avatar/{who['_id']}"
    assert params["allowed_formats"] == "jpg,jpeg,png,webp"
    assert params["transformation"] == "c_fill,g_face,w_400,h_400"
    assert params["notification_url"] == f"{PUBLIC_BASE}/api/v1/uploads/notify"
    assert out["signature"] == cloudinary.utils.api_sign_request(params, SECRET)
    assert out["apiKey"] == KEY and out["uploadUrl"] == f"https://api.cloudinary.com/v1_1/{CLOUD}/image/upload"
    assert SECRET not in response.body.decode()


def test_documents_are_not_cropped_and_each_signature_is_for_a_fresh_public_id(client, cloudinary_api):
    # Given a patient
    who = make_user("patient")
    # When they ask twice to upload a prescription scan
    first, second = body(sign(client, who, "prescription-scan")), body(sign(client, who, "prescription-scan"))
    # Then no transformation is applied, PDFs are allowed, and the two uploads cannot overwrite each other
    assert "transformation" not in first["params"]
    assert "pdf" in first["allowedFormats"] and first["maxBytes"] == 10 * 1024 * 1024
    assert first["params"]["folder"] == f"cureconnect/prescription-scan/{who['_id']}"
    assert first["params"]["public_id"] != second["params"]["public_id"]


def test_purposes_belong_to_roles_and_bad_requests_are_refused(client, cloudinary_api):
    # Given a doctor, a pharmacist awaiting approval, and no one
    doctor, pharmacist = make_user("doctor"), make_user("pharmacist", approved=False)
    # When each asks for purposes
    answers = {
        "doctor medicine": sign(client, doctor, "medicine-image").status_code,
        "pending pharmacist licence": sign(client, pharmacist, "pharmacy-license").status_code,
        "unknown purpose": sign(client, doctor, "selfie").status_code,
        "anonymous": client.http.post(SIGN, headers={"Content-Type": "application/json"},
                                      body=b'{"purpose":"avatar"}').status_code,
    }
    # Then a doctor may not upload medicine photos, a pending pharmacist may upload the licence
    assert answers == {"doctor medicine": 403, "pending pharmacist licence": 200, "unknown purpose": 400,
                       "anonymous": 401}


def test_without_cloudinary_configured_signing_is_503(client, monkeypatch):
    # Given no CLOUDINARY_URL
    monkeypatch.delenv("CLOUDINARY_URL", raising=False)
    config.reset_settings()
    # When a user asks to upload
    response = sign(client, make_user("patient"), "avatar")
    # Then the dependency is reported unavailable
    assert response.status_code == 503 and body(response)["code"] == "UPLOADS_NOT_CONFIGURED"


def test_a_signed_notification_records_the_asset_once(client, cloudinary_api):
    # Given a patient's upload reported by Cloudinary
    who = make_user("patient")
    asset = uploaded(client, who, "avatar")
    # When Cloudinary retries the same notification
    again = notify(client, notification(asset["public_id"]))
    # Then the asset is recorded once, for its owner and purpose, with Cloudinary's url
    assert body(again)["recorded"] is False
    [doc] = list(get_db()["media_assets"].find({}))
    assert (doc["ownerId"], doc["purpose"], doc["status"]) == (who["_id"], "avatar", "active")
    assert asset["url"].startswith(f"https://res.cloudinary.com/{CLOUD}/")


def test_forged_stale_or_unsigned_notifications_are_403(client, cloudinary_api):
    # Given a notification for some user's folder
    raw = json.dumps(notification(f"cureconnect/avatar/{ObjectId()}/x1"))
    # When it is signed with another secret, is three hours old, or unsigned
    from tests.media_support import signed_headers

    answers = [
        client.http.post("/api/v1/uploads/notify", headers=signed_headers(raw, secret="other"), body=raw.encode()),
        client.http.post("/api/v1/uploads/notify", headers=signed_headers(raw, timestamp=int(time.time()) - 3 * 3600),
                         body=raw.encode()),
        client.http.post("/api/v1/uploads/notify", headers={"Content-Type": "application/json"}, body=raw.encode()),
    ]
    # Then each is refused and nothing is recorded
    assert [r.status_code for r in answers] == [403, 403, 403]
    assert get_db()["media_assets"].count_documents({}) == 0


def test_an_upload_that_breaks_its_profile_is_rejected_and_destroyed(client, cloudinary_api):
    # Given a patient
    who = make_user("patient")
    # When Cloudinary reports a 3 MB avatar and a GIF avatar
    big = uploaded(client, who, "avatar", name="big", size=3 * 1024 * 1024)
    gif = uploaded(client, who, "avatar", name="gif", fmt="gif")
    # Then both are recorded as rejected, deleted in Cloudinary, and cannot be used
    assert sorted(cloudinary_api.destroyed) == sorted([big["public_id"], gif["public_id"]])
    assert {d["rejectedFor"] for d in get_db()["media_assets"].find({})} == {"size", "format"}
    try:
        media.require_assets(who["_id"], "avatar", [big])
        raise AssertionError("a rejected upload was accepted")
    except Unprocessable as exc:
        assert exc.code == "ASSET_INVALID"


def test_only_the_owners_assets_of_that_purpose_are_accepted(client, cloudinary_api):
    # Given a pharmacist's medicine photo, and another pharmacist
    owner, other = make_user("pharmacist"), make_user("pharmacist")
    photo = uploaded(client, owner, "medicine-image")
    forged = {"public_id": photo["public_id"], "url": "https://evil.example/x.png"}
    # When the owner uses it, another pharmacist uses it, or it is used for another purpose
    accepted = media.require_assets(owner["_id"], "medicine-image", [forged])
    refusals = []
    for owner_id, purpose in ((other["_id"], "medicine-image"), (owner["_id"], "pharmacy-license")):
        try:
            media.require_assets(owner_id, purpose, [photo])
        except Unprocessable as exc:
            refusals.append((exc.code, exc.errors[0]["field"]))
    # Then only the owner's use for that purpose passes, with Cloudinary's url instead of the client's
    assert accepted == [{"public_id": photo["public_id"], "url": photo["url"]}]
    assert refusals == [("ASSET_INVALID", "images.0.public_id")] * 2


def test_replaced_assets_are_destroyed_once_and_only_the_owners(client, cloudinary_api):
    # Given a patient's old and new avatars, and someone else's
    who, other = make_user("patient"), make_user("patient")
    old, new = uploaded(client, who, "avatar", name="old"), uploaded(client, who, "avatar", name="new")
    foreign = uploaded(client, other, "avatar", name="theirs")
    # When the avatar is replaced (twice, as a retry would) and someone names a foreign asset as "old"
    first = media.destroy_replaced(who["_id"], [old, foreign], [new])
    second = media.destroy_replaced(who["_id"], [old], [new])
    # Then the old one is gone from Cloudinary once; the new and the foreign one stay
    assert (first, second) == (1, 0)
    assert cloudinary_api.destroyed == [old["public_id"]]
    statuses = {d["_id"]: d["status"] for d in get_db()["media_assets"].find({})}
    assert statuses == {old["public_id"]: "destroyed", new["public_id"]: "active", foreign["public_id"]: "active"}


def test_a_failed_destroy_is_logged_and_does_not_fail_the_caller(client, cloudinary_api):
    # Given an asset and Cloudinary failing
    who = make_user("patient")
    old = uploaded(client, who, "avatar", name="old")
    cloudinary_api.fail = True
    # When it is replaced
    # Then the caller carries on and the asset can no longer be used
    assert media.destroy_replaced(who["_id"], [old]) == 1
    assert get_db()["media_assets"].find_one({"_id": old["public_id"]})["status"] == "destroyed"


def test_a_delete_notification_retires_the_asset(client, cloudinary_api):
    # Given an asset
    who = make_user("patient")
    asset = uploaded(client, who, "avatar")
    # When Cloudinary reports it deleted (say, from the console)
    response = notify(client, {"notification_type": "delete", "resources": [{"public_id": asset["public_id"]}]})
    # Then it can no longer be used
    assert response.status_code == 200
    assert get_db()["media_assets"].find_one({"_id": asset["public_id"]})["status"] == "destroyed"


def test_uploads_outside_our_folders_are_ignored(client, cloudinary_api):
    # Given an upload someone made elsewhere in the account
    # When Cloudinary reports it
    response = notify(client, notification("misc/banner"))
    # Then it is acknowledged and not recorded
    assert response.status_code == 200 and body(response)["recorded"] is False
