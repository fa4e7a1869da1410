"""Intake: a case is reported, located, deduplicated and dispatched in one transaction."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import time as dtime
from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.accounts.models import RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.core.errors import ApplicationError, Conflict, FieldError, invalid
from zhili.core.prepared import fetch as prepared_fetch
from zhili.core.rows import instance_from_row
from zhili.governance.catalogue import attributes_clean
from zhili.governance.events import case_insert, event_add
from zhili.governance.location import degree_box, distance_m, grid_gone, locate_case_point
from zhili.governance.models import (
    OPEN_STATUSES,
    Case,
    Category,
    Channel,
    Status,
    Step,
)
from zhili.governance.photos import files_discard, photos_prepare, photos_store
from zhili.governance.services.common import (
    WORK,
    clock,
    has,
    set_step,
    tell,
    text_clean,
    tracking_number,
)
from zhili.governance.services.privacy import case_audit

MAX_DESCRIPTION = 2000
MAX_KEY = 128


# Categories (a few dozen) change in admin a few times a year and every intake
# reads one: each process keeps the active ones for CATEGORY_TTL seconds. An
# edit clears this process's copy at once (post_save/post_delete, apps.py);
# other processes see it within the TTL.
CATEGORY_TTL = 60.0
_categories: dict[str, tuple[float, Category]] = {}


def category_cache_clear(**_) -> None:
    _categories.clear()


def category_get(code) -> Category:
    """An active category by code; 422 `category` otherwise."""
    if not code or not isinstance(code, str):
        raise invalid("category", _("required"))
    moment = time.monotonic()
    hit = _categories.get(code)
    if hit is not None and moment - hit[0] < CATEGORY_TTL:
        return hit[1]
    category = Category.objects.select_related("lead_department").filter(code=code,
                                                                         active=True).first()
    if category is None:
        raise invalid("category", _("unknown or inactive category %(code)r") % {"code": code[:48]})
    _categories[code] = (moment, category)
    return category


# Every dispatched intake reads its grid's roster: written out once, like the
# duplicate search below (a test checks it against the ORM). The user comes
# with only the fields an answer names; any other loads on use.
ROSTER_USER_FIELDS = ["id", "username", "first_name", "last_name", "display_name"]
ROSTER_SQL = (
    "SELECT s.weekdays, s.start_time, s.end_time, "
    f"{', '.join('u.' + f for f in ROSTER_USER_FIELDS)} FROM governance_dutyshift s "
    "JOIN accounts_user u ON u.id = s.user_id WHERE s.grid_id = %s AND u.is_active "
    "ORDER BY s.id"
)


def _time(value) -> dtime:
    return value if isinstance(value, dtime) else dtime.fromisoformat(value)  # SQLite: text


def roster_shifts(grid) -> list[tuple[set[str], dtime, dtime, User]]:
    """(weekdays, start, end, user) of the grid's shifts held by active users, in order."""
    rows = prepared_fetch("zhili_roster", ROSTER_SQL, [grid.pk])
    shifts = []
    for weekdays, start, end, *user in rows:
        user = instance_from_row(User, {**dict(zip(ROSTER_USER_FIELDS, user, strict=True)),
                                        "is_active": True})
        shifts.append((set(weekdays.split(",")), _time(start), _time(end), user))
    return shifts


def on_duty(grid, now):
    """The user on duty on the grid now (local time), else its leader, else one of its
    workers; None if the grid has nobody."""
    local = timezone.localtime(now)
    weekday, moment = str(local.weekday()), local.time()
    for weekdays, start, end, user in roster_shifts(grid):
        if weekday not in weekdays:
            continue
        inside = start <= moment < end if start <= end else (moment >= start or moment < end)
        if inside:
            return user
    staff = {}
    for assignment in (RoleAssignment.objects.filter(
            area=grid, user__is_active=True, role__in=(Role.GRID_LEADER, Role.GRID_WORKER))
            .select_related("user").order_by("id")):
        staff.setdefault(assignment.role, assignment.user)  # the first-assigned wins
    return staff.get(Role.GRID_LEADER) or staff.get(Role.GRID_WORKER)


# The duplicate search runs on every intake, and compiling it from a queryset
# costs Django about four times what running it costs PostgreSQL: it is
# written out once. Same rows as Case.objects.filter(category=…, status__in=
# OPEN_STATUSES, duplicate_of__isnull=True, lat/lon in the box, created_at in
# the window)[:50]; an index range on `case_open_nearby`. Both it and the
# roster are prepared once per connection (core/prepared.py).
NEARBY_FIELDS = ["id", "tracking_no", "area_path", "lon", "lat"]
NEARBY_SQL = (
    f"SELECT {', '.join(NEARBY_FIELDS)} FROM governance_case WHERE category_id = %s "
    # The statuses as literals, not parameters: a prepared statement's generic plan
    # can then still prove the partial index's predicate.
    f"AND status IN ({', '.join(repr(str(s)) for s in OPEN_STATUSES)}) "
    "AND duplicate_of_id IS NULL "
    "AND lat >= %s AND lat <= %s AND lon >= %s AND lon <= %s "
    "AND created_at >= %s AND created_at <= %s LIMIT 50"
)


def nearby_candidates(category: Category, lon: float, lat: float, now) -> list[tuple]:
    """Rows (NEARBY_FIELDS) of open, unlinked cases of the category in the box around
    the point that holds its duplicate radius, reported within its window."""
    min_lon, min_lat, max_lon, max_lat = degree_box(lon, lat, category.duplicate_radius_m)
    since = now - timedelta(hours=category.duplicate_window_hours)
    ops = connection.ops
    return prepared_fetch("zhili_nearby", NEARBY_SQL, [
        category.pk, min_lat, max_lat, min_lon, max_lon,
        ops.adapt_datetimefield_value(since), ops.adapt_datetimefield_value(now)])


def probable_original(category: Category, lon: float, lat: float, now) -> Case | None:
    """The nearest open case of the same category within its radius and window
    (only the winner becomes a model)."""
    if category.is_dispute or not category.duplicate_radius_m:
        return None
    best, best_distance = None, None
    for row in nearby_candidates(category, lon, lat, now):
        d = distance_m(lon, lat, row[3], row[4])
        if d <= category.duplicate_radius_m and (best is None or d < best_distance):
            best, best_distance = row, d
    return None if best is None else instance_from_row(Case, dict(zip(NEARBY_FIELDS, best, strict=True)))


def dispatch_to_grid(case: Case, *, actor, now) -> None:
    """Automatic dispatch after a split duplicate: the on-duty worker, else the leader."""
    case.assignee = on_duty(case.grid, now)
    set_step(case, Step.ACCEPT, now, case.category.accept_minutes)
    event_add(case=case, kind="assigned", actor=actor, at=now,
              data={"assignee": case.assignee_id, "automatic": True})


def notify_assignee(case: Case, now) -> None:
    if case.assignee_id:
        tell(case=case, recipients=[case.assignee_id], kind="case.assigned",
             title=_("New case %(no)s: %(category)s") % {"no": case.tracking_no,
                                                          "category": case.category.name},
             body=case.description[:200], now=now)


def case_report(*, actor, category: str, description: str, lon: float, lat: float,
                crs: str = "wgs84", address: str = "", photos=(), anonymous: bool = False,
                contact_name: str = "", contact_phone: str = "", channel: str = Channel.RESIDENT,
                attributes: dict | None = None, idempotency_key: str | None = None,
                idempotency_scope: str | None = None, contact_email: str = "",
                media_url: str = "", idempotency_strict: bool = False,
                now=None) -> tuple[Case, bool]:
    """Report a case; returns (case, created). A known idempotency key returns the first case;
    with `idempotency_strict` (the API, Open311) only for the same request, else 422.

    Not strict for the resident page: its key names the form, which may be resubmitted
    after an edit or from the offline outbox (photos renamed), and the first case answers."""
    now = clock(now)
    key = text_clean(idempotency_key, "idempotency_key", limit=MAX_KEY) or None
    scope = None
    if key:
        scope = idempotency_scope or (f"user:{actor.pk}" if getattr(actor, "pk", None)
                                      else "system")
        scope = scope[:80]
    # No look-up of the key first: a retry is rare, and the key's unique index
    # refuses a second case at the case's INSERT. Only then, or when this attempt is
    # refused (a category closed since the first one, say), is the key looked up.
    fingerprint = intake_fingerprint(
        category=category, description=description, lon=lon, lat=lat, crs=crs, address=address,
        photos=photos, anonymous=anonymous, contact_name=contact_name,
        contact_phone=contact_phone, channel=channel, attributes=attributes,
        contact_email=contact_email, media_url=media_url) if key else ""
    try:
        return _report(actor=actor, category=category, description=description, lon=lon,
                       lat=lat, crs=crs, address=address, photos=photos, anonymous=anonymous,
                       contact_name=contact_name, contact_phone=contact_phone, channel=channel,
                       attributes=attributes, contact_email=contact_email,
                       media_url=media_url, now=now, key=key, scope=scope,
                       fingerprint=fingerprint), True
    except (ApplicationError, IntegrityError):
        known = Case.objects.filter(intake_key=key, intake_scope=scope).first() if key else None
        if known is None:
            raise
        # Cases keyed before fingerprints existed have none: they answer as before.
        if idempotency_strict and known.intake_fingerprint \
                and known.intake_fingerprint != fingerprint:
            raise IdempotencyKeyReused(_(
                "This Idempotency-Key was already used for a different request (case "
                "%(no)s); send a new key for a new report.") % {"no": known.tracking_no},
                errors=[FieldError("Idempotency-Key", _("already used with another body"))],
            ) from None
        return known, False


class IdempotencyKeyReused(ApplicationError):
    """422, as the IETF draft "The Idempotency-Key HTTP Header Field" (§2.7) asks."""

    def __init__(self, detail: str, errors: list[FieldError]):
        ApplicationError.__init__(self, detail=detail, errors=errors,
                                  code="idempotency-key-reused", status=422,
                                  title="The Idempotency-Key was used for another request")


def intake_fingerprint(*, photos, **fields) -> str:
    """SHA-256 over what a submission asks for, the same whether it came as JSON or a form
    (numbers as floats, photos by size: their bytes are not read twice, and a retry may
    name them differently)."""
    canonical = {name: (float(value) if name in ("lon", "lat") and _is_number(value) else value)
                 for name, value in fields.items()}
    canonical["photos"] = [getattr(p, "size", 0) for p in photos or ()]
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _report(*, actor, category, description, lon, lat, crs, address, photos, anonymous,
            contact_name, contact_phone, channel, attributes, contact_email, media_url, now,
            key, scope, fingerprint) -> Case:
    cat = category_get(category)
    text = text_clean(description, "description", limit=MAX_DESCRIPTION, required=True)
    address = text_clean(address, "address", limit=200)
    contact_name = text_clean(contact_name, "contact_name", limit=64)
    contact_phone = text_clean(contact_phone, "contact_phone", limit=32)
    if contact_phone and not all(c.isdigit() or c in "+- ()" for c in contact_phone):
        raise invalid("contact_phone", _("digits, spaces, +, - and brackets only"))
    contact_email = text_clean(contact_email, "contact_email", limit=254)
    if contact_email:
        try:
            validate_email(contact_email)
        except DjangoValidationError:
            raise invalid("contact_email", _("not an e-mail address")) from None
    media_url = text_clean(media_url, "media_url", limit=500)
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except DjangoValidationError:
            raise invalid("media_url", _("an http(s) URL")) from None
    if channel not in Channel.values:
        raise invalid("channel", _("one of: %(v)s") % {"v": ", ".join(Channel.values)})
    answers = attributes_clean(cat.attributes, attributes)
    grid, wlon, wlat = locate_case_point(lon, lat, crs)
    if channel == Channel.PATROL and not has(actor, WORK, grid.path):
        raise invalid("lon", _("a patrol report must lie on one of your grids"))
    prepared = photos_prepare(photos)
    stored: list[str] = []
    try:
        with transaction.atomic():
            case = _create(actor=actor, category=cat, text=text, address=address, lon=wlon,
                           lat=wlat, grid=grid, channel=channel, anonymous=bool(anonymous),
                           contact_name=contact_name, contact_phone=contact_phone,
                           contact_email=contact_email, media_url=media_url,
                           answers=answers, now=now, prepared=prepared, stored=stored,
                           key=key, scope=scope, fingerprint=fingerprint)
            case_audit(actor=actor, action="case.report", case=case,
                       detail={"tracking_no": case.tracking_no, "category": cat.code,
                               "channel": channel, "grid": grid.code,
                               "duplicate_of": case.duplicate_of_id,
                               "anonymous": case.anonymous})
    except IntegrityError:
        files_discard(stored)
        category_cache_clear()  # in case the category went with a reloaded database
        if grid_gone(grid):  # else: the key's retry, answered by the caller
            raise Conflict(_("The city's boundaries changed while locating; try again.")) \
                from None
        raise
    except BaseException:
        files_discard(stored)
        raise
    return case


def _create(*, actor, category, text, address, lon, lat, grid, channel, anonymous, contact_name,
            contact_phone, contact_email, media_url, answers, now, prepared, stored, key=None,
            scope="", fingerprint="") -> Case:
    reporter = actor if getattr(actor, "is_authenticated", False) else None
    case = Case(
        tracking_no=tracking_number(now), category=category, is_dispute=category.is_dispute,
        description=text, address=address, lon=lon, lat=lat, grid=grid, area_path=grid.path,
        channel=channel, reporter=reporter, anonymous=anonymous, contact_name=contact_name,
        contact_phone=contact_phone, contact_email=contact_email, media_url=media_url,
        attributes=answers, status=Status.REPORTED, created_at=now,
        updated_at=now, intake_key=key or "", intake_scope=scope or "",
        intake_fingerprint=fingerprint if key else "",
    )
    original = probable_original(category, lon, lat, now)
    if original is not None:
        # The reporter follows the original; nobody is dispatched twice.
        case.duplicate_of = original
        case.step, case.due_at, case.escalate_at = Step.NONE, None, None
    else:
        case.assignee = on_duty(grid, now)
        set_step(case, Step.ACCEPT, now, category.accept_minutes)
    if original is not None:
        second = {"kind": "duplicate_linked",
                  "data": {"original": original.tracking_no, "original_id": original.pk}}
    else:
        second = {"kind": "assigned", "data": {"assignee": case.assignee_id, "automatic": True}}
    reported, second = case_insert(case, at=now, events=[
        {"kind": "reported", "actor": actor, "data": {"channel": channel}}, second])
    if original is None:
        notify_assignee(case, now)
    reported.photo_list = photos_store(case=case, event=reported, prepared=prepared,
                                       stored=stored, now=now) if prepared else []
    second.photo_list = []
    # The timeline as written, so the caller can answer without reading it back.
    case.new_events = [reported, second]
    return case
