from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect
from django.utils.translation import ngettext

from zhili.accounts.services import user_log_in


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if getattr(self.request, "login_throttled", False):
                minutes = max(1, settings.ZHILI_LOGIN_WINDOW_SECONDS // 60)
                raise forms.ValidationError(
                    ngettext(
                        "Too many failed attempts. Wait %(minutes)d minute and try again, "
                        "or ask an administrator.",
                        "Too many failed attempts. Wait %(minutes)d minutes and try again, "
                        "or ask an administrator.",
                        minutes,
                    ) % {"minutes": minutes},
                    code="throttled",
                ) from None
            raise


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user_log_in(request=self.request, user=form.get_user())  # audited
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(auth_views.LogoutView):
    pass
