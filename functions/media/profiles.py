"""One upload profile per purpose (D-22: the reference used a single profile for everything,
a 300x300 face-crop into one folder, which destroyed prescription scans and medicine photos).

Pure data and pure functions: who may upload for a purpose, where it goes, which formats, how
big, and the incoming transformation (a face crop for avatars only; documents untouched).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bson import ObjectId

from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST

ROOT_FOLDER = "cureconnect"
MB = 1024 * 1024
IMAGES = ("jpg", "jpeg", "png", "webp")


@dataclass(frozen=True)
class Profile:
    purpose: str
    roles: tuple[str, ...]
    formats: tuple[str, ...]
    max_bytes: int
    resource_type: str  # Cloudinary's: "image" (PDFs too) or "video"/"auto"
    transformation: str | None = None


PROFILES: dict[str, Profile] = {p.purpose: p for p in (
    Profile("avatar", (PATIENT, DOCTOR, PHARMACIST, ADMIN), IMAGES, 2 * MB, "image",
            "c_fill,g_face,w_400,h_400"),
    # A pharmacy's picture is its own purpose, so it can never also be its owner's avatar (each
    # would destroy the other when replaced). Uploaded by the server only (the frontend's form
    # part): not a purpose a browser can ask to sign.
    Profile("pharmacy-picture", (PHARMACIST,), IMAGES, 2 * MB, "image"),
    Profile("medicine-image", (PHARMACIST,), IMAGES, 5 * MB, "image"),
    Profile("prescription-scan", (PATIENT,), (*IMAGES, "pdf"), 10 * MB, "image"),
    Profile("pharmacy-license", (PHARMACIST,), (*IMAGES, "pdf"), 10 * MB, "image"),
    Profile("analysis-media", (PATIENT, DOCTOR), (*IMAGES, "mp4", "mov", "webm"), 100 * MB, "auto"),
)}
PURPOSES = tuple(PROFILES)

_PATH = re.compile(rf"^{ROOT_FOLDER}/(?P<purpose>[a-z-]+)/(?P<owner>[0-9a-f]{{24}})/[A-Za-z0-9_-]+$")


def folder(purpose: str, owner_id: ObjectId) -> str:
    return f"{ROOT_FOLDER}/{purpose}/{owner_id}"


def parse_path(public_id: str) -> tuple[str, ObjectId] | None:
    """(purpose, owner) of a public id under our folders, or None for anything else."""
    match = _PATH.match(public_id)
    if match is None or match["purpose"] not in PROFILES:
        return None
    return match["purpose"], ObjectId(match["owner"])


def acceptable(profile: Profile, fmt: str | None, size: int | None) -> str | None:
    """Why an uploaded asset breaks its profile, or None if it fits."""
    if (fmt or "").lower() not in profile.formats:
        return "format"
    if not isinstance(size, int) or size > profile.max_bytes:
        return "size"
    return None
