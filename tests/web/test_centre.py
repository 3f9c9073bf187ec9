"""The pages of office heads, analysts and the centre in a real browser: the rate moves on the dashboard after a
resident rates a replied case; an office head's guardrail error appears on the policy page beside the layer; axe finds
no serious or critical violation on the dashboard, the policy and the pilots pages; a 375-px screenshot of each."""

import itertools
import re

from conftest import PASSWORD, TOWNSHIP
from test_journeys import check, sign_up_at_submission, village_of

counter = itertools.count()


def sign_in(page, name):
    page.goto("/signin")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def coverage(page, village):
    """The feedback coverage of the village on the dashboard, as the page shows it."""
    page.goto("/dashboard?group=village")
    row = page.locator(f"#rates-table tr[data-code='{village}']")
    return row.locator("td.coverage").inner_text().strip()


def test_the_rate_moves_on_the_dashboard_after_the_resident_rates(new_page, screenshot):
    head = new_page()
    sign_in(head, "web-head")
    head.click("header >> text=统计看板")
    head.wait_for_url(re.compile(r"/dashboard$"))
    check(head, screenshot, "dashboard")

    resident = new_page()
    resident.goto("/report")
    village = village_of(resident)
    resident.select_option("#unit", village)
    resident.select_option("#kind", "service_request")
    resident.select_option("#category", "road_repair")
    resident.fill("#description", "路边排水沟堵塞，雨天积水。")
    resident.click("#report-form button[type=submit]")
    case = sign_up_at_submission(resident, f"resident-{next(counter)}-centre")

    worker = new_page()
    sign_in(worker, "web-caseworker")
    worker.goto(f"/cases/{case}")
    worker.click("form[data-action='accept'] button[type=submit]")
    worker.wait_for_selector("form[data-action='reply']")
    worker.fill("form[data-action='reply'] textarea[name=text]", "已清理排水沟。")
    worker.click("form[data-action='reply'] button[type=submit]")
    worker.wait_for_selector("text=已清理排水沟")

    before = coverage(head, village)
    resident.goto(f"/cases/{case}")
    resident.select_option("form[data-action='rate'] select[name=rating]", "satisfied")
    resident.click("form[data-action='rate'] button[type=submit]")
    resident.wait_for_function("document.querySelector('#case dl').innerText.includes('满意')", timeout=10000)
    after = coverage(head, village)
    assert before != after, f"the feedback coverage of {village} stayed {before}"


def test_an_office_heads_guardrail_error_appears_on_the_policy_page(new_page, screenshot):
    head = new_page()
    sign_in(head, "web-head")
    head.click("header >> text=政策")
    head.wait_for_url(re.compile(r"/policy$"))
    check(head, screenshot, "policy")
    head.fill("#layer", "[clocks.petition]\nhandle_days = 365\n")
    head.click("#layer-form button[type=submit]")
    error = head.locator("#layer-error [data-guardrail='statute-petition-handling']")
    error.wait_for()
    text = error.inner_text()
    assert "the statute" in text and "Art. 34" in text, text
    assert head.locator("#layer[aria-invalid='true']").count() == 1
    check(head, screenshot, "policy-refused")


def test_the_pilots_and_practices_page(new_page, screenshot):
    head = new_page()
    sign_in(head, "web-head")
    head.click("header >> text=试点")
    head.wait_for_url(re.compile(r"/pilots$"))
    check(head, screenshot, "pilots")
    assert head.locator("#practices").count() == 1
    head.goto(f"/policy?unit={TOWNSHIP}&key=clocks.petition")
    check(head, screenshot, "policy-explain")
