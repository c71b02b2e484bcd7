"""The network guard decides on resolved addresses and guards every request, redirects included."""

from __future__ import annotations

import httpx
import pytest

from storyreel.core.errors import ConfigError
from storyreel.providers.http import JsonHttp
from storyreel.providers.netguard import check_url, httpx_hooks, is_loopback_address, resolves_to_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost", "[::1]", "::ffff:127.0.0.1"])
def test_loopback_hosts_pass(host):
    assert resolves_to_loopback(host)


@pytest.mark.parametrize("host", ["127.attacker.example", "localhost.attacker.example", "10.0.0.1", "8.8.8.8", "0.0.0.0",
                                  "example.com", "", "127.0.0.1.nip.io"])
def test_names_that_only_look_local_are_refused(host):
    assert not resolves_to_loopback(host)
    with pytest.raises(ConfigError, match="network calls are disabled"):
        check_url(f"http://{host}/v1", allow_network=False, who="test")


def test_addresses_not_text_decide():
    assert is_loopback_address("127.0.0.2") and not is_loopback_address("127.0.0.1x") and not is_loopback_address("localhost")


def test_a_redirect_to_a_public_host_is_refused_by_the_client_hook(httpserver):
    httpserver.expect_request("/start").respond_with_data("", status=302, headers={"Location": "http://203.0.113.7/steal"})
    client = httpx.Client(event_hooks=httpx_hooks(False, "test")["sync"], follow_redirects=True)
    with pytest.raises(ConfigError, match="203.0.113.7"):
        client.get(httpserver.url_for("/start"))


def test_an_absolute_url_on_another_host_never_gets_the_key(httpserver):
    http = JsonHttp("test", httpserver.url_for("/v1"), {"Authorization": "Bearer k"}, allow_network=False)
    with pytest.raises(Exception, match="refusing to send the API key"):
        http.request("GET", "http://127.0.0.2:1/v1/x")
