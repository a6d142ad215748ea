"""The one body parser (`functions.core.bodies`): JSON, urlencoded and multipart under each
route's rules (files kept or refused, names expanded or not)."""

from __future__ import annotations

import pytest

from functions.core.bodies import FLAT, MAX_FILE_BODY_BYTES, NESTED_WITH_FILES, read_body
from functions.core.errors import AppError, Code

B = "XyZ"
MULTIPART = {"content-type": f"multipart/form-data; boundary={B}"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}


def multipart(*parts: tuple[str, str, str | None]) -> bytes:
    """(name, value, filename or None) parts."""
    out = ""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "Content-Type: image/png\r\n" if filename else ""
        out += f"--{B}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n{value}\r\n"
    return (out + f"--{B}--\r\n").encode()


def refused(headers: dict[str, str], raw: bytes, rules=FLAT) -> AppError:
    with pytest.raises(AppError) as caught:
        read_body(headers, raw, rules)
    return caught.value


def test_a_json_body_is_an_object_taken_as_sent() -> None:
    # Given JSON bodies
    # Then an object is the data, an empty body is no fields, anything else is a 400
    assert read_body(JSON, b'{"a": {"b.c": [1]}}').data == {"a": {"b.c": [1]}}
    assert read_body({}, b'{"a": 1}').data == {"a": 1}  # no Content-Type: JSON
    assert read_body(JSON, b"").data == {}
    assert refused(JSON, b"[1]").code == Code.MALFORMED_JSON
    assert refused(JSON, b"{nope").code == Code.MALFORMED_JSON
    assert refused(JSON, b"[" * 65 + b"]" * 65).message == "JSON nested deeper than 64 levels"


def test_a_flat_form_keeps_names_as_sent_and_makes_a_repeated_name_a_list() -> None:
    # Given a urlencoded and a multipart form, each with an empty input and a repeated name
    encoded = read_body(FORM, b"name=Asha&role=&tag=a&tag=b&contactInfo.phone=98")
    parts = read_body(MULTIPART, multipart(("name", "Asha", None), ("role", " ", None), ("tag", "a", None),
                                           ("tag", "b", None), ("avatar", '{"url": "x"}', None)))
    # Then the empty input is not given, the repeat is a list, names and values stay as sent
    assert encoded.data == {"name": "Asha", "tag": ["a", "b"], "contactInfo.phone": "98"}
    assert parts.data == {"name": "Asha", "tag": ["a", "b"], "avatar": '{"url": "x"}'}


def test_a_flat_form_refuses_files_unnamed_parts_and_malformed_bodies() -> None:
    # Given forms a flat route (sign-up) must not take
    with_file = multipart(("name", "Asha", None), ("avatar", "PNG", "a.png"))
    unnamed = f'--{B}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{B}--\r\n'.encode()
    # Then each is a 400 MALFORMED_FORM saying what is wrong
    assert (refused(MULTIPART, with_file).code, refused(MULTIPART, with_file).message) == (
        Code.MALFORMED_FORM, "This form takes no files")
    assert refused(MULTIPART, unnamed).code == Code.MALFORMED_FORM
    assert refused({"content-type": "multipart/form-data"}, b"x").message == "Multipart body without a boundary"
    assert refused(MULTIPART, b"--nope\r\ngarbage").code == Code.MALFORMED_FORM
    assert refused(FORM, b"a=1&b").code == Code.MALFORMED_FORM  # strict: a field without `=`
    assert refused(FORM, b"a=\xff").code == Code.MALFORMED_FORM  # not UTF-8
    assert refused(FORM, "&".join(f"f{i}=1" for i in range(201)).encode()).code == Code.MALFORMED_FORM


def test_a_nested_form_expands_names_and_json_strings_and_keeps_files() -> None:
    # Given a pharmacy form: dotted names, an object as a JSON string, a file and an empty file input
    raw = multipart(("name", "Care Pharmacy", None), ("contactInfo.phone", "9812345678", None),
                    ("address", '{"city": "Pune"}', None), ("address.pincode", "411001", None),
                    ("logo", "PNGDATA", "logo.png"), ("image", "", "empty.png"), ("minStock", "", None))
    # When it is read under the pharmacy's rules
    body = read_body(MULTIPART, raw, NESTED_WITH_FILES)
    # Then names became objects, the JSON string merged with the dotted name, the file is kept
    assert body.data == {"name": "Care Pharmacy", "contactInfo": {"phone": "9812345678"},
                         "address": {"city": "Pune", "pincode": "411001"}}
    logo = body.file("logo")
    assert logo is not None and (logo.filename, logo.content_type, logo.data) == ("logo.png", "image/png", b"PNGDATA")
    assert body.file("image") is None  # a file input left empty is not given


def test_a_nested_form_refuses_unusable_names_and_malformed_json_fields() -> None:
    # Given nested forms whose names or values cannot be expanded
    # Then each is a 400 naming the problem
    assert refused(FORM, b"a.b.c.d.e=1", NESTED_WITH_FILES).message == "Unusable field name 'a.b.c.d.e'"
    assert "conflicts" in refused(FORM, b"a=1&a.b=2", NESTED_WITH_FILES).message
    assert refused(FORM, b"address=%7Bnope", NESTED_WITH_FILES).message == "A form field holds malformed JSON"


def test_a_body_that_may_carry_files_is_capped() -> None:
    # Given a body just over the cap of routes that take files
    raw = b"x" * (MAX_FILE_BODY_BYTES + 1)
    # Then it is a 413 there (without reading it), and not refused for size on a flat route
    assert refused(MULTIPART, raw, NESTED_WITH_FILES).status == 413
    assert refused(MULTIPART, raw).status == 400
