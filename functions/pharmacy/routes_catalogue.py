"""Routes: the public medicine catalogue (no sign-in)."""

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.validation import parse_query
from functions.pharmacy import catalogue, examples
from functions.pharmacy.blueprint import bp, request
from functions.pharmacy.out_schemas import (
    CatalogueAnswer,
    CatalogueListAnswer,
    CatalogueMedicineAnswer,
    CategoriesAnswer,
    SearchAnswer,
)
from functions.pharmacy.schemas import CatalogueQuery, FeaturedQuery, SearchQuery


@bp.route("/medicines", methods=["GET"])
@describe(response=CatalogueAnswer, errors=(Code.VALIDATION_FAILED,), examples=examples.CATALOGUE)
def listing() -> Response:
    """The public catalogue: listed, unexpired medicines, filtered, sorted and paged, each with its pharmacy."""
    query = parse_query(request(), CatalogueQuery)
    items, total = catalogue.listing(query)
    return respond(count=len(items), medicines=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/medicines/search", methods=["GET"])
@describe(response=SearchAnswer, errors=(Code.VALIDATION_FAILED,))
def search() -> Response:
    """Type-ahead search of the catalogue by the start of words (at least 2 characters)."""
    items = catalogue.search(parse_query(request(), SearchQuery))
    return respond(count=len(items), medicines=items)


@bp.route("/medicines/categories", methods=["GET"])
@describe(response=CategoriesAnswer, errors=(Code.DB_UNAVAILABLE,))
def categories() -> Response:
    """The categories that have listed medicines, as names, with the number in each."""
    names, counts = catalogue.categories()
    return respond(categories=names, counts=counts)


@bp.route("/medicines/featured", methods=["GET"])
@describe(response=CatalogueListAnswer, errors=(Code.VALIDATION_FAILED,))
def featured() -> Response:
    """Featured medicines: in stock, best rated then best selling."""
    items = catalogue.featured(parse_query(request(), FeaturedQuery))
    return respond(count=len(items), medicines=items)


@bp.route("/medicine/{medicine_id}", methods=["GET"])
@describe(response=CatalogueMedicineAnswer, errors=(Code.NOT_FOUND,))
def one(medicine_id: str) -> Response:
    """A listed medicine of the catalogue, with its pharmacy."""
    return respond(medicine=catalogue.one(medicine_id))


@bp.route("/pharmacy/{pharmacy_id}/medicines", methods=["GET"])
@describe(response=CatalogueAnswer, errors=(Code.NOT_FOUND, Code.VALIDATION_FAILED))
def of_pharmacy(pharmacy_id: str) -> Response:
    """A listed pharmacy's medicines in the catalogue, filtered, sorted and paged."""
    query = parse_query(request(), CatalogueQuery)
    items, total = catalogue.of_pharmacy(pharmacy_id, query)
    return respond(count=len(items), medicines=items, pagination=pagination(total, query.page, query.limit))
