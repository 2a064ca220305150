"""test_browser.py -- joinedreview-web in a real browser.

Debian's chromium, headless, driven through chromium-driver by
python3-selenium, against the real service over TLS, the real daemon
(--today fixed) and the six streams' real adapters on their sample exports,
plus a few events pushed with `joinedreview push`: persons whose reviews are
overdue by different lengths, a statement holding markup, a parked event.

Each role signs in through the form. The checks use literal values: the
worklist's persons in their order, the statements a stream officer must not
read, the markup shown as text, 403 for the wrong role, the sign-in page
without a session, the review pack printed to PDF by chromium and read back
with pdftotext, and basic accessibility on every page seen: a lang, one h1,
headings in order, a label for every field, text alternatives.
"""
import argparse
import base64
import http.client
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.print_page_options import PrintOptions
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import World  # noqa: E402

ARGS = None
WORLD = None
DRIVERS = {}

DANIEL = "9434765919"
MARKUP = '<script>document.title="pwned";window.pwned=1</script><b>bold</b> & more'

# Persons enrolled in social care whose reviews are overdue by different
# lengths on 2026-11-20, or due that day: SC reviews every 365 days.
EXTRA = [
    ("4000010107", "2024-06-01"),  # due 2025-06-01: overdue over 12 months
    ("4000010204", "2025-10-01"),  # due 2026-10-01: overdue up to 6 months
    ("4000010301", "2025-11-20"),  # due 2026-11-20: due today
    ("4000010409", "2025-11-10"),  # due 2026-11-10: overdue up to 4 weeks
]

SC_WORKLIST = ["400 001 0107", "400 001 0204", "400 001 0409", "400 001 0301",
               "943 476 5919", "999 765 4323"]
# The names they want to be called (their review preferences: pushed for the
# first, from social care's sample for Daniel and Michael); the NHS number
# where nobody has given a name. Markup in a name is text.
NAME_MARKUP = "<b>Bo</b> & co"
SC_NAMES = [NAME_MARKUP, "400 001 0204", "400 001 0409", "400 001 0301", "Dan", "Michael"]
SC_BANDS = ["Overdue over 12 months (1)", "Overdue up to 6 months (1)",
            "Overdue up to 4 weeks (1)", "Due today (1)", "Coming up within 28 days (1)",
            "Coming up within 56 days (1)"]

AREAS = ["1. Support/assistance / Advocacy / Peer support",
         "2. Family and relationships / Having choices & taking risks",
         "3. Income and benefits", "4. Keeping healthy / Feeling safe",
         "5. Information / Education and training / Employment", "6. Active citizenship",
         "7. Access to goods and services / Leisure", "8. Housing / Equipment / Transport",
         "Anything else?"]
PLAN_QUESTIONS = ["When will you revise your support plan (if necessary)?",
                  "Who will do this?", "Will anyone need to OK these changes?"]

ACCESSIBILITY = r"""
var problems = [];
var lang = document.documentElement.getAttribute('lang');
if (!lang) problems.push('no lang');
var h1 = document.querySelectorAll('h1').length;
if (h1 !== 1) problems.push(h1 + ' h1 elements');
var last = 0;
document.querySelectorAll('h1,h2,h3,h4,h5,h6').forEach(function (h) {
  var level = parseInt(h.tagName.substring(1), 10);
  if (level > last + 1) problems.push('heading ' + h.tagName + ' after h' + last + ': ' + h.textContent);
  last = level;
});
document.querySelectorAll('input,select,textarea').forEach(function (f) {
  var t = (f.getAttribute('type') || '').toLowerCase();
  if (t === 'hidden' || t === 'submit' || t === 'button') return;
  if ((f.labels && f.labels.length > 0) || f.getAttribute('aria-label') ||
      f.getAttribute('aria-labelledby')) return;
  problems.push('no label for ' + (f.id || f.name));
});
document.querySelectorAll('img').forEach(function (i) {
  if (!i.hasAttribute('alt')) problems.push('img without alt: ' + i.src);
});
document.querySelectorAll('button,a').forEach(function (b) {
  if (!b.textContent.trim() && !b.getAttribute('aria-label')) problems.push('empty ' + b.tagName);
});
document.querySelectorAll('table').forEach(function (t) {
  if (!t.querySelector('th')) problems.push('table without headers');
});
return problems;
"""


def event(stream, seid, at, nhs=None, local=None, **body):
    import json
    e = {"stream": stream, "id": seid, "at": at}
    if nhs:
        e["nhs"] = nhs
    if local:
        e["local"] = local
    e.update(body)
    return json.dumps(e)


def free_port():
    """A loopback port free now, for the daemon's metrics endpoint."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setUpModule():
    global WORLD
    WORLD = World(ARGS, "web_browser")
    try:
        WORLD.database()
        WORLD.metrics_port = free_port()
        WORLD.daemon(["--set", "daemon.metrics_port=%d" % WORLD.metrics_port,
                      "--set", "stream.SC.underspend=carried_forward"])
        WORLD.adapters()
        lines = [event("SC", "sc-w-%d" % i, "2026-11-01T10:00:00Z", nhs=nhs,
                       enrolment={"started_on": "2022-01-10", "last_review_on": last})
                 for i, (nhs, last) in enumerate(EXTRA)]
        lines.append(event("SC", "sc-markup", "2026-11-12T10:00:00Z", nhs=DANIEL,
                           contribution={"topic": "OTHER", "role": "PERSON", "working": MARKUP,
                                         "author_name": "Daniel <i>Okafor</i>"}))
        lines.append(event("SC", "sc-pref-markup", "2026-11-12T10:00:00Z", nhs=EXTRA[0][0],
                           preferences={"way": "WAY_WITH_OTHERS", "called": NAME_MARKUP,
                                        "where": MARKUP, "needs": ["NEED_LARGE_PRINT"]}))
        lines.append(event("SP", "sp-parked-1", "2026-11-15T09:00:00Z", local="SP-CL-9999",
                           contribution={"topic": "HOUSING", "role": "STREAM_OFFICER",
                                         "working": "Tenancy sustained."}))
        out = WORLD.push(lines)
        assert "ok 6" in out and "parked 1" in out, out
        crt, key = WORLD.certificate()
        conf = WORLD.config(["listen_address = 127.0.0.1", "port = 0",
                             "tls_cert_file = " + crt, "tls_key_file = " + key,
                             "accounts_file = " + os.path.join(WORLD.dir, "accounts"),
                             "database = " + WORLD.web_login(), "threads = 2",
                             "login_failures = 3", "login_pause_s = 60",
                             "daemon_metrics = 127.0.0.1:%d" % WORLD.metrics_port])
        WORLD.account(conf, "priya", "scheduler", "SC")
        WORLD.account(conf, "sam", "scheduler", "SP", "ICES")
        WORLD.account(conf, "adam", "stream-officer", "ATW")
        WORLD.account(conf, "dora", "data-officer", "SP")
        WORLD.account(conf, "ana", "analyst")
        WORLD.web(conf)
    except BaseException:
        WORLD.stop()
        raise


def tearDownModule():
    for d in DRIVERS.values():
        d.quit()
    bad = WORLD.stop()
    # The service and the daemon end cleanly on SIGTERM: under the
    # sanitizers that also says they leaked nothing.
    if bad:
        raise AssertionError("; ".join(bad) + " (logs in %s)" % WORLD.dir)


def browser(role):
    """A headless chromium of its own for each role: its own cookies."""
    if role in DRIVERS:
        return DRIVERS[role]
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium-", dir=WORLD.dir),
              "--ignore-certificate-errors-spki-list=" + WORLD.spki):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(120)
    DRIVERS[role] = d
    return d


def sign_in(name):
    d = browser(name)
    d.get(WORLD.url + "/login")
    if "/login" not in d.current_url:
        return d  # still signed in
    d.find_element(By.ID, "name").send_keys(name)
    d.find_element(By.ID, "password").send_keys(WORLD.passwords[name])
    d.find_element(By.CSS_SELECTOR, "form.signin button").click()
    WebDriverWait(d, 120).until(lambda x: "/login" not in x.current_url)
    return d


def problem(d):
    """The problem the sign-in page states, once it is there."""
    WebDriverWait(d, 120).until(lambda x: x.find_elements(By.CSS_SELECTOR, ".problem"))
    return d.find_element(By.CSS_SELECTOR, ".problem").text


def page(d, path):
    d.get(WORLD.url + path)
    problems = d.execute_script(ACCESSIBILITY)
    assert problems == [], "%s: %s" % (path, problems)
    return d


def fetch(path, cookies=(), method="GET", body=None, headers=None):
    """A request outside the browser, with the browser's cookies: the status."""
    u = urllib.parse.urlsplit(WORLD.url)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
    h = dict(headers or {})
    if cookies:
        h["Cookie"] = "; ".join("%s=%s" % (k["name"], k["value"]) for k in cookies)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    text = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, text, r


class Browser(unittest.TestCase):
    def test_no_session_gets_the_sign_in_page(self):
        d = browser("nobody")
        for path in ("/worklist", "/person/" + DANIEL, "/desk", "/aggregates"):
            page(d, path)
            self.assertTrue(d.current_url.endswith("/login"), d.current_url)
            self.assertEqual(d.find_element(By.TAG_NAME, "h1").text, "Sign in")

    def test_scheduler_worklist_lists_persons_in_review_date_order(self):
        d = page(sign_in("priya"), "/worklist")
        nhs = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.nhs")]
        self.assertEqual(nhs, SC_WORKLIST)
        bands = [h.text for h in d.find_elements(By.CSS_SELECTOR, "main h2")]
        self.assertEqual(bands, SC_BANDS)
        names = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.name")]
        self.assertEqual(names, SC_NAMES)
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "table.worklist td.name b"), [])
        ways = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.way")]
        self.assertEqual(ways, ["With others having their review at the same time; Large print",
                                "Not recorded", "Not recorded", "Not recorded",
                                "Completes the review format first, then meets",
                                "A meeting; Easy read; An advocate"])
        missing = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.missing")]
        self.assertEqual(missing[4], "ATW, SC")
        page(d, "/worklist?band=overdue-4w")
        nhs = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.nhs")]
        self.assertEqual(nhs, ["400 001 0409"])
        page(d, "/worklist?stream=DFG")
        nhs = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.nhs")]
        self.assertEqual(nhs, ["943 476 5919"])

    def test_the_persons_way_filters_the_worklist(self):
        d = page(sign_in("priya"), "/worklist?way=themselves-first")
        names = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.name")]
        self.assertEqual(names, ["Dan"])
        page(d, "/worklist?way=easy-read")
        nhs = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.nhs")]
        self.assertEqual(nhs, ["999 765 4323"])
        page(d, "/worklist?way=large-print")
        nhs = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.nhs")]
        self.assertEqual(nhs, ["400 001 0107"])
        page(d, "/worklist?way=interpreter")
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "table.worklist td.nhs"), [])
        self.assertIn("No joined-up reviews match.", d.find_element(By.TAG_NAME, "main").text)
        # Supporting People leads the reviews of three tenants of Rosewood
        # Court who want theirs with others: two fall within 56 days.
        d = page(sign_in("sam"), "/worklist?way=with-others")
        names = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.name")]
        self.assertEqual(names, ["Bert", "Mabel"])
        self.assertEqual(fetch("/worklist?way=telepathy", d.get_cookies())[0], 400)

    def test_how_they_want_their_review_and_their_budgets(self):
        d = page(sign_in("priya"), "/person/" + DANIEL)
        way = d.find_element(By.CSS_SELECTOR, "dl.preferences").text
        for line in ("Completes the review format first, then meets",
                     "At home, after 5pm on a work day", "Grace (partner)", "Dan"):
            self.assertIn(line, way)
        self.assertNotIn("Not recorded yet", d.find_element(By.TAG_NAME, "main").text)
        rows = [[c.text for c in tr.find_elements(By.CSS_SELECTOR, "th, td")]
                for tr in d.find_elements(By.CSS_SELECTOR, "table[aria-labelledby=budgets] tbody tr")]
        self.assertEqual(rows, [
            ["Disabled Facilities Grants", "20 April 2026 to 14 July 2026", "\u00a330,000.00",
             "\u00a327,450.00", "\u00a32,550.00", "no agreed rule"],
            ["Social Care", "1 April 2026 to 31 March 2027", "\u00a314,560.00",
             "\u00a313,982.50", "\u00a3577.50", "carried forward in the person's budget"]])
        # A BSL interpreter and easy read, from Access to Work (by NI number).
        d = page(sign_in("sam"), "/person/9992345675")
        self.assertEqual(d.find_element(By.TAG_NAME, "h1").text, "Review of Aisha")
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "dl.preferences dd.needs").text,
                         "Easy read, A BSL interpreter")
        # A group review's place, for the lead's scheduler.
        page(d, "/person/9994567802")
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "dl.preferences dd.group").text,
                         "Rosewood Court sheltered housing")
        # Markup in where the person wants it is text.
        d = page(sign_in("priya"), "/person/4000010107")
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "h1").text, "Review of " + NAME_MARKUP)
        self.assertIn(MARKUP, d.find_element(By.CSS_SELECTOR, "dl.preferences").text)
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "dl.preferences b, main script"), [])
        self.assertIsNone(d.execute_script("return window.pwned"))

    def test_stream_officer_reads_only_the_streams_minimum(self):
        d = page(sign_in("adam"), "/worklist")
        nhs = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.worklist td.nhs")]
        self.assertEqual(nhs, ["943 476 5919"])
        page(d, "/person/" + DANIEL)
        text = d.find_element(By.TAG_NAME, "main").text
        for absent in ("The spasms in my legs are worse at night",      # HEALTH
                       "My pressure areas have healed",                  # HEALTH
                       "The ramp to the front door is too steep",        # HOUSING
                       "Level-access shower",                            # HOUSING
                       "I'd like a short break now and then",            # FAMILY
                       "wheelchair basketball",                          # LEISURE
                       "window.pwned",                                   # OTHER
                       "Transfer board and shower chair"):               # SAFETY
            self.assertNotIn(absent, text)
            self.assertNotIn(absent.replace("'", "&#39;"), d.page_source)
        for present in ("Taxi fares to and from work",                  # TRANSPORT
                        "Receives PIP (enhanced mobility)",             # INCOME
                        "I know who to ring at the council",            # INFORMATION
                        "Morning calls at 7.30 every day",              # SUPPORT
                        "Height-adjustable desk",                       # EQUIPMENT
                        "payroll officer",                              # EMPLOYMENT
                        "Priya Shah, care coordinator",                 # the plan revision
                        "Completes the review format first, then meets"):  # preferences
            self.assertIn(present, text)
        # Budgets are not in a stream's minimum information.
        for absent in ("Budgets and underspend", "\u00a314,560.00", "\u00a330,000.00"):
            self.assertNotIn(absent, text)
        self.assertIn("Not shared with Access to Work", text)
        streams = [th.text for th in d.find_elements(By.CSS_SELECTOR, "table[aria-labelledby=minimum] th[scope=row]")]
        self.assertEqual(streams, ["Access to Work"])
        self.assertEqual(fetch("/person/" + DANIEL + "/pack", d.get_cookies())[0], 403)

    def test_markup_in_a_statement_shows_as_text_and_runs_nothing(self):
        d = page(sign_in("priya"), "/person/" + DANIEL)
        said = [s.text for s in d.find_elements(By.CSS_SELECTOR, "#area-9 .said")]
        self.assertEqual(said, [MARKUP])
        self.assertIn("Daniel <i>Okafor</i>, the person (SC)",
                      d.find_element(By.CSS_SELECTOR, "#area-9 .who").text)
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "#area-9 b, #area-9 i, main script"), [])
        self.assertIsNone(d.execute_script("return window.pwned"))
        self.assertEqual(d.title, "Review of Dan - joinedreview")
        notices = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table[aria-labelledby=notices] td:nth-child(2)")]
        self.assertEqual(notices, ["28 days ahead"])
        rows = WORLD.psql("SELECT count(*) FROM web_audit WHERE account = 'priya' "
                          "AND nhs_number = '%s' AND page = 'review'" % DANIEL)
        self.assertGreaterEqual(int(rows), 1)

    def test_the_wrong_role_gets_403(self):
        cases = {"ana": ["/worklist", "/person/" + DANIEL, "/desk"],
                 "dora": ["/worklist", "/person/" + DANIEL, "/aggregates", "/metrics"],
                 "adam": ["/desk", "/aggregates"],
                 "priya": ["/desk", "/aggregates", "/metrics"]}
        for who, paths in cases.items():
            cookies = sign_in(who).get_cookies()
            for path in paths:
                self.assertEqual(fetch(path, cookies)[0], 403, "%s %s" % (who, path))

    def test_session_cookie_and_forms(self):
        d = sign_in("priya")
        c = [k for k in d.get_cookies() if k["name"] == "__Host-jr_session"]
        self.assertEqual(len(c), 1)
        self.assertTrue(c[0]["httpOnly"])
        self.assertTrue(c[0]["secure"])
        self.assertEqual(c[0]["sameSite"], "Strict")
        status, _, r = fetch("/worklist", d.get_cookies())
        self.assertEqual(status, 200)
        csp = r.getheader("Content-Security-Policy")
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.getheader("Referrer-Policy"), "no-referrer")
        # A sign-in or sign-out form without its token is refused.
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        self.assertEqual(fetch("/login", (), "POST", "name=priya&password=x", form)[0], 400)
        self.assertEqual(fetch("/logout", d.get_cookies(), "POST", "csrf=00", form)[0], 400)
        self.assertEqual(fetch("/worklist", d.get_cookies())[0], 200)

    def test_review_pack_prints_the_eight_areas_on_a4(self):
        d = page(sign_in("priya"), "/person/" + DANIEL + "/pack")
        opts = PrintOptions()
        opts.page_width = 21.0
        opts.page_height = 29.7
        pdf = os.path.join(WORLD.dir, "pack.pdf")
        with open(pdf, "wb") as f:
            f.write(base64.b64decode(d.print_page(opts)))
        text = subprocess.run(["pdftotext", "-layout", pdf, "-"], check=True,
                              capture_output=True, text=True).stdout
        flat = " ".join(text.split())
        for title in AREAS + PLAN_QUESTIONS:
            self.assertIn(title, flat)
        self.assertIn("Your review", flat)
        self.assertIn("The ramp to the front door is too steep", flat)
        self.assertNotIn("Sign out", flat)  # the page's header does not print
        page(d, "/person/" + DANIEL + "/pack?print=large")
        self.assertIn("large-print", d.find_element(By.TAG_NAME, "body").get_attribute("class"))

    def test_data_officer_desk(self):
        d = page(sign_in("dora"), "/desk")
        text = d.find_element(By.TAG_NAME, "main").text
        self.assertIn("INVALID_NHS_NUMBER", text)
        self.assertIn("NHS number '999 345 6781' is not valid: the check digit is wrong", text)
        self.assertIn("sp-parked-1", text)
        self.assertIn("SP-CL-9999", text)
        self.assertIn("Events waiting: 1.", text)

    def test_analyst_sees_counts_only(self):
        d = page(sign_in("ana"), "/aggregates")
        text = d.find_element(By.TAG_NAME, "main").text
        self.assertIsNone(re.search(r"\b\d{3} ?\d{3} ?\d{4}\b", text))
        self.assertIn("Minimum information by funding stream", text)
        status, body, r = fetch("/metrics", d.get_cookies())
        self.assertEqual(status, 200)
        self.assertIn('joinedreview_parked_events{stream="SP"} 1', body)
        self.assertIn('joinedreview_rejected_messages{stream="SP",reason="INVALID_NHS_NUMBER"} 1',
                      body)
        self.assertIn('joinedreview_reviews_overdue{stream="SC"} 3', body)
        # The daemon's own figures, read from its loopback endpoint: the
        # push of setUpModule was acknowledged 5 OK and 1 PARKED at least
        # (the adapters' sample rows came before), each batch timed.
        self.assertIn("joinedreview_web_daemon_up 1", body)
        ok = re.search(r'^joinedreviewd_acks_total\{status="ok"\} (\d+)$', body, re.M)
        self.assertIsNotNone(ok, body)
        self.assertGreaterEqual(int(ok.group(1)), 5)
        parked = re.search(r'^joinedreviewd_acks_total\{status="parked"\} (\d+)$', body, re.M)
        self.assertGreaterEqual(int(parked.group(1)), 1)
        batches = re.search(r'^joinedreviewd_batch_commit_seconds_count (\d+)$', body, re.M)
        self.assertGreater(int(batches.group(1)), 0)
        self.assertEqual(fetch("/metrics")[0], 401)

    def test_z_repeated_failures_pause_sign_in(self):
        # Last: the pause holds for the address, which every test shares.
        d = browser("mallory")
        for _ in range(3):
            d.get(WORLD.url + "/login")
            d.find_element(By.ID, "name").send_keys("ana")
            d.find_element(By.ID, "password").send_keys("not the password")
            d.find_element(By.CSS_SELECTOR, "form.signin button").click()
            self.assertIn("The name or the password is not right", problem(d))
        d.get(WORLD.url + "/login")
        d.find_element(By.ID, "name").send_keys("ana")
        d.find_element(By.ID, "password").send_keys(WORLD.passwords["ana"])
        d.find_element(By.CSS_SELECTOR, "form.signin button").click()
        self.assertIn("Too many failed sign-ins", problem(d))
        self.assertTrue(d.current_url.endswith("/login"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    for a in ("daemon", "adapter", "cli", "web", "source", "pgdir"):
        p.add_argument("--" + a, required=True)
    ARGS, rest = p.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
