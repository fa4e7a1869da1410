"""Start-up checks on what the apps declare: every grant names a real role."""

from django.core.checks import Error, register

from zhili.accounts.roles import Role
from zhili.core.plugins import registry


@register()
def grants_name_roles(app_configs, **kwargs):
    unknown = sorted(set(registry().role_permissions) - set(Role.values))
    return [Error(f"Permissions are granted to unknown role {role!r}.",
                  hint="Use a value of zhili.accounts.roles.Role.", id="zhili.E101")
            for role in unknown]
