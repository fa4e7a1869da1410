"""The newborn bundle end to end in Debian's Chromium: notice, prefilled form, submission,
the departments deciding in dependency order, certificates issued, the timeline complete."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def browser_login(page, username: str) -> None:
    # The root conftest's helper clicks the first submit button, which is now the
    # header's language switch; this one clicks the login form's own button.
    from zhili.core.seeding import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def test_newborn_end_to_end(browser_page, tmp_path):
    from zhili.accounts.models import User
    from zhili.bundles import selectors
    from zhili.bundles.demo import application_binding, sample_value
    from zhili.bundles.models import Application, ApplicationStatus, Task, TaskStatus
    from zhili.registry.models import Certificate

    page = browser_page
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF-1.4 browser test\n%%EOF\n")
    browser_login(page, "resident1")

    # The one notice: answer the situations, see matters and what the city holds.
    page.goto("/bundles/b/newborn/")
    page.check("input[name=s-subsidy][value=no]")
    page.click("#situations button[type=submit]")
    page.wait_for_selector("#notice")
    assert page.locator("[data-matter]").count() == 6
    assert page.locator("[data-material=birth-medical-certificate][data-state=produced]").count() == 1
    page.click("#start")

    # The one form: consent in the form, then the registry fills in what it holds.
    page.click("#give-consent")
    page.wait_for_selector("[data-prefilled=applicant-name]")
    assert page.input_value("#f-applicant-name") == "李明"
    user = User.objects.get(username="resident1")
    form = selectors.form_build(actor=user, bundle="newborn", answers={"subsidy": False})
    binding = application_binding(user)
    for field in form["fields"]:
        if field["prefilled"]:
            continue
        value = str(sample_value(field, binding))
        if field["kind"] == "choice":
            page.select_option(f"#f-{field['code']}", value)
        else:
            page.fill(f"#f-{field['code']}", value)
    assert page.locator("[data-material=marriage-certificate][data-state=reused]").count() == 1
    for material in form["materials"]:
        if material["state"] in ("upload", "held"):
            page.set_input_files(f"input[name=m-{material['code']}]", str(pdf))
    with page.expect_navigation():
        page.click("#submit")
    page.wait_for_selector("#app-status")
    application = Application.objects.get(applicant=user, bundle__code="newborn")
    assert page.locator("[data-task]").count() == 6

    # Departments decide in dependency order: each sees its task only once it is ready.
    # "Approve and issue" asks first (it cannot be undone); the officers say yes.
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    order = []
    for _ in range(6):
        ready = list(Task.objects.filter(application=application, status=TaskStatus.READY)
                     .select_related("matter", "department"))
        if not ready:
            break
        for task in ready:
            page.context.clear_cookies()
            browser_login(page, f"officer-{task.department.code}")
            page.goto("/bundles/inbox/")
            # The inbox also holds the demo applicants' newborn tasks: pick this application's.
            page.click(f"#inbox a[href='/bundles/tasks/{task.pk}/']")
            # confirm.js ends the page: a click before it has loaded submits unasked.
            page.wait_for_url(f"**/bundles/tasks/{task.pk}/", wait_until="load")
            with page.expect_navigation():
                page.click("#approve")
            assert page.locator("#decide").count() == 0  # decided: the buttons are gone
            assert page.locator(".messages li.error").count() == 0, page.inner_text(".messages")
            order.append(task.matter.code)
    assert len(asked) == len(order) and all(asked), asked
    statuses = dict(Task.objects.filter(application=application).values_list("matter__code", "status"))
    assert order[0] == "birth-medical-certificate", (order, statuses)
    assert set(statuses.values()) == {TaskStatus.APPROVED}, (order, statuses)
    assert order.index("household-birth-registration") < order.index("social-security-card-application")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED
    issued = set(Certificate.objects.filter(person=binding.person).values_list("cert_type", flat=True))
    assert {"birth-medical-certificate", "household-register", "social-security-card",
            "medical-insurance-certificate"} <= issued

    # The applicant's timeline is complete, with the certificate numbers.
    page.context.clear_cookies()
    browser_login(page, "resident1")
    page.goto(f"/bundles/applications/{application.pk}/")
    assert page.get_attribute("#app-status", "data-status") == ApplicationStatus.COMPLETED
    assert page.locator("[data-task][data-status=approved]").count() == 6
    assert page.locator("[data-output]").count() >= 4
