#!/usr/bin/python3
"""journey.py - the notification settings panel in a real browser.

Debian's headless Chromium, driven by chromedriver through python3-selenium,
runs the reference product's whole journey against a running panel, once
with JavaScript on and once with it off: ask for a sign-in link, read it
from the mail, sign in, see Default and Custom grouped by frequency, create
the reference product's example and see it saved and highlighted, create it
again and see it refused, clone a default and change one filter, edit the
custom one, mute and unmute a default, delete after confirming, search by
event type, the error pages, sign out. A third session checks that Tab
reaches every control of the panel and of the form (every menu open), each
showing its focus (:focus-visible, an outline), and does a mute, an unmute,
a create and a delete with the keyboard alone. With --smtp (a real crierd
and Postfix), that session ends with settings made on the panel (two mutes,
the example daily and immediately), an event sent through Postfix with
swaks, and the one mail those settings call for in the Maildir, and no
other, and the daily item waiting on the panel.

The server allows 3 sign-in links a minute per address: the three sessions
use exactly that many; a fourth would wait for its link in vain.

axe-core (from npm; browser.sh installs it) checks every page visited
against WCAG 2.0/2.1 A and AA: any violation fails, and is printed with its
nodes. Screenshots of the panel at 1280 and 390 px wide, with and without
JavaScript, go to --shots.

Assertions are on what the page shows (text content). Each step prints
"ok N - name"; the last line is "N steps". A failure prints the step's
name and exits 1.

  journey.py --url URL --user ADDRESS --axe axe.min.js --shots DIR --work DIR
             (--outbox STATE.lmdb | --maildir DIR [--smtp PORT --event FILE])
             [--only js|nojs|keys]
"""
import argparse
import base64
import email
import email.policy
import glob
import os
import quopri
import re
import subprocess
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The catalog's frequencies, in the catalog's order (rules.d/00-frequencies.conf).
FREQ_ORDER = ["Immediately", "Hourly", "Daily", "Weekly"]

# The reference product's own example, as the shipped catalog names it.
EXAMPLE_EVENT = "Redelivery Requested"
EXAMPLE_WHERE = {"content_type": ["Branded"], "source_type": ["Video & Audio"]}
EXAMPLE_FREQ = "Daily"
EXAMPLE_ID = "redelivery_requested_branded_video_audio_daily"
EDITED_ID = "redelivery_requested_branded_rush_video_audio_hourly"
DEFAULT_CLONED = "content_partner/all_redeliveries"
DEFAULT_MUTED = "content_partner/qc_failures"


class StepFailed(Exception):
    pass


class Journey:
    def __init__(self, args):
        self.a = args
        self.steps = 0
        self.step_name = "setup"
        self.pages_checked = 0
        self.axe_violations = []        # (step, page, violation)
        self.axe_src = open(args.axe, encoding="utf-8").read()
        self.seen_links = set()
        self.d = None
        self.service = None
        self.mode = ""

    # ------------------------------------------------------------ plumbing
    def step(self, name, fn, *args):
        self.step_name = f"{self.mode}: {name}"
        fn(*args)
        self.steps += 1
        print(f"ok {self.steps} - {self.step_name}", flush=True)

    def fail(self, why):
        raise StepFailed(why)

    def check(self, cond, why):
        if not cond:
            self.fail(why)

    def start(self, js, mode, tag):
        self.mode = mode
        o = webdriver.ChromeOptions()
        o.binary_location = CHROMIUM
        prof = os.path.join(self.a.work, "profile-" + tag)
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--window-size=1280,900", "--no-first-run",
                    "--disable-extensions", "--hide-scrollbars", "--lang=en-US",
                    "--user-data-dir=" + prof):
            o.add_argument(arg)
        if not js:
            o.add_experimental_option(
                "prefs", {"profile.managed_default_content_settings.javascript": 2})
        self.service = Service(CHROMEDRIVER, log_path=os.path.join(self.a.work,
                                                                  f"chromedriver-{tag}.log"))
        self.d = webdriver.Chrome(service=self.service, options=o)
        self.d.set_page_load_timeout(20)
        self.d.set_script_timeout(30)
        self.js = js

    def stop(self):
        if self.d is not None:
            try:
                self.d.quit()
            except WebDriverException:
                pass
        if self.service is not None and self.service.process is not None:
            p = self.service.process
            if p.poll() is None:
                p.kill()
                p.wait()
        self.d = self.service = None

    def go(self, path):
        self.d.get(self.a.url + path)

    def text(self, css, within=None):
        """the text content of the first element, whitespace folded; '' if none"""
        root = within or self.d
        els = root.find_elements(By.CSS_SELECTOR, css)
        if not els:
            return ""
        return " ".join(self.d.execute_script("return arguments[0].textContent", els[0]).split())

    def el(self, css, within=None):
        els = (within or self.d).find_elements(By.CSS_SELECTOR, css)
        self.check(els, f"no element '{css}' on {self.d.current_url}: "
                   f"h1 '{self.text('h1')}'")
        return els[0]

    def wait_for(self, cond, what, timeout=10):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(lambda d: cond())
        except Exception:
            self.fail(f"waited {timeout}s for {what}; at {self.d.current_url}, "
                      f"h1 '{self.text('h1')}'")

    def expect_h1(self, want):
        got = self.text("h1")
        self.check(got == want, f"page heading '{got}', expected '{want}' "
                   f"({self.d.current_url}) {self.text('.error')}")

    def expect_notice(self, want):
        got = self.text("p.notice")
        self.check(got == want, f"message '{got}', expected '{want}'")

    def expect_error(self, want):
        got = self.text(".error")
        self.check(want in got, f"error '{got}', expected '{want}'")

    def submit_via(self, button):
        """click a button that leaves the page, and wait for the next one"""
        old = self.d.find_element(By.TAG_NAME, "html")
        button.click()
        self.wait_for(lambda: self._stale(old), "the next page")

    @staticmethod
    def _stale(el):
        try:
            el.tag_name
            return False
        except WebDriverException:
            return True

    def button(self, label, within=None):
        for b in (within or self.d).find_elements(By.CSS_SELECTOR, "button, a.button, a"):
            if " ".join(b.text.split()) == label or \
                    " ".join((b.get_attribute("textContent") or "").split()) == label:
                return b
        self.fail(f"no button '{label}' on {self.d.current_url}")

    # ------------------------------------------------------------ axe
    def axe(self, page, quiet=False):
        """axe-core on the page in the browser: WCAG 2.0/2.1 A and AA"""
        if not self.d.execute_script("return typeof window.axe === 'object'"):
            if not self.js:
                # With JavaScript off, WebDriver's scripts still run but timers never
                # fire, and axe-core waits on setTimeout: short ones become microtasks,
                # long ones (its time-outs) never fire, as they would not here.
                self.d.execute_script(r"""
                    var next = 1, gone = {};
                    window.setTimeout = function (fn, ms) {
                      var id = next++, args = [].slice.call(arguments, 2);
                      if (!(ms > 1000)) {
                        Promise.resolve().then(function () {
                          if (!gone[id]) { fn.apply(null, args); } });
                      }
                      return id;
                    };
                    window.clearTimeout = function (id) { gone[id] = 1; };
                    window.requestAnimationFrame = function (fn) {
                      return window.setTimeout(function () { fn(performance.now()); }, 0);
                    };""")
            self.d.execute_script(self.axe_src)
        res = self.d.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},"
            "  resultTypes: ['violations']})"
            ".then(function (r) { done({v: r.violations, p: r.passes.length}); })"
            ".catch(function (e) { done({error: String(e)}); });", AXE_TAGS)
        self.check("error" not in res, f"axe on {page}: {res.get('error')}")
        self.pages_checked += 1
        for v in res["v"]:
            self.axe_violations.append((self.step_name, page, v))
            if quiet:
                continue
            print(f"AXE VIOLATION [{self.step_name}] {page}: {v['id']} ({v['impact']}): "
                  f"{v['help']} - {v['helpUrl']}", flush=True)
            for n in v["nodes"]:
                print(f"    {n['target']}: {n['html'][:200]}", flush=True)
                print("      " + n.get("failureSummary", "").replace("\n", "\n      "),
                      flush=True)

    # ------------------------------------------------------------ mail
    def mails(self):
        """every message the server sent, decoded text"""
        out = []
        if self.a.outbox:
            r = subprocess.run(["mdb_dump", "-n", "-p", "-s", "outbox", self.a.outbox],
                               capture_output=True, text=True, errors="replace")
            raw = re.sub(r"\\([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), r.stdout)
            out.append(quopri.decodestring(raw.encode("latin-1")).decode("utf-8", "replace"))
        else:
            for m in self.maildir():
                for part in m.walk():
                    if part.get_content_type() == "text/plain":
                        out.append(str(m["To"]) + "\n" + part.get_content())
        return out

    def maildir(self):
        """the Maildir's messages, oldest first"""
        files = [f for sub in ("new", "cur")
                 for f in glob.glob(os.path.join(self.a.maildir, sub, "*"))]
        files.sort(key=lambda f: (os.path.getmtime(f), os.path.basename(f)))
        out = []
        for f in files:
            with open(f, "rb") as fh:
                out.append(email.message_from_binary_file(fh, policy=email.policy.default))
        return out

    def links(self):
        pat = re.escape(self.a.url) + r"/s/v1\.s\.[A-Za-z0-9_.-]+"
        return set(re.findall(pat, "\n".join(self.mails())))

    def new_link(self):
        deadline = time.time() + 15
        while time.time() < deadline:
            fresh = self.links() - self.seen_links
            if fresh:
                self.check(len(fresh) == 1, f"{len(fresh)} new sign-in links, expected 1")
                link = fresh.pop()
                self.seen_links.add(link)
                return link
            time.sleep(0.1)
        self.fail("no sign-in link arrived within 15 s")

    # ------------------------------------------------------------ the panel
    def panel(self):
        """the list as shown: {section: [(group, [entry, ...])]}, in the page's order"""
        view = self.d.execute_script(r"""
            var fold = function (s) { return s.replace(/\s+/g, ' ').trim(); };
            var out = [];
            document.querySelectorAll('section.kind').forEach(function (sec) {
              var groups = [];
              sec.querySelectorAll('h3, li.notif').forEach(function (el) {
                if (el.tagName === 'H3') { groups.push([fold(el.textContent), []]); return; }
                var t = function (c) { var e = el.querySelector(c);
                                       return e ? fold(e.textContent) : ''; };
                groups[groups.length - 1][1].push({
                  id: t('.name'), event: t('.what strong'), where: t('.where'),
                  freq: t('.freq'), badge: t('.badge'),
                  saved: el.classList.contains('saved'), domid: el.id});
              });
              out.push([fold(sec.querySelector('h2').textContent), groups]);
            });
            return out;""")
        # (a list of pairs: WebDriver does not keep the order of an object's keys)
        return {name: [tuple(g) for g in groups] for name, groups in view}

    def entry(self, nid):
        for sec in self.panel().values():
            for _, items in sec:
                for it in items:
                    if it["id"] == nid:
                        return it
        return None

    def check_grouping(self, view):
        self.check(list(view) == ["Default notifications", "Custom notifications"],
                   f"sections {list(view)}, expected Default then Custom")
        for sec, groups in view.items():
            names = [g for g, _ in groups]
            self.check(all(g in FREQ_ORDER for g in names), f"{sec}: groups {names}")
            self.check(names == sorted(names, key=FREQ_ORDER.index),
                       f"{sec}: groups {names} not in the catalog's order")
            self.check(len(set(names)) == len(names), f"{sec}: a group twice: {names}")
            for g, items in groups:
                self.check(items, f"{sec}: group {g} is empty")
                for it in items:
                    self.check(it["freq"] == "Frequency " + g,
                               f"{it['id']} shows '{it['freq']}' under {g}")

    def menu(self, nid, label):
        """open an entry's menu (the reference's three dots) and press one item"""
        li = self.el(f"li#n-{css_id(nid)}")
        summary = self.el("details.menu summary", li)
        if not self.el("details.menu", li).get_attribute("open"):
            summary.click()
        self.submit_via(self.button(label, li))

    # ------------------------------------------------------------ screenshots
    def shot(self, name, width, height=None):
        """the whole page at that width (or its top, height px), into --shots"""
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        h = self.d.execute_script("return Math.max(document.documentElement.scrollHeight,"
                                  " document.body.scrollHeight)")
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": min(int(h), 6000), "deviceScaleFactor": 1,
            "mobile": False})
        args = {"format": "png", "captureBeyondViewport": True}
        if height:
            args["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        png = self.d.execute_cdp_cmd("Page.captureScreenshot", args)
        with open(os.path.join(self.a.shots, name + ".png"), "wb") as fh:
            fh.write(base64.b64decode(png["data"]))
        wide = self.d.execute_script(r"""
            var w = document.documentElement.clientWidth, out = [];
            document.querySelectorAll('body *').forEach(function (e) {
              var r = e.getBoundingClientRect();
              if (r.right > w + 0.5 && r.width > 0) {
                out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                         (e.className ? '.' + String(e.className).replace(/ /g, '.') : '') +
                         ' ' + Math.round(r.right) + 'px');
              }
            });
            return [document.documentElement.scrollWidth, out.slice(0, 8)];""")
        self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.check(wide[0] <= width, f"{name}: the page is {wide[0]} px wide at {width} px; "
                   f"past the edge: {wide[1]}")

    # ------------------------------------------------------------ the journey
    def journey(self, js):
        tag = "js" if js else "nojs"
        self.start(js, "JavaScript " + ("on" if js else "off"), tag)
        try:
            self._journey(js, tag)
        except Exception:
            self.dump(tag)
            raise
        finally:
            self.stop()

    def _journey(self, js, tag):
        s = self.step
        user = self.a.user
        found = {}

        def axe_works():        # the checker checks: a page it must fault
            before = len(self.axe_violations)
            self.d.get("data:text/html,<!DOCTYPE html><html><body><img src=x.png>"
                       "<input type=text></body></html>")
            self.axe("axe self-test", quiet=True)
            found_ids = {v["id"] for _, _, v in self.axe_violations[before:]}
            del self.axe_violations[before:]
            self.check({"image-alt", "label", "html-has-lang"} <= found_ids,
                       f"axe-core found only {found_ids} on a page made to fail")
        s("axe-core faults a page made to fail", axe_works)

        def address_form():
            self.go("/")
            self.expect_h1("Sign in")
            self.check(self.d.execute_script("return document.cookie") == "",
                       "a cookie visible to scripts")
            self.axe("address form")
            self.seen_links |= self.links()
            f = self.el("#address")
            f.send_keys(user)
            self.submit_via(self.button("Send me a sign-in link"))
            self.expect_h1("Check your mail")
            self.expect_notice("If this address receives notifications, a sign-in link is "
                               "on its way to it. The link works once, within 15 minutes.")
            self.axe("check your mail")
        s("ask for a sign-in link", address_form)

        def open_link():
            found["link"] = self.new_link()
            self.d.get(found["link"])
            self.expect_h1("Sign in")
            self.check(not self.d.get_cookies(), "opening the link set a cookie")
            self.axe("sign-in confirm")
        s("read the link from the mail and open it", open_link)

        def sign_in():
            self.submit_via(self.button("Sign in as " + user))
            self.expect_h1("Your notifications")
            self.check(self.d.get_cookie("__Host-crier") is not None, "no session cookie")
            person = self.text("dl.person")
            for want in (user, "Content Partner", "Juice Post", "Europe/Berlin"):
                self.check(want in person, f"the header lacks '{want}': '{person}'")
            self.axe("panel")
        s("press Sign in", sign_in)

        def grouped():
            view = self.panel()
            self.check_grouping(view)
            d = dict(view["Default notifications"])
            c = dict(view["Custom notifications"])
            self.check(DEFAULT_CLONED in [i["id"] for i in d.get("Immediately", [])],
                       f"{DEFAULT_CLONED} not under Default > Immediately: {d}")
            self.check("german_redeliveries" in [i["id"] for i in c.get("Immediately", [])],
                       "german_redeliveries not under Custom > Immediately")
            self.check("branded_qc_daily" in [i["id"] for i in c.get("Daily", [])],
                       "branded_qc_daily not under Custom > Daily")
            self.check(all(i["event"] for g in view.values() for _, it in g for i in it),
                       "an entry without its event type")
            self.d.execute_script(
                "document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
            self.axe("panel, every menu open")
            if js:
                self.shot("panel-menus-open-390-js", 390)
            self.go("/")
        s("see Default and Custom grouped by frequency", grouped)

        def fill_form(event, where, freq, untick=None):
            sel = Select(self.el("#type"))
            if js:
                self.d.execute_script("window.crierMark = 1")
            sel.select_by_visible_text(event)
            if js:      # the rest of the form comes in place, no new page
                self.wait_for(lambda: self.d.find_elements(By.CSS_SELECTOR, "#save-form")
                              and self.text("#save-form legend") == "Where",
                              "the form to change in place")
                self.check(self.d.execute_script("return window.crierMark") == 1,
                           "choosing the type loaded a new page with JavaScript on")
                said = self.text("#type-form [role=status]")
                self.check(said == f"Where and Frequency below are now those of {event}.",
                           f"the form's status line says '{said}'")
            else:       # the type is a step of its own
                time.sleep(0.2)
                self.check(not self.d.find_elements(By.CSS_SELECTOR, "#save-form"),
                           "the form changed in place with JavaScript off")
                self.submit_via(self.el("#type-next"))
                self.el("#save-form")
            self.axe(f"form, {event}")
            for flt, values in (untick or {}).items():
                for v in values:
                    box = self.el(f"input[name='w.{flt}'][value='{v}']")
                    if box.is_selected():
                        box.click()
            for flt, values in where.items():
                for v in values:
                    box = self.el(f"input[name='w.{flt}'][value='{v}']")
                    if not box.is_selected():
                        box.click()
            if freq:
                radio = [r for r in self.d.find_elements(By.CSS_SELECTOR,
                                                         "input[name=frequency]")
                         if self.d.execute_script("return arguments[0].parentNode.textContent",
                                                  r).strip() == freq]
                self.check(radio, f"no frequency '{freq}' offered")
                radio[0].click()

        def create():
            self.submit_via(self.button("Create notification"))
            self.expect_h1("Create notification")
            self.axe("create form, type step")
            fill_form(EXAMPLE_EVENT, EXAMPLE_WHERE, EXAMPLE_FREQ)
            self.submit_via(self.button("Save"))
            self.expect_h1("Your notifications")
            self.expect_notice(f"Saved '{EXAMPLE_ID}'")
            e = self.entry(EXAMPLE_ID)
            self.check(e is not None, f"{EXAMPLE_ID} is not on the list")
            self.check(e["saved"], f"{EXAMPLE_ID} is not highlighted")
            self.check(e["event"] == EXAMPLE_EVENT and e["freq"] == "Frequency Daily"
                       and "Branded" in e["where"] and "Video & Audio" in e["where"],
                       f"the saved entry shows {e}")
            view = dict(self.panel()["Custom notifications"])
            self.check(EXAMPLE_ID in [i["id"] for i in view.get("Daily", [])],
                       f"{EXAMPLE_ID} not under Custom > Daily")
            self.check(self.d.current_url.endswith("#n-" + EXAMPLE_ID), "not scrolled to it")
            self.axe("panel after a save")
            self.shot(f"panel-desktop-{tag}", 1280)
            self.shot(f"panel-desktop-top-{tag}", 1280, 1000)   # the README's
            self.shot(f"panel-390-{tag}", 390)
        s("create Redelivery Requested, Branded, Video & Audio, Daily", create)

        def create_again():
            self.go("/new")
            self.expect_h1("Create notification")
            fill_form(EXAMPLE_EVENT, EXAMPLE_WHERE, EXAMPLE_FREQ)
            self.submit_via(self.button("Save"))
            self.expect_h1("Create notification")
            self.expect_error(f"already exists as '{EXAMPLE_ID}'")
            self.check(self.el("input[name='w.content_type'][value='Branded']").is_selected()
                       and self.el("input[name='w.source_type'][value='Video & Audio']")
                       .is_selected(), "the input was not kept")
            self.axe("form, already exists")
            self.shot(f"form-error-390-{tag}", 390)
        s("create it again: already exists", create_again)

        def no_condition():
            for box in self.d.find_elements(By.CSS_SELECTOR, "input[type=checkbox]"):
                if box.is_selected():
                    box.click()
            self.submit_via(self.button("Save"))
            self.expect_error("Choose at least one condition under Where.")
            marks = self.d.execute_script(
                "var e = document.getElementById('form-error');"
                "var r = document.getElementById('rest');"
                "return {error: !!e, live: r && r.getAttribute('aria-live'), boxes: Array.from("
                "document.querySelectorAll('#save-form .where input')).map(function (i) {"
                "return i.getAttribute('aria-invalid') + ' ' + i.getAttribute('aria-describedby');"
                "})};")
            self.check(marks["error"] and marks["live"] is None and marks["boxes"]
                       and set(marks["boxes"]) == {"true form-error"},
                       f"the error is not tied to the conditions: {marks}")
            self.axe("form, no condition")
        s("save with no condition: refused", no_condition)

        def clone():
            self.go("/")
            self.menu(DEFAULT_CLONED, "Clone")
            self.expect_h1("Clone notification")
            self.check(f"copied from {DEFAULT_CLONED}" in self.text("main p"),
                       f"the clone form does not name its source: {self.text('main p')}")
            self.check(Select(self.el("#type")).first_selected_option.text == EXAMPLE_EVENT,
                       "the clone form is not filled with the event type")
            boxes = [b.get_attribute("value") for b in self.d.find_elements(
                By.CSS_SELECTOR, "input[name='w.source_type']") if b.is_selected()]
            self.check(len(boxes) == 5, f"source types ticked from the default: {boxes}")
            self.axe("clone form")
            self.el("input[name='w.source_type'][value='Artwork']").click()
            self.submit_via(self.button("Save"))
            self.expect_h1("Your notifications")
            m = re.fullmatch(r"Saved '([^']+)'", self.text("p.notice"))
            self.check(m, f"message '{self.text('p.notice')}'")
            found["clone"] = m.group(1)
            e = self.entry(found["clone"])
            self.check(e and e["saved"] and "Artwork" not in e["where"]
                       and "Subtitles" in e["where"], f"the clone shows {e}")
            self.check(self.entry(DEFAULT_CLONED)["where"].count("Artwork") == 1,
                       "the default changed")
        s("clone a default and untick one value", clone)

        def edit():
            self.menu(EXAMPLE_ID, "Edit")
            self.expect_h1("Edit notification")
            self.check(self.el("input[name='w.content_type'][value='Branded']").is_selected(),
                       "the edit form is not filled")
            self.axe("edit form")
            self.el("input[name='w.priority'][value='Rush']").click()
            radio = self.d.find_elements(By.CSS_SELECTOR, "input[name=frequency][value=hourly]")
            self.check(radio, "Hourly is not offered")
            radio[0].click()
            self.submit_via(self.button("Save"))
            # a name made from the choices follows them (change.c renames it)
            self.expect_notice(f"Saved '{EDITED_ID}'")
            self.check(self.entry(EXAMPLE_ID) is None, f"{EXAMPLE_ID} is still listed")
            e = self.entry(EDITED_ID)
            self.check(e and e["saved"] and e["freq"] == "Frequency Hourly"
                       and "Rush" in e["where"], f"the edited entry shows {e}")
            view = dict(self.panel()["Custom notifications"])
            self.check(EDITED_ID in [i["id"] for i in view.get("Hourly", [])],
                       f"{EDITED_ID} not under Custom > Hourly after the edit")
            self.check_grouping(self.panel())
        s("edit the custom one: add Rush, make it Hourly", edit)

        def default_no_edit():
            li = self.el(f"li#n-{css_id(DEFAULT_MUTED)}")
            labels = [" ".join(b.get_attribute("textContent").split())
                      for b in li.find_elements(By.CSS_SELECTOR, ".menu-items button, "
                                                ".menu-items a")]
            self.check(labels == ["Mute", "Clone"], f"a default's menu offers {labels}")
            self.go("/edit?n=" + urllib.parse.quote(DEFAULT_MUTED, safe=""))
            self.expect_h1("Not editable")
            self.expect_error("defaults cannot be edited")
            self.axe("error: default not editable")
            self.go("/delete?n=" + urllib.parse.quote(DEFAULT_MUTED, safe=""))
            self.expect_h1("Not deleted")
            self.axe("error: default not deleted")
            self.go("/")
        s("a default offers no Edit or Delete", default_no_edit)

        def mute():
            self.menu(DEFAULT_MUTED, "Mute")
            self.expect_notice(f"Muted '{DEFAULT_MUTED}'")
            e = self.entry(DEFAULT_MUTED)
            self.check(e["badge"] == "Muted", f"the muted default shows {e}")
            self.axe("panel, muted")
        s("mute a default", mute)

        def unmute():
            self.menu(DEFAULT_MUTED, "Unmute")
            self.expect_notice(f"Unmuted '{DEFAULT_MUTED}'")
            e = self.entry(DEFAULT_MUTED)
            self.check(e["badge"] == "", f"the unmuted default shows {e}")
        s("unmute it", unmute)

        def delete(nid, label):
            def go():
                self.menu(nid, "Delete")
                self.expect_h1("Delete notification")
                self.check(f"Delete {nid}" in self.text("main p"),
                           f"the confirmation says '{self.text('main p')}'")
                self.check(self.entry(nid) is None, "the confirmation page lists entries")
                self.axe("confirm delete")
                self.submit_via(self.button("Delete", self.el(".actions")))
                self.expect_notice(f"Deleted '{nid}'")
                self.check(self.entry(nid) is None, f"{nid} still listed")
            s(label, go)

        def cancel_delete():
            self.menu(EDITED_ID, "Delete")
            self.expect_h1("Delete notification")
            self.submit_via(self.button("Cancel"))
            self.expect_h1("Your notifications")
            self.check(self.entry(EDITED_ID) is not None, "Cancel deleted it")
        s("delete, then cancel: nothing deleted", cancel_delete)
        delete(EDITED_ID, "delete the custom one after confirming")
        delete(found["clone"], "delete the clone too")

        def search():
            Select(self.el("#event")).select_by_visible_text("QC Failed")
            self.submit_via(self.button("Search"))
            self.check("event=qc_failed" in self.d.current_url, self.d.current_url)
            view = self.panel()
            self.check_grouping(view)
            items = [i for g in view.values() for _, it in g for i in it]
            self.check(items and all(i["event"] == "QC Failed" for i in items),
                       f"search by event type shows {[i['event'] for i in items]}")
            ids = [i["id"] for i in items]
            self.check(DEFAULT_MUTED in ids and "branded_qc_daily" in ids,
                       f"search by event type kept {ids}")
            self.axe("search results")
            self.el("#q").send_keys("nothing-matches-this")
            self.submit_via(self.button("Search"))
            self.check(self.text("p.empty") == "None matches the search.",
                       f"an empty search shows '{self.text('p.empty')}'")
            self.axe("search, nothing found")
            self.submit_via(self.button("Clear"))
        s("search by event type", search)

        def bad_link():
            self.go("/s/v1.s.altered")
            self.expect_error("This link is not valid.")
            self.axe("error: bad link")
            self.d.get(found["link"])
            self.expect_error("This link was used before.")
        s("a bad link and a used one: errors", bad_link)

        def sign_out():
            self.go("/")
            self.submit_via(self.button("Sign out"))
            self.expect_h1("Sign in")
            self.expect_notice("You are signed out.")
            self.axe("signed out")
            self.go("/new")
            self.expect_h1("Sign in")
        s("sign out", sign_out)

    # ------------------------------------------------------------ keyboard only
    def keyboard(self):
        self.start(True, "keyboard", "keys")
        try:
            self._keyboard()
        except Exception:
            self.dump("keys")
            raise
        finally:
            self.stop()

    def active(self):
        return self.d.execute_script(r"""
            var e = document.activeElement, cs = getComputedStyle(e);
            var li = e.closest('li.notif');
            return {tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '',
                    value: e.value || '', id: e.id || '',
                    text: (e.textContent || '').replace(/\s+/g, ' ').trim(),
                    entry: li ? li.id : '', visible: e.matches(':focus-visible'),
                    outline: cs.outlineStyle + ' ' + cs.outlineWidth};""")

    def key(self, *keys):
        ActionChains(self.d).send_keys(*keys).perform()

    def tab_to(self, want, what, limit=120):
        """Tab until want(active) holds; every stop must show its focus"""
        for _ in range(limit):
            self.key(Keys.TAB)
            a = self.active()
            if a["tag"] == "body":
                continue
            self.check(a["visible"] and not a["outline"].startswith("none")
                       and a["outline"].split()[-1] != "0px",
                       f"focus not visible on {a}")
            if want(a):
                return a
        self.fail(f"{limit} Tabs did not reach {what}")

    def every_control(self, page):
        """Tab from the top reaches every control, each showing its focus"""
        n = self.d.execute_script(r"""
            // every menu open (as Enter on each would), so its items count too
            document.querySelectorAll('details').forEach(function (d) { d.open = true; });
            var all = document.querySelectorAll(
              'a[href], button, input:not([type=hidden]), select, textarea, summary');
            var k = 0;
            all.forEach(function (e) {
              if (e.getClientRects().length && !e.disabled) { e.dataset.kb = k++; } });
            document.activeElement.blur();
            window.scrollTo(0, 0);
            return k;""")
        seen = set()
        # a radio group is one Tab stop: its other radios are reached with the arrows
        radios = self.d.execute_script(r"""
            var out = {};
            document.querySelectorAll('input[type=radio][data-kb]').forEach(function (e) {
              (out[e.name] = out[e.name] || []).push(+e.dataset.kb); });
            return out;""")
        for _ in range(n + 3):
            self.key(Keys.TAB)
            a = self.d.execute_script(r"""
                var e = document.activeElement, cs = getComputedStyle(e);
                return [e.dataset ? e.dataset.kb : null, e.matches(':focus-visible'),
                        cs.outlineStyle, cs.outlineWidth, e.outerHTML.slice(0, 120)];""")
            if a[0] is None:
                continue
            self.check(a[1] and a[2] != "none" and a[3] != "0px",
                       f"{page}: focus not visible on {a[4]}")
            seen.add(int(a[0]))
        for group in radios.values():
            if seen & set(group):
                seen |= set(group)
        missed = sorted(set(range(n)) - seen)
        self.check(not missed, f"{page}: Tab never reached " + "; ".join(
            self.d.execute_script(
                "return arguments[0].map(function (i) { return document.querySelector("
                "'[data-kb=\"' + i + '\"]').outerHTML.slice(0, 100); });", missed)))
        return n

    def press_and_wait(self, k):
        old = self.d.find_element(By.TAG_NAME, "html")
        self.key(k)
        self.wait_for(lambda: self._stale(old), "the next page")

    def _keyboard(self):
        s = self.step
        user = self.a.user

        def sign_in():
            self.go("/")
            self.tab_to(lambda a: a["id"] == "address", "the address field")
            self.key(user)
            self.press_and_wait(Keys.ENTER)
            self.expect_h1("Check your mail")
            self.d.get(self.new_link())
            self.tab_to(lambda a: a["text"] == "Sign in as " + user, "Sign in")
            self.press_and_wait(Keys.SPACE)
            self.expect_h1("Your notifications")
        s("sign in with the keyboard", sign_in)

        def reach_all():
            counts = [self.every_control("panel")]
            self.go("/new?event=redelivery_requested")
            counts.append(self.every_control("create form"))
            self.go("/")
            print(f"  (Tab reached all {counts[0]} controls of the panel and "
                  f"{counts[1]} of the form)", flush=True)
        s("Tab reaches every control of the panel and the form, focus visible", reach_all)

        muted = "n-" + urllib.parse.quote(DEFAULT_MUTED, safe="")

        def mute(word):
            def go():
                self.tab_to(lambda a: a["tag"] == "summary" and a["entry"] == muted,
                            f"the menu of {DEFAULT_MUTED}")
                self.key(Keys.ENTER)
                self.check(self.d.execute_script(
                    "return document.activeElement.parentNode.open"), "Enter did not open it")
                self.tab_to(lambda a: a["text"] == word, word, limit=3)
                self.press_and_wait(Keys.ENTER)
                self.expect_notice(f"{word}d '{DEFAULT_MUTED}'")
                self.check(self.entry(DEFAULT_MUTED)["badge"] == ("Muted" if word == "Mute"
                                                                  else ""), "badge")
            s(f"{word} a default with the keyboard", go)
        mute("Mute")
        mute("Unmute")

        nid = "qc_failed_trailer_immediately"

        def create():
            self.go("/")
            self.tab_to(lambda a: a["text"] == "Create notification", "Create notification")
            self.press_and_wait(Keys.ENTER)
            self.expect_h1("Create notification")
            self.tab_to(lambda a: a["id"] == "type", "Notify me when")
            self.key("QC")          # type-ahead on the closed list: QC Failed
            self.wait_for(lambda: self.d.find_elements(By.CSS_SELECTOR, "#save-form"),
                          "the form to change in place")
            self.tab_to(lambda a: a["name"] == "w.content_type" and a["value"] == "Trailer",
                        "Content Type: Trailer")
            self.key(Keys.SPACE)
            self.tab_to(lambda a: a["name"] == "frequency", "Frequency")
            self.key(Keys.SPACE)    # the first radio: Immediately
            self.check(self.active()["value"] == "immediately", f"radio {self.active()}")
            self.tab_to(lambda a: a["text"] == "Save", "Save")
            self.press_and_wait(Keys.ENTER)
            self.expect_notice(f"Saved '{nid}'")
            e = self.entry(nid)
            self.check(e and e["saved"] and e["where"] == "Where Content Type = Trailer"
                       and e["freq"] == "Frequency Immediately", f"saved {e}")
        s("create with the keyboard", create)

        def delete():
            self.go("/")
            dom = "n-" + nid
            self.tab_to(lambda a: a["tag"] == "summary" and a["entry"] == dom, "its menu")
            self.key(Keys.SPACE)
            self.tab_to(lambda a: a["text"] == "Delete", "Delete", limit=5)
            self.press_and_wait(Keys.ENTER)
            self.expect_h1("Delete notification")
            self.tab_to(lambda a: a["text"] == "Delete" and a["tag"] == "button", "Delete")
            self.press_and_wait(Keys.ENTER)
            self.expect_notice(f"Deleted '{nid}'")
        s("delete it with the keyboard", delete)
        if self.a.smtp:
            self._final()

    # ------------------------------------------------------------ an event through Postfix
    def digests_waiting(self):
        rows = self.d.execute_script(r"""
            var out = {};
            document.querySelectorAll('table.digests tbody tr').forEach(function (tr) {
              out[tr.querySelector('th').textContent.trim()] =
                tr.querySelectorAll('td')[1].textContent.trim(); });
            return out;""")
        return {k: int(v) for k, v in rows.items()}

    def _final(self):
        """settings made on the panel, then an event through Postfix: the mail they call
        for, and no other"""
        s = self.step
        immediate = "redelivery_requested_branded_video_audio_immediately"

        def settings():
            self.go("/")
            for nid in (DEFAULT_CLONED, "german_redeliveries"):
                self.menu(nid, "Mute")
                self.expect_notice(f"Muted '{nid}'")
            for freq, nid in (("Daily", EXAMPLE_ID), ("Immediately", immediate)):
                self.go("/new")
                sel = Select(self.el("#type"))
                sel.select_by_visible_text(EXAMPLE_EVENT)
                self.wait_for(lambda: self.d.find_elements(By.CSS_SELECTOR, "#save-form"),
                              "the form to change in place")
                for flt, values in EXAMPLE_WHERE.items():
                    for v in values:
                        self.el(f"input[name='w.{flt}'][value='{v}']").click()
                self.el(f"input[name=frequency][value={freq.lower()}]").click()
                self.submit_via(self.button("Save"))
                self.expect_notice(f"Saved '{nid}'")
        s("mute both redelivery notifications, create the example daily and immediately",
          settings)

        found = {}

        def send():
            found["digests"] = self.digests_waiting()
            found["before"] = len(self.maildir())
            found["id"] = f"browser-{os.getpid()}-{int(time.time())}"
            with open(self.a.event, encoding="utf-8") as fh:
                ev = re.sub(r"(?m)^Event-Id: .*$", "Event-Id: " + found["id"], fh.read())
            path = os.path.join(self.a.work, "event.eml")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(ev)
            r = subprocess.run(["swaks", "--server", "127.0.0.1:" + self.a.smtp,
                                "--helo", "client.crier.test", "--timeout", "30",
                                "--from", "portal@studio.test", "--to", "events@crier.test",
                                "--data", "@" + path, "--suppress-data"],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            self.check(r.returncode == 0, f"swaks exited {r.returncode}: {r.stdout[-600:]}")
        s("send a redelivery event through Postfix (swaks)", send)

        def mail():
            def mine():
                return [m for m in self.maildir() if m["X-Crier-Event"] == found["id"]]
            self.wait_for(lambda: mine(), "the notification in the Maildir", timeout=30)
            time.sleep(3)       # anything else on its way arrives too
            got = mine()
            self.check(len(got) == 1, f"{len(got)} mails of the event, expected 1")
            self.check(str(got[0]["X-Crier-Notification"]) == immediate,
                       f"the mail is from '{got[0]['X-Crier-Notification']}', expected "
                       f"'{immediate}' alone")
            now = len(self.maildir())
            self.check(now == found["before"] + 1,
                       f"{now - found['before']} new mails, expected exactly 1")
        s("the mail the new settings call for, and no other", mail)

        def digest():
            self.go("/")
            waiting = self.digests_waiting()
            self.check(waiting.get("Daily") == found["digests"].get("Daily", 0) + 1,
                       f"digests waiting {waiting}, before the event {found['digests']}")
            self.axe("panel, a digest waiting")
        s("the daily example waits in the Daily digest", digest)

    # ------------------------------------------------------------ all
    def run(self):
        t0 = time.time()
        try:
            if self.a.only in (None, "js"):
                self.journey(True)
            if self.a.only in (None, "nojs"):
                self.journey(False)
            if self.a.only in (None, "keys"):
                self.keyboard()
        except StepFailed as e:
            print(f"FAIL at step '{self.step_name}': {e}", flush=True)
            return 1
        except Exception as e:          # a WebDriver error, a timeout: name the step too
            print(f"FAIL at step '{self.step_name}': {type(e).__name__}: "
                  f"{str(e).splitlines()[0] if str(e) else ''}", flush=True)
            return 1
        finally:
            self.stop()
        print(f"axe-core: {self.pages_checked} pages checked, "
              f"{len(self.axe_violations)} violations", flush=True)
        if self.axe_violations:
            steps = sorted({s for s, _, _ in self.axe_violations})
            print(f"FAIL: axe-core violations at steps: {'; '.join(steps)}", flush=True)
            return 1
        print(f"{time.time() - t0:.0f} s", flush=True)
        print(f"{self.steps} steps", flush=True)
        return 0

    def dump(self, tag):
        """the page a step failed on: failure-TAG.png and .html, with the screenshots"""
        if self.d is None:
            return
        try:
            self.d.save_screenshot(os.path.join(self.a.shots, f"failure-{tag}.png"))
            with open(os.path.join(self.a.shots, f"failure-{tag}.html"), "w") as fh:
                fh.write(self.d.page_source)
            print(f"  (at {self.d.current_url}: failure-{tag}.png and .html are kept with "
                  f"the screenshots)", flush=True)
        except WebDriverException:
            pass


def css_id(nid):
    """the entry's element id (n- and the id, percent-encoded) for a CSS selector"""
    return re.sub(r"([^A-Za-z0-9_-])", r"\\\1", urllib.parse.quote(nid, safe=""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--axe", required=True)
    p.add_argument("--shots", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--outbox")
    p.add_argument("--maildir")
    p.add_argument("--only", choices=["js", "nojs", "keys"])
    p.add_argument("--smtp", help="Postfix's port: end with an event through it")
    p.add_argument("--event", help="the event mail to send (its Event-Id is replaced)")
    a = p.parse_args()
    if bool(a.outbox) == bool(a.maildir):
        p.error("one of --outbox and --maildir")
    if a.smtp and not (a.maildir and a.event):
        p.error("--smtp needs --maildir and --event")
    os.makedirs(a.shots, exist_ok=True)
    return Journey(a).run()


if __name__ == "__main__":
    sys.exit(main())
