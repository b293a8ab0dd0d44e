"""HubSpot signatures: the spec's test vectors, and v3 verification's refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from hubspot_app.signature import SignatureError, normalize_uri, sign_v1, sign_v2, sign_v3, verify_v3

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
V1_BODY = (
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    '"changeFlag":"NEW","appId":54321}]'
)


def test_v1_vector() -> None:
    assert sign_v1(SECRET, V1_BODY) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"


def test_v2_vector() -> None:
    assert (
        sign_v2(SECRET, "GET", "https://www.example.com/webhook_uri", "")
        == "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    )


def test_v3_vector_and_independent_computation() -> None:
    uri, body, ts = "https://app.example.com/hubspot/card?portalId=123", '{"a":1}', "1700000000000"
    assert sign_v3(SECRET, "POST", uri, body, ts) == "csjJ4LuhvpUY47wrbmkpbIx9dBx2UnuBUplc0bKjmMc="
    independent = base64.b64encode(
        hmac.new(SECRET.encode(), f"POST{uri}{body}{ts}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign_v3(SECRET, "POST", uri, body, ts) == independent


def test_uri_escapes_are_decoded_before_signing() -> None:
    assert normalize_uri("https://x.fr/a?email=a%40b.fr&t=%3A%2f") == "https://x.fr/a?email=a@b.fr&t=:/"
    assert normalize_uri("https://x.fr/a?q=%20") == "https://x.fr/a?q=%20"  # not in HubSpot's list


NOW = 1_700_000_000_000
URI = "https://connector.example.com/api/hubspot/v1/deals/1/card?appId=1&portalId=123"


def _verify(**overrides):  # type: ignore[no-untyped-def]
    ts = str(NOW - 1000)
    args = {
        "secret": SECRET,
        "method": "GET",
        "uri": URI,
        "body": b"",
        "timestamp": ts,
        "signature": sign_v3(SECRET, "GET", URI, b"", ts),
        "now_ms": NOW,
    }
    args.update(overrides)
    verify_v3(**args)


def test_valid_signature_passes() -> None:
    _verify()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"signature": sign_v3("wrong-secret", "GET", URI, b"", str(NOW - 1000))}, "mismatch"),
        ({"uri": URI.replace("portalId=123", "portalId=999")}, "mismatch"),
        ({"body": b'{"kind":"full"}'}, "mismatch"),
        ({"method": "POST"}, "mismatch"),
        ({"now_ms": NOW + 5 * 60 * 1000}, "older than five minutes"),
        ({"timestamp": None}, "missing"),
        ({"signature": None}, "missing"),
        ({"timestamp": "abc"}, "not an integer"),
        ({"secret": ""}, "no client secret"),
    ],
)
def test_refusals(overrides, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SignatureError, match=reason):
        _verify(**overrides)
