"""Shapes the embedded FerretDB v1.24 answers differently from MongoDB. Each test asserts
MongoDB's documented answer; on FerretDB it is a strict expected failure (so a server that gets
it right shows up as XPASS and fails the run), and on any server it never counts as proven:
the application must not use these shapes (capture.py enforces it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.known_difference

REVOKED = [{"_id": 1, "rt": [{"jti": "a"}, {"jti": "b"}], "tags": ["x", "y"]},
           {"_id": 2, "rt": [], "tags": []},
           {"_id": 3}]


@pytest.fixture
def revoked(coll: Any) -> Any:
    coll.insert_many(REVOKED)
    return coll


def test_ne_on_a_dotted_path_into_an_array_of_documents(revoked: Any, ids: Any,
                                                         differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("matches documents whose array holds the value")
    assert ids({"rt.jti": {"$ne": "a"}}) == [2, 3]


def test_nin_on_a_dotted_path_into_an_array_of_documents(revoked: Any, ids: Any,
                                                          differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("matches documents whose array holds the value")
    assert ids({"rt.jti": {"$nin": ["a"]}}) == [2, 3]


def test_not_elem_match(revoked: Any, ids: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("$not + $elemMatch matches everything")
    assert ids({"rt": {"$not": {"$elemMatch": {"jti": "a"}}}}) == [2, 3]


def test_elem_match_on_sub_documents(revoked: Any, ids: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("$elemMatch on sub-documents matches nothing")
    assert ids({"rt": {"$elemMatch": {"jti": "b"}}}) == [1]


def test_pull_with_a_condition(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("$pull with a condition does nothing")
    coll.insert_one({"_id": 1, "rt": [{"jti": "a", "exp": 1}, {"jti": "b", "exp": 5}]})
    coll.update_one({"_id": 1}, {"$pull": {"rt": {"exp": {"$lt": 3}}}})
    assert coll.find_one({"_id": 1})["rt"] == [{"jti": "b", "exp": 5}]


def test_push_with_slice(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("$push with $slice ignores the slice")
    coll.insert_one({"_id": 1, "log": [1, 2, 3]})
    coll.update_one({"_id": 1}, {"$push": {"log": {"$each": [4], "$slice": -2}}})
    assert coll.find_one({"_id": 1})["log"] == [3, 4]


def test_find_one_and_update_with_a_projection(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("findAndModify ignores or refuses `fields`")
    coll.insert_one({"_id": 1, "a": 1, "secret": "s"})
    doc = coll.find_one_and_update({"_id": 1}, {"$inc": {"a": 1}}, projection={"a": 1})
    assert doc == {"_id": 1, "a": 1}


def test_slice_projection(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("$slice projection is not implemented")
    coll.insert_one({"_id": 1, "log": [1, 2, 3]})
    assert coll.find_one({"_id": 1}, {"log": {"$slice": -1}})["log"] == [3]


def test_facet(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("$facet is not implemented")
    coll.insert_many([{"_id": i, "k": i % 2} for i in range(4)])
    out = list(coll.aggregate([{"$facet": {"n": [{"$count": "n"}]}}]))
    assert out == [{"n": [{"n": 4}]}]


def test_unique_index_on_an_array_field(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("unique indexes are not enforced on array values")
    from pymongo.errors import DuplicateKeyError

    coll.create_index("tags", unique=True)
    coll.insert_one({"_id": 1, "tags": ["x", "y"]})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 2, "tags": ["y", "z"]})


def test_lookup(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("$lookup is not implemented")
    coll.insert_one({"_id": 1, "other": 2})
    coll.database["other"].insert_one({"_id": 2, "name": "n"})
    out = list(coll.aggregate([{"$lookup": {"from": "other", "localField": "other", "foreignField": "_id",
                                            "as": "o"}}]))
    assert out[0]["o"] == [{"_id": 2, "name": "n"}]


def test_unique_index_treats_a_missing_field_as_null(coll: Any, differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("documents without the field do not collide (PostgreSQL NULLs are distinct)")
    from pymongo.errors import DuplicateKeyError

    coll.create_index("code", unique=True)
    coll.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 2})


def test_bulk_write_reports_the_index_of_the_refused_statement(coll: Any,
                                                              differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("a unique violation in one statement of a multi-statement update fails the whole "
                        "command (code 1, SQLSTATE 23505; a wrong statement index on SQLite)")
    from pymongo import UpdateOne
    from pymongo.errors import BulkWriteError

    coll.create_index("k", unique=True)
    coll.insert_many([{"_id": 1, "k": "a"}, {"_id": 2, "k": "b"}, {"_id": 3, "k": "c"}])
    with pytest.raises(BulkWriteError) as caught:
        coll.bulk_write([UpdateOne({"_id": 1}, {"$set": {"x": 1}}), UpdateOne({"_id": 3}, {"$set": {"k": "b"}}),
                         UpdateOne({"_id": 2}, {"$set": {"x": 2}})], ordered=False)
    assert [e["index"] for e in caught.value.details["writeErrors"]] == [1]
    assert caught.value.details["nModified"] == 2


def test_bulk_write_with_a_refused_upsert_reports_the_others(coll: Any,
                                                            differs_on_ferretdb: Callable[[str], None]) -> None:
    differs_on_ferretdb("the reply to a refused upsert lacks nModified: pymongo raises KeyError")
    from pymongo import UpdateOne
    from pymongo.errors import BulkWriteError

    coll.create_index("k", unique=True)
    coll.insert_one({"_id": 1, "k": "a"})
    with pytest.raises(BulkWriteError) as caught:
        coll.bulk_write([UpdateOne({"_id": 2}, {"$set": {"k": "a"}}, upsert=True),
                         UpdateOne({"_id": 1}, {"$set": {"x": 1}})], ordered=False)
    assert caught.value.details["nModified"] == 1
