"""Serving the dashboard and the API docs from Moorage itself (no CDN: they work offline).

The dashboard is static: one HTML shell and plain ES modules, no build step and no
server-side rendering, so there is nothing here but files. Swagger UI's assets come
from the `fastapi-offline` package, which ships a current build of it. There is no
`/redoc`: ReDoc's page loads its logo from its makers' CDN whatever it is told."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))
# The dashboard's own page may load and call nothing but this origin. (Not /docs: Swagger
# UI's page starts itself with an inline script.)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


class RevalidatedFiles(StaticFiles):
    """Static files a browser asks about again each time (a 304 while unchanged), so an
    upgraded Moorage never runs with the modules of the version before."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: FastAPI) -> None:
    """Add `/ui` and `/ui/static/…`, and `/docs` with local assets. The app must be made
    with ``docs_url=None, redoc_url=None`` (FastAPI's own pages use a CDN)."""
    app.mount("/ui/static", RevalidatedFiles(directory=HERE / "static"), name="ui-static")
    app.mount("/docs/assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/ui", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(HERE / "index.html", media_type="text/html",
                            headers=SECURITY_HEADERS)

    @app.get("/ui/", include_in_schema=False)
    def dashboard_slash() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=308)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png",
            # No badge that asks validator.swagger.io about the schema.
            swagger_ui_parameters={"validatorUrl": None},
        )
