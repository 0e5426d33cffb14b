"""One way to the API for every client command: the generated client (moorage_client),
configured from the context, with its answers turned into plain JSON or a CliError."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from moorage_client import AuthenticatedClient

from app.cli_client import config as config_file
from app.cli_client.errors import CliError
from app.cli_client.render import problem_text

REQUEST_TIMEOUT_S = 30.0


def target(context: str | None) -> config_file.Target:
    path = config_file.config_path()
    try:
        return config_file.resolve(config_file.Config.load(path), context)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    except KeyError as exc:
        raise CliError(f"no context {exc.args[0]!r} in {path} (`moorage context list`)") from exc


@dataclass
class Api:
    """The generated client for one target; ``call`` runs one of its operations."""

    target: config_file.Target
    client: AuthenticatedClient

    @classmethod
    def connect(cls, context: str | None) -> Api:
        """For the context named (else the current one), MOORAGE_URL/MOORAGE_TOKEN over it."""
        t = target(context)
        if not t.token:
            raise CliError(f"no token for {t.url}: set MOORAGE_TOKEN, or run "
                           "`moorage login --url URL --token TOKEN`")
        return cls.to(t)

    @classmethod
    def to(cls, t: config_file.Target) -> Api:
        client = AuthenticatedClient(base_url=t.url, token=t.token or "",
                                     timeout=httpx.Timeout(REQUEST_TIMEOUT_S))
        return cls(t, client)

    def call(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        """``operation`` is a generated module (``moorage_client.api.deployments.get_deployment``):
        its answer as JSON, or a CliError with the problem's title, detail and field errors."""
        with self.reaching():
            response = operation.sync_detailed(*args, client=self.client, **kwargs)
        status = int(response.status_code)
        if status >= 400:
            raise CliError(problem_text(status, _json_or_text(response.content)))
        return _json_or_text(response.content) if response.content else None

    def send_as_written(self, operation: Any, *args: Any, body: dict, model: Any,
                        **kwargs: Any) -> tuple[int, Any]:
        """``operation`` with ``body`` sent exactly as the user wrote it. The generated
        models drop fields they do not know, and the API's answer to a typo (a 422 naming
        it) is what the user needs to see; the model still checks the body's shape.
        Returns (status, JSON answer)."""
        request = operation._get_kwargs(*args, body=model.from_dict(body), **kwargs)
        request["json"] = body
        with self.reaching():
            response = self.client.get_httpx_client().request(**request)
        return response.status_code, _json_or_text(response.content) if response.content else None

    def send_raw(self, operation: Any, *args: Any, content: bytes, content_type: str,
                 **kwargs: Any) -> tuple[int, Any]:
        """``operation`` with a body sent as is, with its own content type (a Compose
        file as YAML). Returns (status, JSON answer)."""
        request = operation._get_kwargs(*args, body=content, **kwargs)
        request.pop("json", None)
        request["content"] = content
        request["headers"] = {**request.get("headers", {}), "Content-Type": content_type}
        with self.reaching():
            response = self.client.get_httpx_client().request(**request)
        return response.status_code, _json_or_text(response.content) if response.content else None

    @contextmanager
    def reaching(self) -> Iterator[None]:
        try:
            yield
        except httpx.TimeoutException as exc:
            raise CliError(f"Moorage at {self.target.url} did not answer in time ({exc})") from exc
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach Moorage at {self.target.url}: {exc}") from exc

    def stream(self, operation: Any, *args: Any, read_timeout: float | None = 60.0,
               **kwargs: Any) -> Any:
        """An open streaming answer of ``operation`` (the generated module builds the
        request: path, query, headers), for SSE and followed logs. Use as a context manager."""
        request = operation._get_kwargs(*args, **kwargs)
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, read=read_timeout)
        return self.client.get_httpx_client().stream(**request, timeout=timeout)

    def check(self, response: httpx.Response) -> None:
        """For a streaming answer: a CliError if it is a problem."""
        if response.status_code >= 400:
            response.read()
            raise CliError(problem_text(response.status_code, _json_or_text(response.content)))


def _json_or_text(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode(errors="replace")


def paged(api: Api, operation: Any, *args: Any, limit: int = 500, **kwargs: Any) -> list[dict]:
    """Every item of a paged list."""
    items: list[dict] = []
    cursor = None
    while True:
        page = api.call(operation, *args, limit=limit, **({"cursor": cursor} if cursor else {}), **kwargs)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items
