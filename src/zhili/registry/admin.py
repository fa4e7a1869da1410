"""Admin: read-only and masked, for city administrators.

Writes go through `registry.services` (API and pages), which validate,
check scope and audit; the admin would bypass all three, so it cannot add,
change or delete. It shows masked values only, so browsing it is not a
read of personal data (the reveal endpoints are). Nor can it be used to
search for one: filters, searches and orderings on the models'
`personal_fields` are refused (core.personal), so `?id_number=…` is a 400
whether or not such a number exists.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhili.core.personal import PersonalDataAdmin
from zhili.core.scoping import scope_of
from zhili.registry.masking import (
    mask_address,
    mask_certificate_number,
    mask_credit_code,
    mask_id_number,
    mask_name,
    mask_phone,
)
from zhili.registry.models import Certificate, Consent, Organisation, Person


class ReadOnlyScopedAdmin(PersonalDataAdmin):
    view_permission = "registry.view_person"
    # The admin is for city administrators: those who may also change the registry.
    admin_permission = "registry.change_person"
    ordering = ("-id",)

    def has_view_permission(self, request, obj=None):
        user = request.user
        return (user.is_active and user.is_staff
                and not scope_of(user, self.admin_permission).empty)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, self.view_permission)


@admin.register(Person)
class PersonAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "masked_name", "masked_id_number", "masked_phone", "household_no",
                    "grid", "updated_at")
    fields = readonly_fields = ("masked_name", "masked_id_number", "masked_phone",
                                "masked_address", "household_no", "grid", "area_path",
                                "created_at", "updated_at")
    list_select_related = ("grid",)
    list_filter = ("grid__parent__parent",)

    @admin.display(description=_("name"))
    def masked_name(self, obj):
        return mask_name(obj.name)

    @admin.display(description=_("identity number"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("address"))
    def masked_address(self, obj):
        return mask_address(obj.address)


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyScopedAdmin):
    view_permission = "registry.view_organisation"
    admin_permission = "registry.change_organisation"
    list_display = ("id", "name", "masked_credit_code", "masked_representative", "area")
    fields = readonly_fields = ("name", "masked_credit_code", "masked_representative", "address",
                                "area", "area_path", "created_at", "updated_at")
    list_select_related = ("area",)
    search_fields = ("name",)

    @admin.display(description=_("unified social credit code"))
    def masked_credit_code(self, obj):
        return mask_credit_code(obj.credit_code)

    @admin.display(description=_("legal representative"))
    def masked_representative(self, obj):
        return mask_name(obj.legal_representative)


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyScopedAdmin):
    view_permission = "registry.view_certificate"
    list_display = ("id", "cert_type", "masked_number", "department", "issued_on", "status")
    fields = readonly_fields = ("cert_type", "masked_number", "department", "issued_on",
                                "expires_on", "status", "revoked_at", "revoked_reason",
                                "area_path")
    list_select_related = ("department",)
    list_filter = ("cert_type", "status")

    @admin.display(description=_("number"))
    def masked_number(self, obj):
        return mask_certificate_number(obj.number)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyScopedAdmin):
    list_display = ("id", "person_id", "purpose", "data_item", "granted_at", "expires_at",
                    "revoked_at")
    fields = readonly_fields = ("person_id", "purpose", "purpose_text", "data_item",
                                "granted_at", "expires_at", "revoked_at", "area_path")
    list_filter = ("purpose", "data_item")
