"""The web dashboard (`/ui`) and the API docs page (`/docs`), every asset
served by Moorage itself. The dashboard is static files: plain ES modules that call the
same `/v1` API as any client, with the token the user signs in with."""
