"""Secrets are encrypted at rest, and rotating the key keeps old rows readable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from connector.models import QontoConnection
from hubspot_app.models import HubSpotInstallation
from tests.factories import HubSpotInstallationFactory, QontoConnectionFactory


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_qonto_secret_key_is_not_stored_in_plaintext() -> None:
    conn = QontoConnectionFactory(secret_key="qsk_live_super_secret_value_1234")
    raw = _raw("connector_qontoconnection", "secret_key", conn.pk)
    assert "qsk_live_super_secret_value_1234" not in raw
    assert len(raw) > 40
    assert QontoConnection.objects.get(pk=conn.pk).secret_key == "qsk_live_super_secret_value_1234"


@pytest.mark.django_db
def test_hubspot_tokens_are_not_stored_in_plaintext() -> None:
    inst = HubSpotInstallationFactory(
        access_token="CNa_access_token_value", refresh_token="na1-refresh-value-xyz"
    )
    assert "CNa_access_token_value" not in _raw("hubspot_app_hubspotinstallation", "access_token", inst.pk)
    assert "na1-refresh-value-xyz" not in _raw("hubspot_app_hubspotinstallation", "refresh_token", inst.pk)
    fresh = HubSpotInstallation.objects.get(pk=inst.pk)
    assert fresh.access_token == "CNa_access_token_value"
    assert fresh.refresh_token == "na1-refresh-value-xyz"


@pytest.mark.django_db
def test_key_rotation_keeps_old_rows_readable(settings) -> None:  # type: ignore[no-untyped-def]
    import encrypted_model_fields.fields as emf

    old_key = settings.FIELD_ENCRYPTION_KEY
    conn = QontoConnectionFactory(secret_key="written-with-the-old-key")
    new_key = Fernet.generate_key().decode()
    # The library builds its MultiFernet once at import; rebuild it as a restart would.
    settings.FIELD_ENCRYPTION_KEY = [new_key, *old_key]
    emf.CRYPTER = emf.get_crypter()
    try:
        assert QontoConnection.objects.get(pk=conn.pk).secret_key == "written-with-the-old-key"
        rotated = QontoConnectionFactory(secret_key="written-with-the-new-key")
        raw = _raw("connector_qontoconnection", "secret_key", rotated.pk)
        assert Fernet(new_key.encode()).decrypt(raw.encode()).decode() == "written-with-the-new-key"
    finally:
        settings.FIELD_ENCRYPTION_KEY = old_key
        emf.CRYPTER = emf.get_crypter()


def test_secret_hint_shows_last_four_only() -> None:
    conn = QontoConnection(secret_key="qsk_abcdefgh1234")
    assert conn.secret_key_hint == "…1234"
    assert "abcdefgh" not in str(conn.secret_key_hint)
