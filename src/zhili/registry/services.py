"""Writes to the base registries, and the audited reveal of personal data.

Each use case validates first (422 naming the field, nothing written),
checks the actor's permission over the area concerned (403), then writes in
one transaction together with its audit row. `actor=None` is the system
(seeding, commands); every request passes its user.

Rules on permissions: you act on an object you can see (the caller found it
through a selector, else 404); lacking the right for the act itself is 403.
Writing into an area you do not hold is 403 too.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.accounts.models import Department
from zhili.accounts.roles import ROLE_PERMISSIONS
from zhili.audit.models import AuditEntry
from zhili.audit.services import audit_record
from zhili.core.errors import (
    Conflict,
    FieldError,
    PermissionDenied,
    Throttled,
    ValidationFailed,
    invalid,
)
from zhili.core.scoping import scope_of
from zhili.geo.models import AreaNode, Level
from zhili.geo.selectors import node_by_code
from zhili.registry import selectors
from zhili.registry.identifiers import IdentifierError, credit_code_validate, id_number_validate
from zhili.registry.models import (
    CERTIFICATE_TYPES,
    DATA_ITEMS,
    Certificate,
    CertificateStatus,
    Consent,
    HolderKind,
    Organisation,
    Person,
)

PURPOSE_MIN, PURPOSE_MAX = 4, 200
MIN_YEAR, MAX_YEAR = 1900, 2200  # dates outside are typing errors (and overflow on UTC)
CONTENT_MAX_BYTES = 16_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # every field is one line of text
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,18}[0-9]$")
_HOUSEHOLD = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_CERT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")


# --- helpers ---------------------------------------------------------------------------------

class _Errors:
    """Collects field errors so one 422 names every bad field."""

    def __init__(self):
        self.items: list[FieldError] = []

    def add(self, field: str, message: str):
        self.items.append(FieldError(field, message))

    def text(self, field: str, value, *, max_len: int, min_len: int = 1,
             pattern: re.Pattern | None = None, hint: str = "") -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(field, _("must be text"))
            return ""
        value = value.strip()
        if _CONTROL.search(value):
            self.add(field, _("must not contain control characters"))
        elif len(value) < min_len:
            self.add(field, _("must have at least %(n)d characters") % {"n": min_len}
                     if min_len > 1 else _("is required"))
        elif len(value) > max_len:
            self.add(field, _("must have at most %(n)d characters") % {"n": max_len})
        elif value and pattern is not None and not pattern.match(value):
            self.add(field, hint or _("has the wrong format"))
        return value

    def raise_if_any(self):
        if self.items:
            raise ValidationFailed(self.items)


def _may(actor, permission: str, path: str) -> bool:
    return actor is None or scope_of(actor, permission).covers(path)


def _require(actor, permission: str, path: str, message: str):
    if not _may(actor, permission, path):
        raise PermissionDenied(message)


def _area(value, *, field: str, level: str | None = None) -> AreaNode:
    """An AreaNode, given itself or its code (full, or trimmed like `500103`)."""
    if isinstance(value, AreaNode):
        node = value
    else:
        code = (value or "").strip() if isinstance(value, str) else ""
        if not code.isdigit() or not 2 <= len(code) <= 15:
            raise invalid(field, _("must be an area code of 2 to 15 digits"))
        node = node_by_code(code)
        if node is None:
            raise invalid(field, _("no area with code %(code)s") % {"code": code})
    if level and node.level != level:
        raise invalid(field, _("must be a %(level)s, not a %(actual)s")
                      % {"level": level, "actual": node.level})
    return node


def _validate_id(errors: _Errors, value) -> str:
    try:
        return id_number_validate(value if isinstance(value, str) else "")
    except IdentifierError as exc:
        errors.add("id_number", str(exc))
        return ""


def _purpose(value) -> str:
    errors = _Errors()
    purpose = errors.text("purpose", value, max_len=PURPOSE_MAX, min_len=PURPOSE_MIN)
    errors.raise_if_any()
    return purpose


def _now():
    return timezone.now()


# --- persons ---------------------------------------------------------------------------------

def person_create(*, actor, id_number: str, name: str, grid, phone: str = "",
                  address: str = "", household_no: str = "") -> Person:
    errors = _Errors()
    number = _validate_id(errors, id_number)
    name = errors.text("name", name, max_len=64)
    phone = errors.text("phone", phone, max_len=20, min_len=0, pattern=_PHONE,
                        hint=_("digits, spaces or dashes, optionally starting with +"))
    address = errors.text("address", address, max_len=200, min_len=0)
    household_no = errors.text("household_no", household_no, max_len=32, min_len=0,
                               pattern=_HOUSEHOLD, hint=_("letters, digits and dashes"))
    try:
        node = _area(grid, field="grid", level=Level.GRID)
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
        node = None
    errors.raise_if_any()
    _require(actor, "registry.change_person", node.path,
             _("You may only register persons in your own area."))
    if Person.objects.filter(id_number=number).exists():
        raise Conflict(_("A person with this identity number is already registered."))
    try:
        with transaction.atomic():
            person = Person.objects.create(
                id_number=number, name=name, phone=phone, address=address,
                household_no=household_no, grid=node, area_path=node.path,
            )
            audit_record(actor=actor, action="person.create", obj=person,
                         detail={"grid": node.code})
    except IntegrityError:
        raise Conflict(_("A person with this identity number is already registered.")) from None
    return person


PERSON_EDITABLE = ("name", "phone", "address", "household_no", "grid")


def person_update(*, actor, person: Person, **changes) -> Person:
    """Change a person's fields; the person must stay inside the actor's area."""
    unknown = set(changes) - set(PERSON_EDITABLE)
    if unknown:
        raise ValidationFailed({f: _("cannot be changed") for f in sorted(unknown)})
    if not changes:
        raise ValidationFailed({"body": _("name at least one field to change: %(fields)s")
                                        % {"fields": ", ".join(PERSON_EDITABLE)}})
    errors = _Errors()
    clean: dict = {}
    if "name" in changes:
        clean["name"] = errors.text("name", changes["name"], max_len=64)
    if "phone" in changes:
        clean["phone"] = errors.text("phone", changes["phone"], max_len=20, min_len=0,
                                     pattern=_PHONE, hint=_("digits, spaces or dashes"))
    if "address" in changes:
        clean["address"] = errors.text("address", changes["address"], max_len=200, min_len=0)
    if "household_no" in changes:
        clean["household_no"] = errors.text("household_no", changes["household_no"],
                                            max_len=32, min_len=0, pattern=_HOUSEHOLD)
    if "grid" in changes:
        try:
            clean["grid"] = _area(changes["grid"], field="grid", level=Level.GRID)
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)
    errors.raise_if_any()
    _require(actor, "registry.change_person", person.area_path,
             _("You may not change persons in this area."))
    with transaction.atomic():
        fresh = Person.objects.select_for_update().get(pk=person.pk)
        changed = [f for f, v in clean.items() if getattr(fresh, f) != v]
        if not changed:
            return fresh  # nothing differs (nulls for empty fields, say): no write, no audit
        for field, value in clean.items():
            setattr(fresh, field, value)
        if "grid" in clean and fresh.area_path != clean["grid"].path:
            fresh.area_path = clean["grid"].path
            # What a person holds moves with them.
            Certificate.objects.filter(person=fresh).update(area_path=fresh.area_path)
            Consent.objects.filter(person=fresh).update(area_path=fresh.area_path)
        fresh.updated_at = _now()
        fresh.save()
        # Re-read through the actor's scope: nobody moves a person out of their area.
        if actor is not None and not Person.objects.restrict(
                actor, "registry.change_person").filter(pk=fresh.pk).exists():
            raise PermissionDenied(_("The new grid lies outside your area."))
        audit_record(actor=actor, action="person.update", obj=fresh,
                     detail={"changed": changed, "grid": fresh.grid.code})
    return fresh


def person_reveal(*, actor, person: Person, purpose: str) -> Person:
    """The unmasked person, for a stated purpose, audited; else PermissionDenied/422."""
    if actor is None or not scope_of(actor, "registry.reveal_person").covers(person.area_path):
        raise PermissionDenied(_("You may not see this person's data in full."))
    purpose = _purpose(purpose)
    with transaction.atomic():
        audit_record(actor=actor, action="person.reveal", obj=person, purpose=purpose,
                     detail={"fields": ["id_number", "name", "phone", "address"]})
    return person


# --- look-ups by a whole identifier -----------------------------------------------------------

LOOKUP_ACTIONS = ("person.lookup", "organisation.lookup")
LOOKUP_MAX_MATCHES = 50  # a whole number matches one row; a common name may match many


def _lookup_throttle(actor) -> None:
    """Throttled once the actor made ZHILI_LOOKUP_LIMIT look-ups within the window.

    Counted from the actor's own `*.lookup` audit rows, so every server process
    sees the same count with no counter of its own; a refused look-up writes
    nothing, so the limit lifts as the oldest look-up leaves the window.
    Requests in flight at the same moment can overshoot it by their number.
    """
    since = _now() - timedelta(seconds=settings.ZHILI_LOOKUP_WINDOW_SECONDS)
    used = AuditEntry.objects.filter(actor_id=actor.pk, action__in=LOOKUP_ACTIONS,
                                     at__gte=since).count()
    if used >= settings.ZHILI_LOOKUP_LIMIT:
        raise Throttled(_("At most %(limit)d look-ups in %(minutes)d minutes; wait and try "
                          "again.") % {"limit": settings.ZHILI_LOOKUP_LIMIT,
                                       "minutes": settings.ZHILI_LOOKUP_WINDOW_SECONDS // 60})


def _lookup(*, actor, action: str, by: str, matching, purpose: str):
    """Check, throttle, audit and return the matching rows (a queryset of what was audited)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Look-ups are made by a person, for a purpose."))
    purpose = _purpose(purpose)
    _lookup_throttle(actor)
    ids = list(matching.values_list("id", flat=True)[:LOOKUP_MAX_MATCHES])
    paths = set(matching.filter(pk__in=ids).values_list("area_path", flat=True))
    with transaction.atomic():
        # No searched value in the row: that would copy whole numbers into the log.
        audit_record(actor=actor, action=action, object_type=matching.model._meta.label_lower,
                     object_id=ids[0] if len(ids) == 1 else "",
                     area_path=paths.pop() if len(paths) == 1 else _actor_area(actor),
                     purpose=purpose, detail={"by": by, "matches": ids, "count": len(ids)})
    return matching.filter(pk__in=ids)


def _actor_area(actor) -> str:
    """Where a look-up without one matching area is filed: the actor's one area, if one."""
    scope = scope_of(actor, "registry.view_person")
    return scope.paths[0] if len(scope.paths) == 1 and not scope.everywhere else ""


def person_lookup(*, actor, q: str, purpose: str, filters=None):
    """Persons in the actor's scope with exactly this identity number or this whole name.

    The one way to search persons by a personal value: for a stated purpose,
    audited as `person.lookup` (the purpose, what kind of value, the ids found;
    never the value) and throttled per user. Results stay masked.
    """
    by, condition = selectors.person_lookup_match(q)  # 422 before anything is counted
    matching = selectors.person_list(actor=actor, filters=filters).filter(condition)
    return _lookup(actor=actor, action="person.lookup", by=by, matching=matching,
                   purpose=purpose)


def organisation_lookup(*, actor, q: str, purpose: str, filters=None):
    """Organisations in scope with exactly this credit code; audited and throttled likewise."""
    condition = selectors.organisation_lookup_match(q)
    if condition is None:
        raise invalid("q", _("a whole unified social credit code (18 characters)"))
    filters = selectors.OrganisationFilters(area=getattr(filters, "area", "") or "")
    matching = selectors.organisation_list(actor=actor, filters=filters).filter(condition)
    return _lookup(actor=actor, action="organisation.lookup", by="credit_code",
                   matching=matching, purpose=purpose)


# --- organisations ---------------------------------------------------------------------------

def organisation_create(*, actor, credit_code: str, name: str, area, legal_representative: str = "",
                        address: str = "") -> Organisation:
    errors = _Errors()
    try:
        code = credit_code_validate(credit_code if isinstance(credit_code, str) else "")
    except IdentifierError as exc:
        errors.add("credit_code", str(exc))
        code = ""
    name = errors.text("name", name, max_len=128)
    legal_representative = errors.text("legal_representative", legal_representative,
                                       max_len=64, min_len=0)
    address = errors.text("address", address, max_len=200, min_len=0)
    try:
        node = _area(area, field="area")
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
        node = None
    errors.raise_if_any()
    _require(actor, "registry.change_organisation", node.path,
             _("You may only register organisations in your own area."))
    if Organisation.objects.filter(credit_code=code).exists():
        raise Conflict(_("An organisation with this credit code is already registered."))
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(
                credit_code=code, name=name, legal_representative=legal_representative,
                address=address, area=node, area_path=node.path,
            )
            audit_record(actor=actor, action="organisation.create", obj=organisation,
                         detail={"area": node.code, "name": name})
    except IntegrityError:
        raise Conflict(_("An organisation with this credit code is already registered.")) from None
    return organisation


# --- certificates ----------------------------------------------------------------------------

def issuing_departments(actor, path: str) -> tuple[bool, list[Department]]:
    """(may issue in any department's name, the departments the actor issues for) at `path`."""
    if actor is None or getattr(actor, "is_superuser", False):
        return True, []
    if not getattr(actor, "is_authenticated", False):
        return False, []
    anyone, departments = False, []
    for assignment in actor.active_assignments():
        if "registry.issue_certificate" not in ROLE_PERMISSIONS.get(assignment.role, ()):
            continue
        if not path.startswith(assignment.area_path):
            continue
        if assignment.department_id is None:
            anyone = True
        elif assignment.department not in departments:
            departments.append(assignment.department)
    return anyone, departments


def _content(errors: _Errors, content) -> dict:
    if content is None:
        return {}
    if not isinstance(content, dict):
        errors.add("content", _("must be a JSON object"))
        return {}
    try:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        errors.add("content", _("must be plain JSON (no NaN or infinity)"))
        return {}
    if "\\u0000" in text or len(text.encode()) > CONTENT_MAX_BYTES:
        errors.add("content", _("must be at most %(n)d bytes, without NUL characters")
                   % {"n": CONTENT_MAX_BYTES})
    return content


def _as_date(errors: _Errors, field: str, value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, _("must be a date YYYY-MM-DD"))
        return None


def certificate_issue(*, actor, cert_type: str, holder: Person | Organisation,
                      department: Department | str | None = None, number: str = "",
                      issued_on: date | str | None = None, expires_on: date | str | None = None,
                      content: dict | None = None) -> Certificate:
    """Issue an e-certificate; department officers issue in their own department's name."""
    errors = _Errors()
    spec = CERTIFICATE_TYPES.get(cert_type)
    if spec is None:
        errors.add("cert_type", _("one of: %(v)s") % {"v": ", ".join(CERTIFICATE_TYPES)})
    holder_kind = HolderKind.PERSON if isinstance(holder, Person) else HolderKind.ORGANISATION
    if spec is not None and spec.holder != holder_kind:
        errors.add("holder", _("a %(type)s is held by a %(holder)s")
                   % {"type": cert_type, "holder": spec.holder})
    number = errors.text("number", number, max_len=64, min_len=0, pattern=_CERT_NUMBER,
                         hint=_("letters, digits and dashes"))
    issued = _as_date(errors, "issued_on", issued_on) or timezone.localdate()
    expires = _as_date(errors, "expires_on", expires_on)
    if issued > timezone.localdate():
        errors.add("issued_on", _("cannot lie in the future"))
    elif issued.year < MIN_YEAR:
        errors.add("issued_on", _("must not lie before %(year)d") % {"year": MIN_YEAR})
    if expires is not None and expires < issued:
        errors.add("expires_on", _("must not be before issued_on"))
    elif expires is not None and expires.year > MAX_YEAR:
        errors.add("expires_on", _("must lie before %(year)d") % {"year": MAX_YEAR})
    content = _content(errors, content)
    if isinstance(department, str):
        found = Department.objects.filter(code=department).first()
        if found is None:
            errors.add("department", _("no department %(code)r") % {"code": department})
        department = found
    errors.raise_if_any()

    anyone, own = issuing_departments(actor, holder.area_path)
    if not anyone and not own:
        raise PermissionDenied(_("You may not issue certificates in this area."))
    if department is None:
        matching = [d for d in own if d.code == spec.department]
        if matching:
            department = matching[0]
        elif anyone:
            department = Department.objects.filter(code=spec.department).first()
        elif own:
            department = own[0]  # refused below: it does not issue this type
        if department is None:
            raise invalid("department", _("department %(code)r does not exist") % {"code": spec.department})
    elif not anyone and department not in own:
        raise PermissionDenied(_("You issue certificates only in your own department's name."))
    if department.code != spec.department:
        if not anyone:
            raise PermissionDenied(_("Your department does not issue %(type)s certificates.")
                                   % {"type": cert_type})
        raise invalid("department", _("a %(type)s is issued by %(department)s")
                      % {"type": cert_type, "department": spec.department})

    number = number or f"{spec.prefix}{issued:%Y}{secrets.randbelow(10**12):012d}"
    if Certificate.objects.filter(cert_type=cert_type, number=number).exists():
        raise Conflict(_("A certificate of this type with this number already exists."))
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(
                cert_type=cert_type, number=number, department=department,
                person=holder if holder_kind == HolderKind.PERSON else None,
                organisation=holder if holder_kind == HolderKind.ORGANISATION else None,
                issued_on=issued, expires_on=expires, content=content,
                area_path=holder.area_path,
            )
            audit_record(actor=actor, action="certificate.issue", obj=certificate,
                         detail={"cert_type": cert_type, "department": department.code,
                                 "holder": holder_kind, "holder_id": holder.pk})
    except IntegrityError:
        raise Conflict(_("A certificate of this type with this number already exists.")) from None
    return certificate


def certificate_revoke(*, actor, certificate: Certificate, reason: str) -> Certificate:
    anyone, own = issuing_departments(actor, certificate.area_path)
    if not anyone and certificate.department not in own:
        raise PermissionDenied(_("Only the issuing department revokes a certificate."))
    errors = _Errors()
    reason = errors.text("reason", reason, max_len=200, min_len=PURPOSE_MIN)
    errors.raise_if_any()
    with transaction.atomic():
        fresh = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if fresh.status == CertificateStatus.REVOKED:
            raise Conflict(_("The certificate is already revoked."))
        fresh.status = CertificateStatus.REVOKED
        fresh.revoked_at = _now()
        fresh.revoked_reason = reason
        fresh.save(update_fields=["status", "revoked_at", "revoked_reason"])
        audit_record(actor=actor, action="certificate.revoke", obj=fresh,
                     detail={"cert_type": fresh.cert_type, "reason": reason})
    return fresh


def certificate_reveal(*, actor, certificate: Certificate, purpose: str) -> Certificate:
    """A certificate with its number and content in full, for a stated purpose, audited."""
    if actor is None or not scope_of(actor, "registry.reveal_person").covers(certificate.area_path):
        raise PermissionDenied(_("You may not see this certificate in full."))
    purpose = _purpose(purpose)
    with transaction.atomic():
        audit_record(actor=actor, action="certificate.reveal", obj=certificate, purpose=purpose,
                     detail={"cert_type": certificate.cert_type})
    return certificate


# --- consent ---------------------------------------------------------------------------------

def consent_grant(*, actor, person: Person, purpose: str, purpose_text: str, data_item: str,
                  expires_at: datetime | None = None) -> Consent:
    """Record that the person allows `purpose` to use `data_item` (staff record it for them)."""
    errors = _Errors()
    purpose = errors.text("purpose", purpose, max_len=64, min_len=3, pattern=_SLUG,
                          hint=_("a slug: lower-case letters, digits and dashes"))
    purpose_text = errors.text("purpose_text", purpose_text, max_len=PURPOSE_MAX,
                               min_len=PURPOSE_MIN)
    if data_item not in DATA_ITEMS:
        errors.add("data_item", _("one of: %(v)s") % {"v": ", ".join(DATA_ITEMS)})
    now = _now()
    if expires_at is not None:
        if not MIN_YEAR <= expires_at.year <= MAX_YEAR:
            errors.add("expires_at", _("must lie between %(low)d and %(high)d")
                       % {"low": MIN_YEAR, "high": MAX_YEAR})
        else:
            if timezone.is_naive(expires_at):
                expires_at = timezone.make_aware(expires_at)
            if expires_at <= now:
                errors.add("expires_at", _("must lie in the future"))
    errors.raise_if_any()
    _require(actor, "registry.change_person", person.area_path,
             _("You may not record consents for persons in this area."))
    try:
        with transaction.atomic():
            open_ = (Consent.objects.select_for_update()
                     .filter(person=person, purpose=purpose, data_item=data_item,
                             revoked_at__isnull=True).first())
            if open_ is not None:
                if open_.is_active(now):
                    raise Conflict(_("This consent is already in force; revoke it first."))
                # An expired consent is closed at its expiry so the new one can open.
                open_.revoked_at = open_.expires_at
                open_.save(update_fields=["revoked_at"])
            consent = Consent.objects.create(
                person=person, purpose=purpose, purpose_text=purpose_text,
                data_item=data_item, granted_at=now, expires_at=expires_at,
                area_path=person.area_path,
            )
            audit_record(actor=actor, action="consent.grant", obj=consent,
                         detail={"person": person.pk, "purpose": purpose, "data_item": data_item,
                                 "expires_at": expires_at.isoformat() if expires_at else None})
    except IntegrityError:
        raise Conflict(_("This consent is already in force; revoke it first.")) from None
    return consent


def consent_revoke(*, actor, consent: Consent) -> Consent:
    _require(actor, "registry.change_person", consent.area_path,
             _("You may not revoke consents for persons in this area."))
    with transaction.atomic():
        fresh = Consent.objects.select_for_update().get(pk=consent.pk)
        if fresh.revoked_at is not None:
            raise Conflict(_("This consent is already revoked."))
        fresh.revoked_at = _now()
        fresh.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="consent.revoke", obj=fresh,
                     detail={"person": fresh.person_id, "purpose": fresh.purpose,
                             "data_item": fresh.data_item})
    return fresh
