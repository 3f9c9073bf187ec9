"""The public portal in a real browser, without signing in: a resident files a case with their name, phone and ID
number; the public finds it from the home page through the portal, on the township's map and in its list, without any
of them; axe finds no serious or critical violation on any portal page; a 375-px screenshot of each is kept."""

import re

from conftest import TOWNSHIP
from test_journeys import check, counter, sign_up_at_submission, village_of

NAME = "欧阳娜娜"
PHONE = "13912345678"
ID_NUMBER = "330502198807076543"


def test_the_public_portal_shows_a_filed_case_without_its_personal_data(new_page, screenshot):
    resident = new_page()
    resident.goto("/report")
    resident.select_option("#unit", village_of(resident))
    resident.select_option("#kind", "service_request")
    resident.select_option("#category", "street_lighting")
    resident.fill("#description", f"路灯不亮了，我是{NAME}，电话{PHONE}，身份证{ID_NUMBER}。")
    resident.fill("#reporter_name", NAME)
    resident.fill("#reporter_contact", PHONE)
    resident.click("#report-form button[type=submit]")
    case = sign_up_at_submission(resident, f"resident-{next(counter)}-portal")
    assert PHONE in resident.content(), "the resident sees what they gave"

    public = new_page()
    public.goto("/")
    public.click("main a[href='/portal']")
    public.wait_for_url(re.compile(r"/portal$"))
    check(public, screenshot, "portal")

    public.click("a[href='/portal/rates']")
    check(public, screenshot, "portal-rates")
    public.goto("/portal/rates?lang=en")
    check(public, screenshot, "portal-rates-en")
    public.goto("/portal/rates?lang=zh-CN")

    public.goto("/portal/pilots")
    check(public, screenshot, "portal-pilots")
    pilots = public.locator("main a[href^='/portal/pilots/']")
    if pilots.count() > 0:
        pilots.first.click()
        public.wait_for_url(re.compile(r"/portal/pilots/\d+$"))
        check(public, screenshot, "portal-pilot")

    public.goto(f"/portal/units/{TOWNSHIP}")
    public.wait_for_selector("#map path.leaflet-interactive")
    public.wait_for_function("!document.getElementById('map').hasAttribute('data-loading')")
    check(public, screenshot, "portal-unit")
    feed = public.locator("link[rel=alternate][type='application/atom+xml']").get_attribute("href")
    assert feed == f"/portal/units/{TOWNSHIP}/feed.atom"
    row = public.locator(f"main a[href='/portal/cases/{case}']")
    assert row.count() == 1, "the newest case is on the first page of the list"
    # The case's dot is on the map, at its grid's centre.
    assert public.locator("#map .leaflet-overlay-pane path.leaflet-interactive").count() > 1
    row.click()
    public.wait_for_url(re.compile(rf"/portal/cases/{case}$"))
    check(public, screenshot, "portal-case")
    text = public.content()
    assert "路灯不亮了" in text
    for secret in (NAME, PHONE, ID_NUMBER):
        assert secret not in text, f"{secret} on the public case page"

    for path in ("/portal", f"/portal/units/{TOWNSHIP}", f"/portal/units/{TOWNSHIP}/feed.atom",
                 f"/portal/units/{TOWNSHIP}/cases.geojson", f"/portal/cases/{case}"):
        body = public.request.get(path).text()
        for secret in (NAME, PHONE, ID_NUMBER):
            assert secret not in body, f"{secret} in {path}"
    assert f"urn:grassroots:case:{case}" in public.request.get(f"/portal/units/{TOWNSHIP}/feed.atom").text()


def test_the_portal_works_without_javascript(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 812}, base_url=server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"/portal/units/{TOWNSHIP}")
        assert page.locator("#map").is_hidden(), "without JavaScript the map stays hidden"
        assert page.locator("main table a[href^='/portal/cases/']").count() > 0, "the list shows the same cases"
        page.goto("/portal/rates")
        assert page.locator("form[action='/portal/rates'] select[name=group]").count() == 1
    finally:
        context.close()
