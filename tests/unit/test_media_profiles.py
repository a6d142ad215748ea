"""Pure rules of upload profiles (D-22: one face-cropping profile for everything, in the reference)."""

from bson import ObjectId

from functions.media.profiles import MB, PROFILES, acceptable, folder, parse_path


def test_only_avatars_are_transformed():
    # Given every profile / Then only the avatar has an incoming transformation, a face crop
    assert {p.purpose for p in PROFILES.values() if p.transformation} == {"avatar"}
    assert "g_face" in PROFILES["avatar"].transformation


def test_folders_name_purpose_and_owner_and_parse_back():
    # Given an owner
    owner = ObjectId()
    # When a public id is made in their folder / Then it parses back to purpose and owner
    assert parse_path(f"{folder('pharmacy-license', owner)}/abc_DEF-1") == ("pharmacy-license", owner)
    # And anything else is not ours
    for other in ("misc/x", f"cureconnect/unknown/{owner}/x", f"cureconnect/avatar/{owner}/../x",
                  f"cureconnect/avatar/{owner}"):
        assert parse_path(other) is None


def test_format_and_size_limits():
    # Given the avatar and the scan profiles
    avatar, scan = PROFILES["avatar"], PROFILES["prescription-scan"]
    # Then GIFs (D-22 allowed them) and PDFs avatars, oversize and unknown sizes are refused
    assert acceptable(avatar, "gif", 10) == "format" and acceptable(avatar, "pdf", 10) == "format"
    assert acceptable(avatar, "PNG", 2 * MB) is None and acceptable(avatar, "png", 2 * MB + 1) == "size"
    assert acceptable(scan, "pdf", 9 * MB) is None and acceptable(scan, "pdf", None) == "size"
