import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt

from zhili.core.errors import PROBLEM_CODES, ApplicationError
from zhili.core.navigation import home_for


def _problem_response(request, status: int, code: str, title: str) -> HttpResponse:
    body = ApplicationError(code=code, status=status, title=title).as_problem(instance=request.path)
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


@csrf_exempt  # a POST to a wrong path is a 404, not Django's HTML CSRF page
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer in problem+json, like the rest of the API."""
    return _problem_response(request, 404, "not-found", "No such API endpoint")


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/open311/"))


def bad_request(request, exception=None):
    if _wants_json(request):
        return _problem_response(request, 400, "bad-request", "The request could not be parsed")
    return render(request, "core/error.html", {"status": 400}, status=400)


def permission_denied(request, exception=None):
    if _wants_json(request):
        return _problem_response(request, 403, "permission-denied", "You may not do this")
    return render(request, "core/error.html", {"status": 403}, status=403)


def page_not_found(request, exception=None):
    if _wants_json(request):
        return _problem_response(request, 404, "not-found", "Not found")
    return render(request, "core/error.html", {"status": 404}, status=404)


def server_error(request):
    if _wants_json(request):
        return _problem_response(request, 500, "server-error", "Unexpected fault")
    return render(request, "core/error.html", {"status": 500}, status=500)


def problem_type(request, code: str):
    """The human page a problem `type` URI points at."""
    if code not in PROBLEM_CODES:
        return page_not_found(request)
    return render(request, "core/problem.html", {"code": code, "text": PROBLEM_CODES[code]})


@login_required
def home(request):
    user = request.user
    # An app may declare its page the home of whoever may open it (NavItem.home):
    # "/" then serves that page itself, so the address stays the start page.
    target = home_for(user)
    if target:
        match = resolve(target)
        return match.func(request, *match.args, **match.kwargs)
    assignments = user.active_assignments()
    return render(request, "core/home.html", {"assignments": assignments, "home_area": user.home_area()})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
