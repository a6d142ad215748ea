"""Routes: the public medicine catalogue (no sign-in)."""

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.paging import pagination
from functions.core.validation import parse_query
from functions.pharmacy import catalogue
from functions.pharmacy.blueprint import bp, request
from functions.pharmacy.schemas import CatalogueQuery, FeaturedQuery, SearchQuery


@bp.route("/medicines", methods=["GET"])
def listing() -> Response:
    """The public medicine catalogue: search, filter by category, price and city, sort and page."""
    query = parse_query(request(), CatalogueQuery)
    items, total = catalogue.listing(query)
    return respond(count=len(items), medicines=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/medicines/search", methods=["GET"])
def search() -> Response:
    """Search the public catalogue by name, brand or ingredient."""
    items = catalogue.search(parse_query(request(), SearchQuery))
    return respond(count=len(items), medicines=items)


@bp.route("/medicines/categories", methods=["GET"])
def categories() -> Response:
    """The medicine categories in use, as strings (the store's filter)."""
    names, counts = catalogue.categories()
    return respond(categories=names, counts=counts)


@bp.route("/medicines/featured", methods=["GET"])
def featured() -> Response:
    """A few medicines to show on the store's front page."""
    items = catalogue.featured(parse_query(request(), FeaturedQuery))
    return respond(count=len(items), medicines=items)


@bp.route("/medicine/{medicine_id}", methods=["GET"])
def one(medicine_id: str) -> Response:
    """One medicine of the public catalogue with its pharmacy."""
    return respond(medicine=catalogue.one(medicine_id))


@bp.route("/pharmacy/{pharmacy_id}/medicines", methods=["GET"])
def of_pharmacy(pharmacy_id: str) -> Response:
    """The medicines one verified pharmacy offers (public)."""
    query = parse_query(request(), CatalogueQuery)
    items, total = catalogue.of_pharmacy(pharmacy_id, query)
    return respond(count=len(items), medicines=items, pagination=pagination(total, query.page, query.limit))
