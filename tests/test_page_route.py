"""The pages' route class (api/page_route.py): what a page raises becomes the page a person reads,
with the status of the one table (api/errors.py); the API's routes keep their problem details.

A small app with one page router and one API router, each route raising one thing: the route class
is the code under test, running in a real FastAPI app with the real templates and error handlers.
"""

from collections.abc import Callable

import pytest
from eventsourcing.persistence import OperationalError
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from api import problems
from api.page_route import PageRefused, PageRoute, SignInFirst
from domain.as_of import AsOfError
from domain.errors import ExportError, Unavailable

RAISED: dict[str, BaseException] = {
    "invalid": AsOfError("it is no date"),
    "unavailable": Unavailable("the witnesses are slow"),
    "export": ExportError("the directory is not writable"),
    "database": OperationalError("connection refused"),
    "sign-in": SignInFirst("expired"),
    "sign-in-plain": SignInFirst(),
    "refused": PageRefused("For auditors only", "This page is for auditor tokens.", 403),
    "bug": RuntimeError("a bug"),
}


def _raising(error: BaseException) -> Callable[[], None]:
    def route() -> None:
        raise error

    return route


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)
    pages = APIRouter(route_class=PageRoute)
    api = APIRouter(prefix="/v1")
    for name, error in RAISED.items():
        pages.add_api_route(f"/page/{name}", _raising(error))
        api.add_api_route(f"/{name}", _raising(error))
    app.include_router(pages)
    app.include_router(api)
    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False, follow_redirects=False)


def test_invalid_input_raised_by_a_page_is_a_422_page_naming_the_field(client: TestClient) -> None:
    response = client.get("/page/invalid")
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "as_of: it is no date" in response.text


def test_a_ledger_that_cannot_answer_just_now_is_a_503_page_saying_to_reload(client: TestClient) -> None:
    response = client.get("/page/unavailable")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "the witnesses are slow. Reload in a moment." in response.text


def test_any_other_error_of_the_tree_is_a_page_with_the_tables_status(client: TestClient) -> None:
    response = client.get("/page/export")
    assert response.status_code == 500 and "the directory is not writable" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_a_database_out_of_reach_is_a_503_page(client: TestClient) -> None:
    response = client.get("/page/database")
    assert response.status_code == 503 and "The ledger is unavailable" in response.text


def test_a_page_that_needs_a_session_redirects_to_the_sign_in_page_saying_why(client: TestClient) -> None:
    assert client.get("/page/sign-in").headers["location"] == "/sign-in?notice=expired"
    plain = client.get("/page/sign-in-plain")
    assert plain.status_code == 303 and plain.headers["location"] == "/sign-in"


def test_a_pages_own_refusal_keeps_its_words_and_status(client: TestClient) -> None:
    response = client.get("/page/refused")
    assert response.status_code == 403
    assert "For auditors only" in response.text and "This page is for auditor tokens." in response.text


def test_an_error_outside_the_tree_is_not_dressed_as_a_page(client: TestClient) -> None:
    response = client.get("/page/bug")
    assert response.status_code == 500 and not response.headers["content-type"].startswith("text/html")


def test_the_api_routes_keep_their_problem_details(client: TestClient) -> None:
    response = client.get("/v1/invalid")
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "as_of"
