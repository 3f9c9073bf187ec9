"""The web journeys in a real browser: a resident reports (from the village list, on the map, and by keyboard only),
the township caseworker accepts and replies, the resident rates; axe finds no serious or critical violation on any
page; a 375-px screenshot of each page is kept."""

import itertools
import re
import struct
import zlib

from axe_playwright_python.sync_playwright import Axe

from conftest import PASSWORD, TOWNSHIP

AXE = Axe()
counter = itertools.count()


def check(page, screenshot, name):
    """Axe on the page (no serious or critical violation), then its screenshot."""
    results = AXE.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in bad)
    screenshot(page, name)


def png(width=48, height=32):
    """A small PNG made by hand (no imaging library needed): an orange rectangle."""
    row = b"\x00" + bytes([230, 120, 30]) * width
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def sign_up_at_submission(page, name):
    """The report form asks for sign-in at submission; sign up there and the draft is filed."""
    page.wait_for_url(re.compile(r"/report$"))
    assert page.locator("form[action='/report/signup']").count() == 1
    page.fill("#new-name", name)
    page.fill("#new-password", PASSWORD)
    page.click("form[action='/report/signup'] button[type=submit]")
    page.wait_for_url(re.compile(r"/(cases/\d+|report/signup)$"))
    return file_anyway_if_asked(page)


def file_anyway_if_asked(page):
    """When open cases of the same category in the same place may be the same matter, the page offers them; these
    journeys report a different matter, so they file anyway."""
    if page.locator("form.file-anyway").count():
        page.click("form.file-anyway button[type=submit]")
        page.wait_for_url(re.compile(r"/cases/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def village_of(page):
    return page.locator(f"#unit option[value^='{TOWNSHIP}']").first.get_attribute("value")


def test_resident_reports_from_the_list_caseworker_accepts_and_replies_resident_rates(new_page, screenshot):
    resident = new_page()
    resident.goto("/")
    check(resident, screenshot, "home")
    resident.click("text=我要反映问题")
    resident.wait_for_url(re.compile(r"/report$"))
    check(resident, screenshot, "report")
    resident.select_option("#unit", village_of(resident))
    resident.select_option("#kind", "service_request")
    resident.select_option("#category", "road_repair")
    resident.fill("#description", "村口的路面塌了一个大坑，晚上很危险。")
    resident.click("#report-form button[type=submit]")
    check(resident, screenshot, "report-signin")
    case = sign_up_at_submission(resident, f"resident-{next(counter)}-list")
    check(resident, screenshot, "case-resident")
    assert "村口的路面塌了一个大坑" in resident.content()
    assert resident.locator("form[data-action='accept']").count() == 0

    worker = new_page()
    worker.goto("/signin")
    check(worker, screenshot, "signin")
    worker.fill("#name", "web-caseworker")
    worker.fill("#password", PASSWORD)
    worker.click("main button[type=submit]")
    worker.wait_for_url(re.compile(r"/$"))
    worker.goto("/cases")
    check(worker, screenshot, "queue")
    worker.goto(f"/cases/{case}")
    check(worker, screenshot, "case-caseworker")
    worker.click("form[data-action='accept'] button[type=submit]")
    worker.wait_for_selector("form[data-action='reply']")
    worker.fill("form[data-action='reply'] textarea[name=text]", "已安排施工队，三日内修复。")
    worker.click("form[data-action='reply'] button[type=submit]")
    worker.wait_for_selector("text=已安排施工队")
    worker.goto("/alerts")
    check(worker, screenshot, "alerts")

    resident.goto(f"/cases/{case}")
    resident.select_option("form[data-action='rate'] select[name=rating]", "satisfied")
    resident.click("form[data-action='rate'] button[type=submit]")
    try:
        resident.wait_for_function("document.querySelector('#case dl').innerText.includes('满意')", timeout=10000)
    except Exception:
        screenshot(resident, "rate-failed")
        raise AssertionError(resident.locator("#case").inner_text())
    resident.goto("/cases")
    check(resident, screenshot, "my-cases")
    resident.goto("/cases?lang=en")
    check(resident, screenshot, "my-cases-en")
    assert "My cases" in resident.content()


def test_resident_reports_on_the_map(new_page, screenshot):
    page = new_page()
    page.goto("/report")
    page.wait_for_selector("#map path.leaflet-interactive")
    page.wait_for_function("!document.getElementById('map').hasAttribute('data-loading')")
    village = village_of(page)
    grid = page.evaluate(
        """async (v) => {
            const r = await fetch('/map/areas.geojson?under=' + v);
            const data = await r.json();
            const ring = data.features[0].geometry.coordinates[0][0];
            return ring.map(([lon, lat]) => [lat, lon]);
        }""",
        village,
    )
    # Zoom to the grid as a resident would, then click its middle.
    page.evaluate("(ring) => window.grassrootsMap.fitBounds(ring, {animate: false})", grid)
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.input_value("#lat") != ""
    page.select_option("#category", "road_repair")
    # The category's questions come in by htmx; the answer rides through sign-up onto the case.
    page.wait_for_selector("#answer_hazard")
    page.select_option("#answer_hazard", "obstruction")
    page.fill("#description", "地图上标注的位置路灯杆倾斜。")
    page.set_input_files("#photos", files=[{"name": "pole.png", "mimeType": "image/png", "buffer": png()}])
    screenshot(page, "report-map")
    page.click("#report-form button[type=submit]")
    case = sign_up_at_submission(page, f"resident-{next(counter)}-map")
    assert "地图上标注的位置路灯杆倾斜" in page.content()
    assert "障碍物" in page.content(), "the answer to the category's question is on the case"
    assert case > 0
    # The photo came along through sign-up and shows as a thumbnail that the browser could decode.
    thumb = page.locator("ul.photos img").first
    thumb.wait_for()
    page.wait_for_function("document.querySelector('ul.photos img').naturalWidth > 0")
    assert page.evaluate("document.querySelector('ul.photos img').naturalWidth") == 48


def tab_to(page, selector, limit=200):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def choose_by_keyboard(page, selector, value, limit=400):
    for _ in range(limit):
        if page.eval_on_selector(selector, "e => e.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{selector} never reached {value}")


def test_a_keyboard_only_report(new_page):
    page = new_page()
    page.goto("/report?lang=en")
    village = village_of(page)
    tab_to(page, "#unit")
    choose_by_keyboard(page, "#unit", village)
    tab_to(page, "#category")
    choose_by_keyboard(page, "#category", "road_repair")
    tab_to(page, "#description")
    page.keyboard.type("Pothole reported with the keyboard alone.")
    tab_to(page, "#report-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/report$"))
    tab_to(page, "#new-name")
    page.keyboard.type(f"keyboard-{next(counter)}")
    tab_to(page, "#new-password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/(cases/\d+|report/signup)$"))
    if page.locator("form.file-anyway").count():
        tab_to(page, "form.file-anyway button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert "Pothole reported with the keyboard alone." in page.content()


def test_a_second_resident_adds_their_voice_instead_of_filing_again(new_page, screenshot):
    first = new_page()
    first.goto("/report")
    village = village_of(first)
    first.select_option("#unit", village)
    first.select_option("#category", "street_lighting")
    first.fill("#description", "小学门口的路灯坏了一周。")
    first.click("#report-form button[type=submit]")
    case = sign_up_at_submission(first, f"resident-{next(counter)}-first")

    second = new_page()
    second.goto("/report")
    second.select_option("#unit", village)
    second.select_option("#category", "street_lighting")
    second.fill("#description", "学校门口路灯不亮。")
    second.click("#report-form button[type=submit]")
    second.wait_for_url(re.compile(r"/report$"))
    second.fill("#new-name", f"resident-{next(counter)}-second")
    second.fill("#new-password", PASSWORD)
    second.click("form[action='/report/signup'] button[type=submit]")
    second.wait_for_selector("form.file-anyway")
    check(second, screenshot, "report-duplicates")
    assert "小学门口的路灯坏了一周" in second.content()
    second.click(f"form[action='/cases/{case}/act'] button[type=submit]")
    second.wait_for_url(re.compile(rf"/cases/{case}$"))
    check(second, screenshot, "case-co-signed")
    assert re.search(r"附议人数\s*1\b", second.locator("#case dl").inner_text())
    # The co-signer sees the case as the public does: not the first resident's account.
    assert "-first" not in second.locator("#case").inner_text()
    first.goto(f"/cases/{case}")
    assert re.search(r"附议人数\s*1\b", first.locator("#case dl").inner_text())
    assert "有居民附议" in first.locator(".timeline").inner_text()


def test_a_grid_worker_records_a_patrol_event_on_a_phone(new_page, screenshot):
    page = new_page()
    page.goto("/signin")
    page.fill("#name", "web-gridworker")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    page.click("a[href='/patrol']")
    page.wait_for_url(re.compile(r"/patrol$"))
    check(page, screenshot, "patrol")
    grid = page.locator("#grid option[value^='330502001']").first.get_attribute("value")
    page.select_option("#grid", grid)
    page.fill("#description", "巡查发现路边护栏损坏。")
    page.click("#patrol-form button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert "巡查发现路边护栏损坏" in page.content()
    case = page.url.rsplit("/", 1)[1]
    page.goto("/patrol")
    assert page.locator(f".patrols a[href='/cases/{case}']").count() == 1
