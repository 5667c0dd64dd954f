"""The API beside the real Streamlit server: Streamlit answers every path our routes do not
take (a GET with its HTML page), so here is where a wrong method or an unknown /api/ path
would show up as a page instead of JSON."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.e2e.conftest import LiveServer


def _call(url: str, method: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_api_errors_are_json_and_pages_still_html(live_server: LiveServer) -> None:
    for method, path, status in [
        ("GET", "/api/v1/verify", 405),
        ("GET", "/api/v1/verify/bulk", 405),
        ("PUT", "/api/v1/verify", 405),
        ("POST", "/.well-known/jwks.json", 405),
        ("GET", "/api/v1/nothing-here", 404),
        ("POST", "/api/v2/verify", 404),
        ("GET", "/api/", 404),
    ]:
        code, headers, body = _call(live_server.url(path), method)
        assert code == status, (method, path, code, body[:80])
        assert headers["content-type"].startswith("application/json"), (method, path)
        assert set(json.loads(body)) == {"error"}
        assert headers["access-control-allow-origin"] == "*"
        if status == 405:
            assert headers["allow"], (method, path)

    code, headers, body = _call(live_server.url("/.well-known/jwks.json"), "GET")
    assert code == 200 and json.loads(body)["keys"]
    code, headers, _ = _call(live_server.url("/verify"), "GET")
    assert code == 200 and headers["content-type"].startswith("text/html")
