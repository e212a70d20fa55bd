"""Which webhook URLs Saku will send to, as far as a URL tells without resolving it."""

from __future__ import annotations

import pytest

from activities.wallet.webhook_targets import WebhookPolicy, WebhookTargetRefused


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://guardian-app.example/hook", "must be https"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://127.0.0.1:8080/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://100.64.0.1/hook", "non-public"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://[fd00:ec2::254]/hook", "private"),
        ("https://localhost/hook", "local name"),
        ("https://metadata.google.internal/computeMetadata/v1/", "local name"),
        ("https://kiosk.school.local/hook", "local name"),
        ("https://user:secret@guardian-app.example/hook", "user name or password"),
        ("https://guardian-app.example:99999/hook", "port is invalid"),
        ("https:///hook", "no host"),
        ("https://guardian-app.example/" + "a" * 3000, "at most 2048"),
    ],
)
def test_internal_and_malformed_targets_are_refused(url: str, reason: str) -> None:
    with pytest.raises(WebhookTargetRefused, match=reason):
        WebhookPolicy().check(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://guardian-app.example/hooks/saku",
        "https://8.8.8.8/hook",
        "https://[2001:4860:4860::8888]/h",
    ],
)
def test_public_https_targets_pass(url: str) -> None:
    assert WebhookPolicy().check(url).scheme == "https"


def test_the_development_allow_list_admits_named_hosts_only() -> None:
    policy = WebhookPolicy(["127.0.0.1:8099", "devbox"])
    assert policy.check("http://127.0.0.1:8099/hook").port == 8099
    assert policy.check("http://devbox/hook").hostname == "devbox"
    with pytest.raises(WebhookTargetRefused, match="loopback"):
        policy.check("https://127.0.0.1:8100/hook")  # another port of the same host
    with pytest.raises(WebhookTargetRefused, match="http or https"):
        policy.check("ftp://devbox/hook")
