"""Who may use the emergency app's admin pages: active staff who hold the page's
manage permission somewhere (the querysets then narrow to their area)."""

from zhili.core.scoping import scope_of


class ManagersOnly:
    """ModelAdmin mixin: every admin permission is "holds `manage_permission` somewhere"."""

    manage_permission: str

    def _manager(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_staff and not scope_of(user, self.manage_permission).empty

    def has_view_permission(self, request, obj=None):
        return self._manager(request)

    def has_module_permission(self, request):
        return self._manager(request)

    def has_add_permission(self, request):
        return self._manager(request)

    def has_change_permission(self, request, obj=None):
        return self._manager(request)
