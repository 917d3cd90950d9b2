"""Browser test of `sim serve` (issue 20) on a real headless Chromium with the system chromedriver.

Starts `sim serve` on a free port and checks, through the pages as a facilitator and four
participants use them:
  1. the facilitator starts two regimes and both regimes' charts advance;
  2. a slider change shows in the charts within a second (the lever's marker and the teams'
     discretion drawn);
  3. four participants join, steer their own teams, and the facilitator's team charts show four
     steered teams with four different values;
  4. a reload mid-run restores the charts from day 0 with no day missing;
  5. the exported session replays (`sim run` on the downloaded file) to identical timeseries.csv
     bytes;
  6. the debrief shows the run's report with its figures;
  7. the facilitator picks other scenarios on the page and every page starts again with them
     (participants keep their places). Participants' sliders start at their team's own value.
Screenshots of each page go to the output folder. Downloads nothing: selenium is told to use
/usr/bin/chromedriver and to stay offline (SE_OFFLINE).

Usage: workshop.py SIM_BIN OUT_DIR
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

os.environ["SE_OFFLINE"] = "true"

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

SIM, OUT = sys.argv[1], sys.argv[2]
SHOTS = os.path.join(OUT, "workshop-screenshots")
os.makedirs(SHOTS, exist_ok=True)
DAYS = 300
KEY = "browser-test-key"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def wait_for(what, check, timeout=20.0, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(interval)
    fail(f"timed out after {timeout} s waiting for {what}")


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1600,1400",
    ]:
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def shot(driver, name):
    path = os.path.join(SHOTS, f"{name}.png")
    driver.save_screenshot(path)
    print(f"screenshot: {path}")


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def fetch(base, path):
    with urllib.request.urlopen(base + path, timeout=30) as r:
        return r.read()


def set_input(driver, css, value, root="document"):
    """Sets a slider or choice as a user would and fires its change event; returns the time."""
    return driver.execute_script(
        f"const el = {root}.querySelector(arguments[0]); el.value = arguments[1];"
        "el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); return performance.now();",
        css, value)


def main():
    server = subprocess.Popen(
        [SIM, "serve", "--port", "0", "--key", KEY, "--max-days", str(DAYS), "--speed", "15", "--seed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    drivers = []
    tmp = tempfile.mkdtemp(prefix="workshop-browser-")
    try:
        line = server.stdout.readline()
        m = re.match(r"facilitator: (http://[\d.]+:\d+)/\?key=", line)
        if not m:
            fail(f"sim serve printed {line!r}; stderr: {server.stderr.read() if server.poll() is not None else ''}")
        base = m.group(1)
        code = re.search(r"join code (\w+)", server.stdout.readline()).group(1)
        print(f"sim serve at {base}, join code {code}")

        fac = browser(os.path.join(tmp, "facilitator"))
        drivers.append(fac)
        fac.get(f"{base}/?key={KEY}")
        wait_for("the facilitator's charts", lambda: fac.execute_script("return workshop.charts.length") == 8)
        if fac.find_element(By.ID, "joincode").text != code:
            fail("the join code is not shown on the facilitator's page")
        shot(fac, "1-facilitator-start")

        # 1. Both regimes advance.
        fac.find_element(By.ID, "play").click()
        count = "return workshop.charts[0].data.slice(1).map(s => s.filter(v => v !== null).length)"
        first = wait_for("days on both regimes' charts", lambda: (lambda c: c if min(c) >= 10 else None)(fac.execute_script(count)))
        time.sleep(1.0)
        later = fac.execute_script(count)
        if not all(b > a for a, b in zip(first, later)):
            fail(f"the regimes' charts did not both advance: {first} then {later}")
        drawn = fac.execute_script("return workshop.charts.map(c => c.drawn || 0)")
        if min(drawn) < 10:
            fail(f"charts not drawn: {drawn}")
        print(f"ok: both regimes advance ({first} -> {later} days drawn)")
        shot(fac, "2-facilitator-playing")

        # 2. A slider change shows in the charts within a second.
        fac.execute_script("document.getElementById('team-field').value = 'discretion';"
                           "document.getElementById('team-field').dispatchEvent(new Event('change'));")
        t0 = set_input(fac, '#levers .lever[data-lever="discretion"] input', "0.55")
        shows = ("const c = workshop.teamCharts[1]; const n = c.data[0].length;"
                 "const last = c.data.slice(1).map(s => s[n - 1]);"
                 "return workshop.charts[0].markers.length > 0 && c.drawn === n && last.every(v => Math.abs(v - 0.55) < 1e-9)"
                 " ? performance.now() : null")
        t1 = wait_for("the discretion change in the charts", lambda: fac.execute_script(shows), timeout=5.0, interval=0.02)
        lag = (t1 - t0) / 1000.0
        if lag > 1.0:
            fail(f"the slider change took {lag:.2f} s to show in the charts")
        print(f"ok: a slider change shows in the charts after {lag:.3f} s")
        shot(fac, "3-facilitator-slider")

        # 3. Four participants join and steer their own teams (one browser, four tabs).
        part = browser(os.path.join(tmp, "participants"))
        drivers.append(part)
        steer = [0.05, 0.35, 0.65, 0.95]
        handles = []
        for i, value in enumerate(steer):
            if i:
                part.switch_to.new_window("tab")
            handles.append(part.current_window_handle)
            part.get(f"{base}/join?code={code.lower()}")
            part.find_element(By.ID, "name").send_keys(f"P{i + 1}")
            part.find_element(By.ID, "join").click()
            wait_for(f"participant {i + 1}'s team", lambda: part.execute_script("return workshop.joined && workshop.received > 0"))
            set_input(part, '#levers .lever[data-lever="discretion"] input', str(value))
            wait_for(f"participant {i + 1}'s change accepted", lambda: "set to" in part.find_element(By.ID, "message").text)
            set_input(part, '#levers .lever[data-lever="prevention_share"] input', str(round(value * 0.5, 2)))
            wait_for(f"participant {i + 1}'s second change", lambda: "prevention share" in part.find_element(By.ID, "message").text)
            shot(part, f"4-participant-{i + 1}")
        joined = fac.execute_script("return workshop.state.participants.map(p => [p.regime, p.team])")
        if len({tuple(j) for j in joined}) != 4:
            fail(f"four participants should have four teams: {joined}")
        diverging = ("const out = []; workshop.state.participants.forEach(p => {"
                     " const c = workshop.teamCharts[p.regime]; const k = c.teams.indexOf(p.team); const s = c.data[k + 1];"
                     " out.push(s[s.length - 1]); }); return out")
        values = wait_for("four diverging teams on the facilitator's page",
                          lambda: (lambda v: v if v and all(abs(a - b) < 1e-9 for a, b in zip(v, steer)) else None)(fac.execute_script(diverging)))
        log_rows = len(fac.find_elements(By.CSS_SELECTOR, "#log tbody tr"))
        # The facilitator's change (once per regime) and each participant's two.
        if log_rows != 2 + 4 * 2:
            fail(f"the facilitator's log shows {log_rows} rows, expected 10")
        print(f"ok: four participants steer four teams; the facilitator sees discretion {values}, {log_rows} log rows")
        now = wait_for("the last participant's discretion in force",
                       lambda: (lambda t: t if "0.95" in t and "own" in t else None)(
                           part.find_element(By.CSS_SELECTOR, '#levers .lever[data-lever="discretion"] .now').text))
        print(f"ok: a participant's slider shows their team's own value ({now!r})")
        shot(fac, "5-facilitator-participants")

        # 4. A reload mid-run restores the charts from day 0.
        fac.refresh()
        wait_for("the charts after the reload", lambda: fac.execute_script("return workshop.charts.length === 8 && workshop.received > 50"))
        days = fac.execute_script("return workshop.charts[0].data[0]")
        if days[0] != 0 or days != list(range(len(days))):
            fail(f"after the reload the chart's days are not 0, 1, 2, ...: {days[:5]}...")
        markers = fac.execute_script("return workshop.charts[0].markers.length")
        if markers < 1:
            fail("after the reload the lever changes are not marked")
        print(f"ok: the reload restored {len(days)} days from day 0 and {markers} markers")
        shot(fac, "6-facilitator-reloaded")
        part.switch_to.window(handles[0])
        part.refresh()
        wait_for("a participant's page after the reload", lambda: part.execute_script("return workshop.joined && workshop.received > 50"))
        slider = part.find_element(By.CSS_SELECTOR, '#levers .lever[data-lever="discretion"] input').get_attribute("value")
        if abs(float(slider) - steer[0]) > 1e-9:
            fail(f"after a reload the participant's slider starts at {slider}, not their team's own {steer[0]}")
        print(f"ok: after a reload the participant's slider starts at their team's own value {slider}")
        shot(part, "7-participant-reloaded")

        # 5. Run to the end; the export replays to identical timeseries.csv bytes.
        set_input(fac, "#speed", "0.9")
        wait_for("the end of the run", lambda: fac.execute_script("return workshop.day") == DAYS, timeout=60)
        time.sleep(0.3)
        shot(fac, "8-facilitator-end")
        for regime in range(2):
            exported = fetch(base, f"/api/export?regime={regime}")
            steered = fetch(base, f"/api/timeseries?regime={regime}")
            scenario = os.path.join(tmp, f"session-{regime}.toml")
            with open(scenario, "wb") as f:
                f.write(exported)
            out = os.path.join(tmp, f"replay-{regime}")
            subprocess.run([SIM, "--quiet", "run", scenario, "--out", out], check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(out, "timeseries.csv"), "rb") as f:
                replayed = f.read()
            if replayed != steered:
                fail(f"regime {regime}: `sim run` on the export differs from the session's timeseries.csv")
            events = exported.decode().count("[[events]]")
            print(f"ok: regime {regime}: the export ({events} events) replays to identical timeseries.csv ({len(replayed)} bytes)")

        # 6. The debrief: the run's report, with the figures drawn inline.
        fac.switch_to.new_window("tab")
        fac.get(f"{base}/debrief")
        svgs = len(fac.find_elements(By.CSS_SELECTOR, ".figure svg"))
        text = fac.find_element(By.TAG_NAME, "body").text
        if svgs < 2 or "What differed" not in text or "enablement against top-down" not in text:
            fail(f"the debrief lacks its figures ({svgs}) or its differences: {text[:300]!r}")
        print(f"ok: the debrief shows {svgs} figures and the differences in words")
        shot(fac, "9-debrief")
        fac.close()
        fac.switch_to.window(fac.window_handles[0])

        # 7. The facilitator picks other scenarios on the page; every page starts again.
        fac.find_element(By.CSS_SELECTOR, "#pick summary").click()
        wait_for("the scenario list", lambda: len(fac.find_elements(By.CSS_SELECTOR, "#catalogue input")) >= 10)
        fac.execute_script("for (const b of document.querySelectorAll('#catalogue input')) b.checked = ['enablement.toml', 'austerity.toml'].includes(b.value);")
        fac.find_element(By.ID, "restart").click()
        wait_for("the new regimes on the facilitator's page",
                 lambda: fac.execute_script("return workshop.state && workshop.state.regimes.map(r => r.name).join(',') === 'enablement,austerity' && workshop.charts.length === 8"))
        if fac.execute_script("return workshop.received") != 0:
            fail("the new session's charts do not start empty at day 0")
        fac.find_element(By.ID, "play").click()
        wait_for("days on both new regimes' charts", lambda: (lambda c: c if min(c) >= 5 else None)(fac.execute_script(count)))
        part.switch_to.window(handles[0])
        team = wait_for("the participant's new team",
                        lambda: part.execute_script("return workshop.joined && workshop.received > 0 && workshop.joined.regime_name"))
        if team not in ("enablement", "austerity"):
            fail(f"the participant steers a team of {team!r} after the restart")
        print(f"ok: the facilitator picked enablement and austerity on the page; both advance; P1 now steers a team of {team}")
        shot(fac, "10-facilitator-new-scenarios")
        shot(part, "11-participant-new-team")
        print("all browser checks passed")
    finally:
        for d in drivers:
            d.quit()
        server.terminate()
        server.wait(timeout=10)
        subprocess.run(["rm", "-rf", tmp], check=False)


if __name__ == "__main__":
    main()
