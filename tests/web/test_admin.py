"""The Django admin is read-only for every domain model; users are managed normally."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.conftest import admit, make_person, make_user

READ_ONLY = [
    "ledger.ledgerentry",
    "ledger.ledgernode",
    "ledger.ledgerhead",
    "ledger.ledgercheckpoint",
    "ledger.ledgerverification",
    "ledger.subjectkey",
    "accounts.apitoken",
    "people.person",
    "people.personidentifier",
    "agreements.jurisdiction",
    "agreements.agreement",
    "facilities.facility",
    "facilities.module",
    "facilities.cell",
    "facilities.cellcertification",
    "housing.keepapart",
    "housing.keepapartoverride",
    "housing.rollcount",
    "housing.rollcountline",
    "custody.legalbasis",
    "custody.custodyepisode",
    "housing.placement",
    "custody.temporaryabsence",
    "agreements.feechange",
    "billing.invoice",
]


@pytest.fixture
def superuser_client(world: dict[str, Any], actor: Any) -> Client:

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], cell="M1-01")
    user = make_user(username="root", password="root-pass-long", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_every_domain_model_is_registered_read_only(db: Any) -> None:
    from django.apps import apps

    for label in READ_ONLY:
        model = apps.get_model(label)
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(None)  # type: ignore[arg-type]
        assert not model_admin.has_change_permission(None)  # type: ignore[arg-type]
        assert not model_admin.has_delete_permission(None)  # type: ignore[arg-type]


def test_every_model_of_the_core_apps_is_registered(db: Any) -> None:
    from django.apps import apps

    apps_with_admin = {
        "ledger",
        "accounts",
        "people",
        "agreements",
        "facilities",
        "custody",
        "housing",
        "billing",
    }
    missing = [
        m._meta.label_lower
        for m in apps.get_models()
        if m._meta.app_label in apps_with_admin
        and not m._meta.auto_created
        and m not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.parametrize("label", READ_ONLY)
@pytest.mark.django_db
def test_admin_lists_and_shows_without_forms(superuser_client: Client, label: str) -> None:
    from django.apps import apps

    app, model_name = label.split(".")
    changelist = reverse(f"admin:{app}_{model_name}_changelist")
    response = superuser_client.get(changelist)
    assert response.status_code == 200
    assert superuser_client.get(reverse(f"admin:{app}_{model_name}_add")).status_code == 403
    obj = apps.get_model(label).objects.first()
    if obj is not None:
        detail = superuser_client.get(reverse(f"admin:{app}_{model_name}_change", args=[obj.pk]))
        assert detail.status_code == 200
        assert b'type="submit" value="Save"' not in detail.content
        post = superuser_client.post(
            reverse(f"admin:{app}_{model_name}_delete", args=[obj.pk]), {"post": "yes"}
        )
        assert post.status_code == 403


@pytest.mark.django_db
def test_ledger_entry_admin_shows_the_entry_columns(superuser_client: Client) -> None:
    from habeas.ledger.models import LedgerEntry

    body = superuser_client.get(reverse("admin:ledger_ledgerentry_changelist")).content.decode()
    entry = LedgerEntry.objects.filter(action="custody.admitted").get()
    columns = ["Index", "Action", "Subject", "Occurred at", "Recorded at", "Actor", "Leaf hash"]
    for column in columns:
        assert column in body
    assert entry.leaf_hash in body
    assert entry.subject in body


@pytest.mark.django_db
def test_user_admin_edits_role_and_scope(superuser_client: Client, users: dict[str, Any]) -> None:
    user = users["staff"]
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = superuser_client.get(url).content.decode()
    assert 'name="role"' in page
    assert 'name="facility_codes"' in page
    assert 'name="jurisdiction_code"' in page
