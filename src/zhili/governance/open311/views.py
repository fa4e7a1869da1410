"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

Every method answers in the format its URL ends with (.xml or .json) and
every error is the spec's array of {code, description} with the spec's HTTP
status: 400 for a missing or bad parameter, 403 for a missing or wrong
api_key, 404 for an unknown service_code, service_request_id, token or
jurisdiction_id. Only POST requests needs a key; it is CSRF-exempt because
the key, not a cookie, authenticates it.
"""

from __future__ import annotations

import functools
import logging
import re

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from zhili.core.errors import ApplicationError, ValidationFailed
from zhili.core.inputguard import find_bad_input
from zhili.governance.models import Category
from zhili.governance.open311 import selectors
from zhili.governance.open311.keys import open311_key_check
from zhili.governance.open311.params import (
    BadParam,
    check_attributes,
    comma_list,
    coordinate,
    parse_w3,
    raw_attributes,
)
from zhili.governance.open311.render import FORMATS, Many, errors, render

logger = logging.getLogger("zhili.open311")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_JURISDICTION = "zhili"
DEFAULT_CHANGESET = "2026-03-01 00:00"
MAX_DESCRIPTION_CHARS = 4000  # the spec's limit; the case itself takes at most 2,000
MAX_PHOTOS = 6
MAX_NAME_CHARS, MAX_PHONE_CHARS, MAX_EMAIL_CHARS = 64, 32, 254  # the case's columns
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces


def jurisdiction() -> str:
    return getattr(settings, "ZHILI_OPEN311_JURISDICTION", DEFAULT_JURISDICTION)


def open311_method(*methods: str):
    """Format from the URL, allowed methods, jurisdiction_id check, no unhandled faults."""

    def wrap(view):
        @functools.wraps(view)
        def inner(request, fmt: str = "xml", **kwargs):
            fmt = fmt if fmt in FORMATS else "xml"
            if request.method not in methods:
                response = errors(fmt, 405, _("Method %(method)s is not allowed here; use %(allowed)s.")
                                  % {"method": request.method, "allowed": ", ".join(methods)})
                response["Allow"] = ", ".join(methods)
                return response
            try:
                # NUL, lone surrogates, a multipart body without boundary: the spec's 400.
                if bad := find_bad_input(request):
                    return errors(fmt, 400, f"{bad.field}: {bad.message}")
                # Reading the body may fail (too many fields, too large): still a spec error.
                params = request.POST if request.method == "POST" else request.GET
                given = (params.get("jurisdiction_id") or request.GET.get("jurisdiction_id")
                         or "").strip()
                if given and given != jurisdiction():
                    return errors(fmt, 404, _("jurisdiction_id %(given)r was not found; this "
                                              "endpoint serves %(ours)r.")
                                  % {"given": given[:100], "ours": jurisdiction()})
                return view(request, fmt, **kwargs)
            except SuspiciousOperation as exc:
                return errors(fmt, 400, _("The request could not be read: %(why)s")
                              % {"why": str(exc)[:200]})
            except BadParam as exc:
                return errors(fmt, 400, *exc.args)
            except Exception:  # the spec's "general service error": 400, and we log it
                logger.exception("open311 %s %s failed", request.method, request.path)
                return errors(fmt, 400, _("General service error; report request id %(id)s.")
                              % {"id": getattr(request, "request_id", "?")})

        return inner

    return wrap


# -- discovery and services --------------------------------------------------------------------

def _changeset() -> str:
    # Clients refresh cached service lists when this sorts later.
    if any(f.name == "updated_at" for f in Category._meta.get_fields()):
        latest = Category.objects.order_by("-updated_at").values_list("updated_at", flat=True)
        if latest and latest[0]:
            from django.utils import timezone

            return timezone.localtime(latest[0]).strftime("%Y-%m-%d %H:%M")
    return getattr(settings, "ZHILI_OPEN311_CHANGESET", DEFAULT_CHANGESET)


@open311_method("GET", "HEAD")
def discovery(request, fmt):
    changeset = _changeset()
    body = {
        "changeset": changeset,
        "contact": getattr(settings, "ZHILI_OPEN311_CONTACT", "")
        or _("Ask the city's governance centre (城市运行和治理中心)."),
        "key_service": getattr(settings, "ZHILI_OPEN311_KEY_SERVICE", "")
        or _("API keys are issued by the city administrator (zhili open311 create-key)."),
        "endpoints": Many("endpoint", [{
            "specification": SPECIFICATION,
            "url": request.build_absolute_uri(reverse("open311:root")).rstrip("/"),
            "changeset": changeset,
            "type": "production",
            "formats": Many("format", ["text/xml", "application/json"]),
        }]),
    }
    return render(fmt, "discovery", body)


@open311_method("GET", "HEAD")
def service_list(request, fmt):
    services = [selectors.service_dict(c) for c in selectors.open311_categories()]
    return render(fmt, "services", Many("service", services))


@open311_method("GET", "HEAD")
def service_definition(request, fmt, service_code):
    category = selectors.service_get(service_code)
    if category is None:
        return errors(fmt, 404, _("service_code %(code)r was not found.") % {"code": service_code[:64]})
    attributes = []
    for attr in selectors.service_attributes(category):
        attr = dict(attr)
        attr["values"] = Many("value", attr["values"])
        attributes.append(attr)
    return render(fmt, "service_definition",
                  {"service_code": category.code, "attributes": Many("attribute", attributes)})


# -- service requests --------------------------------------------------------------------------

@csrf_exempt
@open311_method("GET", "HEAD", "POST")
def requests(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    return _query(request, fmt)


def _query(request, fmt):
    params = request.GET
    ids = comma_list(params, "service_request_id", limit=selectors.MAX_RESULTS)
    codes = comma_list(params, "service_code", limit=200)
    statuses = comma_list(params, "status", limit=2)
    bad = [s for s in statuses if s not in ("open", "closed")]
    if bad:
        raise BadParam(f"status must be open or closed (comma-delimited), not {bad[0][:20]!r}")
    start = end = None
    if not ids:
        if (params.get("start_date") or "").strip():
            start = parse_w3("start_date", params["start_date"])
        if (params.get("end_date") or "").strip():
            end = parse_w3("end_date", params["end_date"], end_of_period=True)
        if start and end:
            if end < start:
                raise BadParam("end_date is earlier than start_date")
            if end - start > selectors.DEFAULT_SPAN:
                raise BadParam("start_date and end_date may not span more than 90 days")
    cases = selectors.request_list(ids=ids, codes=codes, statuses=statuses, start=start, end=end)
    return render(fmt, "service_requests", Many("request", selectors.request_dicts(cases)))


def _create(request, fmt):
    content_type = (request.content_type or "").lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadParam("send the request as application/x-www-form-urlencoded "
                       "(multipart/form-data when attaching media files)")
    params = request.POST
    raw_key = (params.get("api_key") or request.GET.get("api_key") or "").strip()
    if not raw_key:
        return errors(fmt, 403, _("api_key is missing -- can't proceed with create_request."))
    key = open311_key_check(raw_key)
    if key is None:
        return errors(fmt, 403, _("Invalid api_key received -- can't proceed with create_request."))

    code = (params.get("service_code") or "").strip()
    if not code:
        raise BadParam("service_code was not provided")
    category = selectors.service_get(code)
    if category is None:
        return errors(fmt, 404, _("service_code %(code)r was not found.") % {"code": code[:64]})

    problems: list[str] = []
    lat = lon = None
    try:
        lat = coordinate(params, "lat", -90, 90)
        lon = coordinate(params, "long", -180, 180)
    except BadParam as exc:
        problems.extend(exc.args)
    address = (params.get("address_string") or "").strip()
    address_id = (params.get("address_id") or "").strip()
    if not problems:
        if (lat is None) != (lon is None):
            problems.append("lat and long must both be sent")
        elif lat is None:
            point = None
            if address_id:
                point = selectors.locate_address_id(address_id)
                if point is None:
                    problems.append("address_id is not a known area code of this city "
                                    "(a grid's 15 digits or a community's 12)")
            elif address:
                point = selectors.locate_address_string(address)
                if point is None:
                    problems.append("address_string names no area of this city unambiguously; "
                                    "send lat and long")
            else:
                problems.append("a location is required: lat and long, address_string "
                                "or address_id")
            if point:
                lon, lat = point
    if len(address) > 200:
        problems.append("address_string is longer than 200 characters")

    description = (params.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        problems.append(f"description is longer than {MAX_DESCRIPTION_CHARS} characters")
    media_url = (params.get("media_url") or "").strip()
    if media_url and (len(media_url) > 500 or not re.match(r"^https?://[^\s]+$", media_url)):
        problems.append("media_url must be an http(s) URL of at most 500 characters")
    idempotency_key = request.headers.get("Idempotency-Key", "").strip() or None
    if idempotency_key and not _IDEMPOTENCY_KEY.match(idempotency_key):
        problems.append("the Idempotency-Key header must be 1-128 printable ASCII characters")
    photos = request.FILES.getlist("media")
    if len(photos) > MAX_PHOTOS:
        problems.append(f"at most {MAX_PHOTOS} media files")
    try:
        attributes = check_attributes(selectors.service_attributes(category),
                                      raw_attributes(params))
    except BadParam as exc:
        problems.extend(exc.args)
        attributes = {}
    first = (params.get("first_name") or "").strip()
    last = (params.get("last_name") or "").strip()
    phone = (params.get("phone") or "").strip()
    email = (params.get("email") or "").strip()
    # Refused, never cut: a shortened phone number reaches somebody else.
    if len(_full_name(first, last)) > MAX_NAME_CHARS:
        problems.append(f"first_name and last_name together are longer than {MAX_NAME_CHARS} "
                        f"characters")
    if len(phone) > MAX_PHONE_CHARS:
        problems.append(f"phone is longer than {MAX_PHONE_CHARS} characters")
    if len(email) > MAX_EMAIL_CHARS:
        problems.append(f"email is longer than {MAX_EMAIL_CHARS} characters")
    if problems:
        raise BadParam(*problems)

    arguments = dict(
        actor=None, category=category.code,
        description=description or category.name, lon=lon, lat=lat, crs="wgs84",
        address=address, photos=photos, anonymous=not (first or last or phone or email),
        contact_name=_full_name(first, last), contact_phone=phone,
        channel="open311", attributes=attributes, idempotency_key=idempotency_key,
        idempotency_scope=f"open311:{key.pk}", media_url=media_url, contact_email=email,
        idempotency_strict=True,
    )
    from zhili.governance import services

    try:
        case, _created = services.case_report(**arguments)
    except ValidationFailed as exc:
        raise BadParam(*[f"{_open311_field(e.field)}: {e.message}" for e in exc.errors]) from None
    except ApplicationError as exc:
        if exc.code == "outside-city":
            raise BadParam("lat/long lie outside this jurisdiction") from None
        if exc.status == 404:
            return errors(fmt, 404, exc.detail or exc.title)
        raise BadParam(exc.detail or exc.title) from None
    return render(fmt, "service_requests", Many("request", [{
        "service_request_id": case.tracking_no,
        "service_notice": selectors.service_notice(category),
        "account_id": None,
    }]))


def _open311_field(field: str) -> str:
    return {"category": "service_code", "lon": "long", "photos": "media",
            "address": "address_string", "contact_name": "first_name/last_name",
            "contact_phone": "phone", "contact_email": "email"}.get(field, field)


def _full_name(first: str, last: str) -> str:
    # Chinese names are written family name first, without a space.
    if re.search(r"[\u4e00-\u9fff]", first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


@open311_method("GET", "HEAD")
def request_detail(request, fmt, request_id):
    case = selectors.request_get(request_id)
    if case is None:
        return errors(fmt, 404, _("service_request_id %(id)r was not found.")
                      % {"id": request_id[:64]})
    return render(fmt, "service_requests", Many("request", selectors.request_dicts([case])))


@open311_method("GET", "HEAD")
def token_detail(request, fmt, token):
    cases = selectors.token_lookup(token)
    if not cases:
        return errors(fmt, 404, _("token %(token)r was not found.") % {"token": token[:64]})
    return render(fmt, "service_requests", Many("request", [
        {"service_request_id": case.tracking_no, "token": token} for case in cases]))


@open311_method("GET", "HEAD")
def root(request, fmt="xml"):
    """The endpoint's root answers with the discovery document (the spec suggests it)."""
    return discovery.__wrapped__(request, fmt)


@open311_method("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
def not_found(request, fmt, path=""):
    return errors(fmt, 404, _("No such Open311 resource; see discovery.xml."))
