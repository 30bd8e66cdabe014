"""Demo identity-document requests, loaded after the demo returns (mirador.returns.demo) and
stored through the real services as the demo's reception officer: two persons who came back
through San Pedro Sula in the last days lost their documents abroad; one needs a birth
certificate (noted), the other a national identity card, already requested from the Registro
Nacional de las Personas. The document list is then not empty. Loaded once: nothing is added
when a request exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from mirador.accounts.models import User
from mirador.documents.models import DocumentRequest, RequestStatus
from mirador.documents.services import document_need_record, document_request_advance
from mirador.people.models import DocumentKind
from mirador.returns.demo import recent_adult_arrivals

RECEPTION_OFFICER = "officer.hn"
ISSUING_AUTHORITY = "Registro Nacional de las Personas (RNP)"
# The need is noted a quarter of an hour after registering; the request made the next hour.
NOTED_AFTER = datetime.timedelta(minutes=15)
REQUESTED_AFTER = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class DocumentsDemoResult:
    requests: int


def documents_demo_is_loaded() -> bool:
    return DocumentRequest.objects.exists()


def documents_demo_load(*, today: datetime.date | None = None) -> DocumentsDemoResult:
    officer = User.objects.filter(username=RECEPTION_OFFICER).first()
    if officer is None or documents_demo_is_loaded():
        return DocumentsDemoResult(0)
    today = today or timezone.localdate()
    # The newest of the last days' arrivals (the oldest are the screening demo's).
    arrivals = list(recent_adult_arrivals(today=today).reverse()[:2])
    kinds = (DocumentKind.BIRTH_CERTIFICATE, DocumentKind.NATIONAL_ID)
    for arrival, kind in zip(arrivals, kinds, strict=False):
        noted_at = arrival.registered_at + NOTED_AFTER
        request, _created = document_need_record(
            actor=officer,
            person=arrival.person,
            kind=kind,
            arrival=arrival,
            note="Perdió sus documentos en el camino.",
        )
        if kind == DocumentKind.NATIONAL_ID:
            request = document_request_advance(
                actor=officer,
                document_request=request,
                to_status=RequestStatus.REQUESTED,
                issuing_authority=ISSUING_AUTHORITY,
            )
        # Stamped when it was done, not when the demo ran (the services stamp that moment).
        DocumentRequest.objects.filter(pk=request.pk).update(
            needed_at=noted_at,
            created_at=noted_at,
            requested_at=(noted_at + REQUESTED_AFTER) if request.requested_at else None,
        )
    return DocumentsDemoResult(requests=DocumentRequest.objects.count())
