"""One thing, one go (一件事一次办): the catalogue and the applications made from it.

Catalogue: data elements (shared field definitions), materials, matters (事项,
one department each, depending on other matters' outputs) and bundles (一件事)
with their situations (情形). Applications: one per submission, one task per
matter, a timeline of events, supplement requests and attachments.

Rows are written only by `bundles.services` (and the catalogue importer).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel


class ElementKind(models.TextChoices):
    TEXT = "text", _("Text")
    DATE = "date", _("Date")
    ID_NUMBER = "id_number", _("Identity number")
    CREDIT_CODE = "credit_code", _("Unified social credit code")
    PHONE = "phone", _("Phone")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")
    BOOL = "bool", _("Yes / no")


class DataElement(models.Model):
    """A field definition shared by every matter that asks for it (数据元)."""

    code = models.SlugField(max_length=48, unique=True)
    label = models.CharField(_("label"), max_length=64)
    label_en = models.CharField(_("English label"), max_length=96)
    kind = models.CharField(max_length=12, choices=ElementKind.choices, default=ElementKind.TEXT)
    max_length = models.PositiveSmallIntegerField(default=64)
    pattern = models.CharField(max_length=120, blank=True, help_text=_("A regular expression."))
    choices = models.JSONField(default=list, blank=True, help_text=_("For a choice: the values."))
    # The English label of each choice, in the same order; the value stored is the Chinese one.
    choices_en = models.JSONField(default=list, blank=True,
                                  help_text=_("For a choice: the values in English, in order."))
    # Which dates make sense: a birth or death lies in the past, a planned date may not.
    dates = models.CharField(_("dates allowed"), max_length=8, default="any",
                             choices=[("any", _("Any date")), ("past", _("Today or earlier")),
                                      ("future", _("Today or later"))])
    # Where the city already holds the value: a registry data item (person.name,
    # certificate:marriage-certificate …); prefilled only with the holder's consent.
    source = models.CharField(_("registry source"), max_length=64, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} · {self.label}"


class Medium(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic")
    PAPER = "paper", _("Paper")


class Material(models.Model):
    """A document a matter requires; the same row across matters is asked once."""

    code = models.SlugField(max_length=48, unique=True)
    name = models.CharField(max_length=96)
    name_en = models.CharField(max_length=128)
    # An e-certificate type that satisfies this material (the city already holds it).
    cert_type = models.SlugField(max_length=48, blank=True)
    medium = models.CharField(max_length=10, choices=Medium.choices, default=Medium.ELECTRONIC)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


# The catalogue's life events (a bundle's `life_event`), as people read them.
LIFE_EVENTS = {
    "birth": _("Having a child"), "education": _("Going to school"),
    "retirement": _("Retiring"), "death": _("After a death"), "veterans": _("Leaving the army"),
    "business": _("Running a business"), "disability": _("Living with a disability"),
    "housing": _("Moving in"), "other": _("Other"),
}


class Matter(models.Model):
    """An atomic service matter (事项) handled by one department."""

    code = models.SlugField(max_length=48, unique=True)
    name = models.CharField(max_length=96)
    name_en = models.CharField(max_length=128)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT,
                                   related_name="+")
    legal_basis = models.CharField(max_length=300, blank=True)
    legal_basis_en = models.CharField(max_length=300, blank=True)
    elements = models.ManyToManyField(DataElement, related_name="matters", blank=True)
    materials = models.ManyToManyField(Material, related_name="matters", blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("statutory limit (working days)"))
    promised_days = models.PositiveSmallIntegerField(_("promised limit (working days)"))
    fee = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    output_cert_type = models.SlugField(_("output e-certificate type"), max_length=48, blank=True)
    depends_on = models.ManyToManyField("self", symmetrical=False, related_name="dependants",
                                        blank=True)
    # Visits to a counter when done on its own (for the trips-saved metric).
    trips_alone = models.PositiveSmallIntegerField(default=1)
    online = models.BooleanField(_("can be done fully online"), default=True)
    source = models.CharField(max_length=300, blank=True, help_text=_("Where the facts come from."))
    assumed = models.CharField(max_length=300, blank=True,
                               help_text=_("Which details are assumed, not sourced."))

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Bundle(models.Model):
    """A one-thing scenario (一件事): matters done together after one notice and one form."""

    code = models.SlugField(max_length=48, unique=True)
    name = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128)
    life_event = models.CharField(max_length=32, db_index=True)
    audience = models.CharField(max_length=12, default="person",
                                choices=[("person", _("Person")),
                                         ("organisation", _("Organisation"))])
    description = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    lead_department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT,
                                        related_name="+")
    matters = models.ManyToManyField(Matter, through="BundleMatter", related_name="bundles")
    published = models.BooleanField(default=True)
    source = models.CharField(max_length=300, blank=True)
    assumed = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["life_event", "code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class BundleMatter(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["bundle", "matter"],
                                               name="bundle_matter_once")]

    def __str__(self):
        return f"{self.bundle_id}:{self.matter_id}"


class Situation(models.Model):
    """A plain-language yes/no question (情形); its matters apply only on `include_when`."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="situations")
    code = models.SlugField(max_length=48)
    question = models.CharField(max_length=160)
    question_en = models.CharField(max_length=200)
    default = models.BooleanField(default=True)
    include_when = models.BooleanField(default=True)
    matters = models.ManyToManyField(Matter, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["bundle", "code"],
                                               name="situation_code_once")]

    def __str__(self):
        return self.question


class ApplicantBinding(models.Model):
    """A user's real-name binding to their registry person (stand-in for real-name auth)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="+")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("registry.Organisation", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"{self.user_id} → person {self.person_id}"


class ApplicationStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    PARTLY_REJECTED = "partly_rejected", _("Completed, some matters rejected")


class Application(AreaScopedModel):
    """One submission of a bundle by one applicant; area_path is the applicant's."""

    reference = models.CharField(max_length=24, unique=True)
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    person = models.ForeignKey("registry.Person", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("registry.Organisation", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=64)
    answers = models.JSONField(default=dict)
    data = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.IN_PROGRESS, db_index=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["applicant", "idempotency_key"],
                                               name="application_idempotent")]

    def __str__(self):
        return self.reference


class TaskStatus(models.TextChoices):
    BLOCKED = "blocked", _("Waiting for other matters")
    READY = "ready", _("With the department")
    SUPPLEMENT = "supplement", _("Waiting for supplements")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cannot proceed")


OPEN_STATUSES = (TaskStatus.READY, TaskStatus.SUPPLEMENT)
DONE_STATUSES = (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.CANCELLED)


class Task(AreaScopedModel):
    """One matter of one application, handled by its department."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="tasks")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT,
                                   related_name="+")
    status = models.CharField(max_length=12, choices=TaskStatus.choices, db_index=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    output_number = models.CharField(max_length=64, blank=True)
    certificate = models.ForeignKey("registry.Certificate", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["application", "matter"],
                                               name="task_one_per_matter")]
        indexes = [models.Index(fields=["department", "status"])]

    def __str__(self):
        return f"{self.application_id}/{self.matter_id} {self.status}"

    @property
    def overdue(self) -> bool:
        return (self.status == TaskStatus.READY and self.due_at is not None
                and self.due_at < timezone.now())


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    READY = "ready", _("Sent to the department")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Supplements requested")
    SUPPLEMENT_ANSWERED = "supplement_answered", _("Supplements provided")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cannot proceed")
    OVERDUE = "overdue", _("Overdue: flagged to the lead department")
    COMPLETED = "completed", _("Application completed")


class Event(models.Model):
    """The applicant's timeline: one row per thing that happened to an application or task."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.application_id} {self.kind}"


class SupplementRequest(models.Model):
    """All missing items of one task asked in one request (一次性告知), answered once."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="supplements")
    items = models.JSONField(help_text=_("[{'kind': 'element'|'material'|'note', 'code', 'note'}]"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    answer = models.JSONField(default=dict, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["task"], condition=Q(answered_at__isnull=True),
                                               name="supplement_one_open_per_task")]

    def __str__(self):
        return f"task {self.task_id}: {len(self.items)} items"


def upload_path(instance, filename):
    return f"bundles/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A material: an uploaded file (checksummed) or an existing e-certificate reused."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="attachments")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    certificate = models.ForeignKey("registry.Certificate", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=upload_path, blank=True)
    filename = models.CharField(max_length=120, blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.material_id} {self.sha256[:12] or self.certificate_id}"
