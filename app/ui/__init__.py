"""The web dashboard (`/ui`) and the API docs page (`/docs`), every asset served by
Moorage itself, so both work with no internet.

The dashboard is static files: an HTML shell and plain ES modules (no framework, no
build step, nothing vendored), which call the same `/v1` API as any client with the
token the user signs in with. Why not htmx: its pages are rendered by the server (a
second presentation of every resource beside the API's JSON), and its SSE extension
uses EventSource, which cannot send the Authorization header, so the token would have to
travel in a URL or a cookie. A few hundred lines of modules need no build to keep
current and read the same JSON the CLI and the generated client do."""
