"""The one form in Chromium: every `pattern` compiles as the browser compiles it (the `v`
flag), and a text file named .jpg as the ID card is refused beside it, the rest kept."""

from __future__ import annotations

import pytest

from zhili.bundles.tests.test_browser import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How the browser reads a pattern attribute (HTML: compiled with the v flag, anchored).
COMPILES = """els => els.map(e => { try { new RegExp("^(?:" + e.pattern + ")$", "v"); return null; }
                                   catch (err) { return e.name + ": " + err.message; } })
                          .filter(x => x)"""


def test_patterns_are_valid_and_a_bad_file_is_said_beside_its_material(browser_page, tmp_path):
    from zhili.accounts.models import User
    from zhili.bundles import selectors
    from zhili.bundles.demo import application_binding, sample_value

    page = browser_page
    browser_login(page, "resident1")
    page.goto("/bundles/b/newborn/apply/")
    if page.locator("#give-consent").count():
        page.click("#give-consent")
        page.wait_for_selector("[data-prefilled=applicant-name]")
    patterns = page.eval_on_selector_all("input[pattern]", COMPILES)
    assert page.locator("input[pattern]").count() >= 2
    assert patterns == []
    # The phone pattern is checked by the browser now: a letter makes the field invalid.
    page.fill("#f-applicant-phone", "13x00000000")
    assert page.eval_on_selector("#f-applicant-phone", "e => e.validity.patternMismatch")
    page.fill("#f-applicant-phone", "138-0000 0000")
    assert not page.eval_on_selector("#f-applicant-phone", "e => e.validity.patternMismatch")

    user = User.objects.get(username="resident1")
    form = selectors.form_build(actor=user, bundle="newborn")
    binding = application_binding(user)
    for field in form["fields"]:
        if field["prefilled"]:
            continue
        value = str(sample_value(field, binding))
        if field["kind"] == "choice":
            page.select_option(f"#f-{field['code']}", value)
        else:
            page.fill(f"#f-{field['code']}", value)
    page.fill("#f-child-name", "李小明")
    text = tmp_path / "id.jpg"
    text.write_text("not a picture at all")
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF-1.4 browser test\n%%EOF\n")
    uploads = [m["code"] for m in form["materials"] if m["state"] in ("upload", "held")]
    assert "id-card" in uploads
    for code in uploads:
        page.set_input_files(f"input[name=m-{code}]", str(text if code == "id-card" else pdf))
    with page.expect_navigation():
        page.click("#submit")
    page.wait_for_selector(".field-errors[data-error-for=m-id-card]")
    assert page.input_value("#f-child-name") == "李小明"
    for code in uploads:
        if code != "id-card":  # accepted before: kept, not to be chosen again
            assert page.locator(f"[data-kept={code}]").count() == 1, code
    page.screenshot(path=str(tmp_path / "bad-file.png"), full_page=True)
    page.set_input_files("input[name=m-id-card]", str(pdf))
    with page.expect_navigation():
        page.click("#submit")
    page.wait_for_selector("#app-status")
