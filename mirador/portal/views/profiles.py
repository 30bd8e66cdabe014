"""Country profiles (W-O1), public: the RCM member states with their roles as countries of
origin, transit and destination measured from the data (/observatory/countries/), and one
profile per member (/observatory/countries/HN/): roles with their figures and sources, main
corridors, returns as events and persons, and the lines of the RCM documents for each role.

Everything comes from mirador.analytics.profiles. An unknown code is a 404; a country that
is not a member gets a page saying so, with the list of members, also with status 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from mirador.analytics import profiles
from mirador.analytics.disclosure import disclosure_threshold
from mirador.core.errors import NotFoundError


def _rules() -> list[tuple[str, list[profiles.IndicatorSpec]]]:
    return [
        (
            str(profiles.ROLE_NAMES[role]),
            [spec for spec in profiles.INDICATORS if spec.role == role],
        )
        for role in profiles.ROLES
    ]


@require_GET
def country_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/profile_list.html",
        {
            "members": profiles.members_summary(),
            "roles": [profiles.ROLE_NAMES[role] for role in profiles.ROLES],
            "rules": _rules(),
            "threshold": disclosure_threshold(),
        },
    )


@require_GET
def country_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        profile = profiles.country_profile(code=code)
    except profiles.NotMemberError as error:
        return render(
            request,
            "portal/profile_not_member.html",
            {"country": error.country, "members": profiles.member_countries()},
            status=404,
        )
    except NotFoundError:
        raise Http404 from None
    if code != profile.country.pk:
        return redirect("portal:profile", code=profile.country.pk, permanent=True)
    return render(
        request,
        "portal/profile_detail.html",
        {
            "profile": profile,
            "country": profile.country,
            "rules": _rules(),
            "threshold": disclosure_threshold(),
        },
    )
