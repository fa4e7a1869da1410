"""Pages for the people a warning reaches, on a phone.

`/warning/r/<token>/` is the link in a responsible person's SMS: no password,
the signed token (notifications/acklinks.py) names their delivery. It shows the
warning and what to do at its level, one button to acknowledge (the first press
counts: the link is single-use for that), and a form to report the action
taken, open until the link expires. `/warning/mine/` is the same for a
logged-in recipient.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhili.core.errors import ApplicationError, NotFound, ValidationFailed
from zhili.core.forms import form_errors
from zhili.notifications.acklinks import ack_token
from zhili.notifications.selectors import delivery_for_link
from zhili.notifications.services import delivery_acknowledge
from zhili.warning import selectors
from zhili.warning.handling import warning_acknowledge, warning_action_report
from zhili.warning.models import Warning


def measures_for(warning: Warning) -> dict:
    point = warning.risk_point
    shown = str(warning.level or warning.peak_level or 1)  # a closed one: its peak's measures
    return (point.measures or {}).get(shown) or point.category.measures.get(shown, {})


def _private(response):
    response["Cache-Control"] = "no-store"
    # The token is in the URL: never sent to another host. Not "no-referrer": with it
    # the browser sends "Origin: null" on the form POST and the CSRF check refuses it.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "POST"])
def responder(request, token: str):
    state, delivery = delivery_for_link(token)
    about_warning = delivery is not None and delivery.message.object_type == "warning.warning"
    if about_warning and request.method == "POST" and request.POST.get("action") != "report":
        # "I have received this": the press needs nothing of the warning here (the
        # receiver reads what it must, warning/reach.py); the page after it shows it.
        try:
            if delivery.acknowledged_at is None:
                delivery_acknowledge(delivery=delivery, via="link")
        except ApplicationError as exc:
            messages.error(request, exc.detail or exc.title)
        return redirect(request.path)
    warning = None
    if about_warning:
        warning = (Warning.objects.select_related("risk_point__category", "risk_point__grid")
                   .filter(pk=delivery.message.object_id).first())
    if warning is None:
        state = "invalid" if state == "ok" else state
        return _private(render(request, "warning/responder.html", {"state": state},
                               status=410 if state == "expired" else 404))
    errors = {}
    if request.method == "POST":
        try:
            if delivery.acknowledged_at is None:  # reporting an action says "received" too
                delivery = delivery_acknowledge(delivery=delivery, via="link")
            if request.POST.get("action") == "report":
                warning_action_report(warning=warning, text=request.POST.get("text", ""),
                                      person_id=delivery.person_id)
                messages.success(request, _("Thank you: your report is on the warning's timeline."))
            return redirect(request.path)
        except ValidationFailed as exc:
            errors = form_errors(exc, ["text"])
        except (ApplicationError, NotFound) as exc:
            messages.error(request, exc.detail or exc.title)
            return redirect(request.path)
    others = []
    if delivery.person_id:
        others = [(w, ack_token(d), at) for w, d, at in
                  selectors.person_open_warnings(person_id=delivery.person_id,
                                                 exclude_warning=warning.pk)]
    reports = warning.events.filter(kind="action_reported").order_by("at", "id")
    return _private(render(request, "warning/responder.html", {
        "state": "ok", "warning": warning, "point": warning.risk_point, "delivery": delivery,
        "measures": measures_for(warning), "others": others, "reports": reports,
        "errors": errors, "text": request.POST.get("text", "") if errors else "",
        "is_open": warning.status in Warning.OPEN}, status=422 if errors else 200))


@login_required
@require_http_methods(["GET", "POST"])
def mine(request):
    """The logged-in recipient's open warnings: acknowledge, report the action taken."""
    errors, failed_number = {}, ""
    if request.method == "POST":
        number = request.POST.get("warning", "")[:24]
        target = next((w for w, _acked in selectors.my_warnings(actor=request.user)
                       if w.number == number), None)
        if target is None:
            messages.error(request, _("That warning is not one of yours, or it is closed."))
            return redirect(request.path)
        try:
            if request.POST.get("action") == "report":
                warning_acknowledge(actor=request.user, warning=target)
                warning_action_report(warning=target, text=request.POST.get("text", ""),
                                      actor=request.user)
                messages.success(request, _("Your report is on warning %(n)s's timeline.")
                                 % {"n": number})
            else:
                warning_acknowledge(actor=request.user, warning=target)
                messages.success(request, _("Warning %(n)s acknowledged.") % {"n": number})
            return redirect(request.path)
        except ValidationFailed as exc:
            errors, failed_number = form_errors(exc, ["text"]), number
        except ApplicationError as exc:
            messages.error(request, exc.detail or exc.title)
            return redirect(request.path)
    rows = [(w, acked, measures_for(w)) for w, acked in selectors.my_warnings(actor=request.user)]
    return render(request, "warning/mine.html", {"rows": rows, "errors": errors,
                                                 "failed_number": failed_number},
                  status=422 if errors else 200)
