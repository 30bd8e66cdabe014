"""The one endpoint: POST /rows inserts the JSON body as one row and answers 201 with its id."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bare_site.models import Row


@csrf_exempt
@require_POST
def row_create(request: HttpRequest) -> HttpResponse:
    try:
        payload = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "not JSON"}, status=400)
    row = Row.objects.create(payload=payload)
    return JsonResponse({"id": row.pk}, status=201)
