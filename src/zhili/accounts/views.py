from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from zhili.accounts.services import user_language_set, user_log_in
from zhili.core.errors import ApplicationError
from zhili.core.forms import form_errors
from zhili.core.middleware import LanguageCookieMiddleware


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


def language_on_login(sender, request, user, **kwargs):
    """A user who set a language reads pages in it after logging in (the cookie is set on
    the login's response); one who did not keeps the language switcher's choice."""
    language = getattr(user, "language", "")
    if request is not None and language:
        request.language_chosen = language
    if request is not None and hasattr(request, "session"):
        # What this session applied: a language set later elsewhere (the API, the
        # admin) differs from it and reaches the next page (LanguageCookieMiddleware).
        request.session[LanguageCookieMiddleware.SESSION_KEY] = language


class LogoutView(auth_views.LogoutView):
    pass


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """Your account: who you are, and the language of your pages and notifications."""
    user, errors = request.user, {}
    if request.method == "POST":
        try:
            user_language_set(actor=user, user=user, language=request.POST.get("language", ""))
        except ApplicationError as exc:
            errors = form_errors(exc, ["language"])
        else:
            # The cookie LocaleMiddleware reads (core.middleware.LanguageCookieMiddleware).
            request.language_chosen = user.language or settings.LANGUAGE_CODE
            with translation.override(request.language_chosen):
                messages.success(request, _("Saved: pages and notifications now use this "
                                            "language."))
            return HttpResponseRedirect(reverse("accounts:profile"))
    platform = translation.get_language_info(settings.LANGUAGE_CODE)["name_local"]
    choices = [("", _("The platform's language (%(name)s)") % {"name": platform})]
    choices += [(code, translation.get_language_info(code)["name_local"])
                for code, _label in settings.LANGUAGES]
    return render(request, "accounts/profile.html", {
        "choices": choices, "current": user.language, "errors": errors,
        "assignments": user.active_assignments(),
    }, status=422 if errors else 200)
