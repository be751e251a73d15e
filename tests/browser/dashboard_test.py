#!/usr/bin/python3
"""The dashboard in headless Chromium against the real daemon, the emulator and a real SQLite file.

dashboard_stage (C++, tests/support) runs soundtrackd with a token and the emulator; this drives
the page with Selenium and checks what a person relies on against the database: the overview's
counts while a batch runs, the token prompt, a stored track that plays, cancel / retry /
priority changing the row, the form showing the API's error next to the field. Screenshots
(desktop and phone width, light and dark) go to --screenshots.

Exit codes: 0 passed, 1 failed, 77 skipped (no Chromium that can run here, said why).
With --measure-cpu SECONDS it instead reports the daemon's CPU with the page open vs closed.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

SKIP = 77
TOKEN = "dashboard-test-token"


def skip(reason):
    print(f"SKIPPED: dashboard browser test: {reason}", flush=True)
    sys.exit(SKIP)


def find_browser():
    try:
        from selenium import webdriver  # noqa: F401
    except ImportError:
        skip("python3-selenium is not installed (scripts/install-deps.sh installs it)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    if not chromium or not driver:
        skip("chromium and chromium-driver are not installed (scripts/install-deps.sh installs them)")
    return chromium, driver


def start_browser(chromium, driver_path):
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1280,1000",
                "--no-first-run", "--disable-extensions", "--mute-audio"):
        options.add_argument(arg)
    try:
        return webdriver.Chrome(service=Service(driver_path), options=options)
    except WebDriverException as e:
        skip(f"Chromium cannot start here: {str(e).strip().splitlines()[0]}")


class Stage:
    """The daemon + emulator, run by dashboard_stage."""

    def __init__(self, binary, job_duration):
        self.process = subprocess.Popen([binary, job_duration, TOKEN], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("dashboard_stage exited before saying where the daemon is")
        info = json.loads(line)
        self.url, self.db_path, self.dir, self.daemon_pid = info["url"], info["db"], info["dir"], info["daemon_pid"]

    def tell(self, command, argument):
        self.process.stdin.write(f"{command} {json.dumps(argument)}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"dashboard_stage {command} {argument}: {answer}")

    def configure_emulator(self, settings):
        self.tell("configure", settings)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def db(self):
        connection = sqlite3.connect(self.db_path, timeout=10)
        connection.row_factory = sqlite3.Row
        return connection

    def query(self, sql, *args):
        with self.db() as connection:
            return connection.execute(sql, args).fetchall()

    def insert(self, prompt, batch, name=None, run_after_sql="NULL"):
        with self.db() as connection:
            cursor = connection.execute(
                f"INSERT INTO jobs(prompt, batch, name, run_after) VALUES(?, ?, ?, {run_after_sql})",
                (prompt, batch, name))
            return cursor.lastrowid

    def status(self, job_id):
        return self.query("SELECT status FROM jobs WHERE id = ?", job_id)[0]["status"]


def wait_for(what, condition, timeout=30):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Page:
    def __init__(self, driver, base_url, screenshots):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait
        self.driver = driver
        self.base_url = base_url
        self.screenshots = screenshots
        # Polling repaints the page every few seconds: an element read mid-repaint is stale, not wrong.
        self.wait = WebDriverWait(driver, 20, poll_frequency=0.05,
                                  ignored_exceptions=[StaleElementReferenceException])

    def go(self, fragment):
        self.driver.get(self.base_url + "/#" + fragment)

    def find(self, css):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        return self.wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)), f"no visible {css}")

    def text_is(self, css, expected):
        from selenium.webdriver.common.by import By

        def check(driver):
            elements = driver.find_elements(By.CSS_SELECTOR, css)
            return elements and elements[0].text.strip() == expected
        try:
            self.wait.until(check)
        except Exception:
            elements = self.driver.find_elements(By.CSS_SELECTOR, css)
            actual = elements[0].text.strip() if elements else "(no element)"
            raise AssertionError(f"{css}: expected {expected!r}, page shows {actual!r}")

    def shoot(self, name):
        os.makedirs(self.screenshots, exist_ok=True)
        path = os.path.join(self.screenshots, name + ".png")
        self.driver.save_screenshot(path)
        return path

    def set_scheme(self, scheme):
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                    {"features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def set_phone(self, phone):
        if phone:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        else:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def run_checks(stage, page):
    from selenium.webdriver.common.by import By
    driver = page.driver

    # A finished batch with stored tracks, then a batch that keeps running (long remote jobs).
    done_ids = [stage.insert(f"calm piano {i}", "morning", f"Morning {i}") for i in range(2)]
    wait_for("the first batch to succeed",
             lambda: all(stage.status(i) == "succeeded" for i in done_ids), timeout=40)
    stage.configure_emulator({"job_duration_ms": 600000})
    running_ids = [stage.insert(f"epic drums {i}", "night", f"Night {i}") for i in range(3)]
    later_id = stage.insert("later", "night", "Later", "unixepoch('now','+2 hours')")
    wait_for("three rows running", lambda: all(stage.status(i) == "running" for i in running_ids))

    # The token prompt (a wrong token is refused with a reason), then the overview with the
    # database's counts.
    page.go("/")
    token = page.find("#token-input")
    token.send_keys("not-the-token")
    page.find("#token-submit").click()
    refusal = page.find("#token-error").text
    assert "server.token_file" in refusal, f"a wrong token is refused with {refusal!r}"
    token.clear()
    token.send_keys(TOKEN)
    page.find("#token-submit").click()
    counts = {row["status"]: row["n"] for row in stage.query("SELECT status, count(*) AS n FROM jobs GROUP BY status")}
    assert counts == {"succeeded": 2, "running": 3, "queued": 1}, counts
    for status in ("queued", "submitting", "running", "downloading", "succeeded", "failed", "cancelled"):
        page.text_is(f'#counts [data-status="{status}"] .n', str(counts.get(status, 0)))
    page.text_is('.batch[data-batch="night"] [data-role="done"]', "0 / 4 done")
    page.text_is('.batch[data-batch="morning"] [data-role="done"]', "2 / 2 done")
    page.text_is("#health", "running")
    assert driver.find_elements(By.CSS_SELECTOR, "#chart svg rect.bar"), "the chart shows no completion"
    for scheme in ("light", "dark"):
        page.set_scheme(scheme)
        page.shoot(f"overview-desktop-{scheme}")
        page.set_phone(True)
        page.shoot(f"overview-phone-{scheme}")
        page.set_phone(False)
    page.set_scheme("light")

    # The jobs table: filtered by status, searched by text, newest first.
    page.go("/jobs?status=running")
    page.wait.until(lambda d: [r.get_attribute("data-id") for r in d.find_elements(By.CSS_SELECTOR, "#jobs-body tr")]
                    == [str(i) for i in reversed(running_ids)], "running rows, newest first")
    search = page.find("#filter-q")
    search.send_keys("drums 1")
    page.wait.until(lambda d: [r.get_attribute("data-id") for r in d.find_elements(By.CSS_SELECTOR, "#jobs-body tr")]
                    == [str(running_ids[1])], "the search to leave one row")
    page.shoot("jobs-desktop-light")

    # A stored track plays, and its download is the stored bytes.
    job_id = done_ids[0]
    page.go(f"/jobs/{job_id}")
    page.text_is("#job-status", "succeeded")
    audio = page.find(".track audio")
    duration = driver.execute_async_script("""
        const [audio, done] = arguments;
        const report = () => done({duration: audio.duration, error: audio.error && audio.error.message});
        if (audio.readyState >= 1) report();
        else { audio.addEventListener('loadedmetadata', report); audio.addEventListener('error', report); }
    """, audio)
    assert duration["error"] is None, f"the audio element failed: {duration['error']}"
    assert duration["duration"] and 0 < duration["duration"] < 1e6, f"track duration {duration['duration']}"
    played = driver.execute_async_script("""
        const [audio, done] = arguments;
        audio.addEventListener('timeupdate', () => { if (audio.currentTime > 0) done(audio.currentTime); });
        audio.play().catch((e) => done('play failed: ' + e.message));
    """, audio)
    assert isinstance(played, (int, float)) and played > 0, f"the track did not play: {played}"
    stored = stage.query("SELECT sha256, size_bytes FROM assets WHERE job_id = ?", job_id)[0]
    href = page.find(".track a[download]").get_attribute("href")
    digest, disposition = driver.execute_async_script("""
        const [url, done] = arguments;
        fetch(url).then(async (r) => {
          const d = await crypto.subtle.digest('SHA-256', await r.arrayBuffer());
          done([[...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, '0')).join(''),
                r.headers.get('Content-Disposition')]);
        }).catch((e) => done(['fetch failed: ' + e.message, null]));
    """, href)
    assert digest == stored["sha256"], f"download sha256 {digest}, stored {stored['sha256']}"
    # Named as soundtrackctl export names it: <name>-<id>.<ext>
    assert disposition == f'inline; filename="Morning-0-{job_id}.mp3"', f"Content-Disposition {disposition!r}"
    page.shoot("job-desktop-light")
    page.set_phone(True)
    page.set_scheme("dark")
    page.shoot("job-phone-dark")
    page.set_phone(False)
    page.set_scheme("light")

    # Cancel and retry a running row: the database changes, so does the page.
    target = running_ids[0]
    page.go(f"/jobs/{target}")
    page.text_is("#job-status", "running")
    page.find("#cancel").click()
    wait_for(f"row {target} to be cancelled", lambda: stage.status(target) == "cancelled")
    page.text_is("#job-status", "cancelled")
    page.wait.until(lambda d: d.find_element(By.ID, "retry").is_enabled(), "retry to be enabled")
    page.find("#retry").click()
    wait_for(f"row {target} to leave cancelled", lambda: stage.status(target) != "cancelled")
    page.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#job-status").text.strip() != "cancelled",
                    "the page to show the retried row")
    assert not driver.find_element(By.ID, "priority-set").is_enabled(), "priority offered for a row not queued"

    # Re-prioritise a queued row.
    page.go(f"/jobs/{later_id}")
    page.text_is("#job-status", "queued")
    priority = page.find("#priority-input")
    priority.clear()
    priority.send_keys("7")
    page.find("#priority-set").click()
    wait_for(f"row {later_id} priority 7",
             lambda: stage.query("SELECT priority FROM jobs WHERE id = ?", later_id)[0]["priority"] == 7)
    page.text_is('#job-request [data-field="priority"]', "7")

    # The enqueue form shows the API's error next to the field, then queues a valid request.
    page.go("/new")
    page.find("#submit-job").click()
    prompt_error = page.find("#error-prompt").text
    assert "prompt" in prompt_error, f"the prompt error says {prompt_error!r}"
    page.find("#field-prompt").send_keys("Soft rain on a tin roof")
    rate = page.find("#field-sample_rate")
    rate.send_keys("-5")
    page.find("#submit-job").click()
    rate_error = page.find("#error-sample_rate").text
    assert "sample_rate" in rate_error, f"the sample_rate error says {rate_error!r}"
    assert not page.driver.find_element(By.ID, "error-prompt").is_displayed(), "the old prompt error stayed"
    page.shoot("new-job-error-desktop-light")
    rate.clear()
    page.find("#field-batch").send_keys("form")
    page.find("#submit-job").click()
    page.wait.until(lambda d: d.current_url.split("#")[-1].startswith("/jobs/"), "the new job's page")
    new_id = int(driver.current_url.split("/jobs/")[-1])
    row = stage.query("SELECT prompt, batch FROM jobs WHERE id = ?", new_id)[0]
    assert (row["prompt"], row["batch"]) == ("Soft rain on a tin roof", "form"), dict(row)

    # The API rejects the credentials: the queue pauses and the page says why, as /healthz does.
    stage.tell("faults", [{"endpoint": "generate", "count": 100000, "status": 401,
                           "body": json.dumps({"reason": "Unauthorized"})}])
    stage.insert("while paused", "night")
    page.go("/")
    page.wait.until(lambda d: d.find_element(By.ID, "health").text.strip() == "paused", "the health to say paused")
    healthz = driver.execute_async_script("""
        const done = arguments[0];
        fetch('healthz').then((r) => r.text()).then((t) => done(t.trim())).catch((e) => done('fetch failed: ' + e));
    """)
    assert healthz.startswith("paused: "), f"/healthz says {healthz!r}"
    page.text_is("#banner", healthz)
    page.shoot("overview-paused-desktop-light")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def measure_cpu(stage, page, seconds):
    """The daemon's CPU during a running batch, page closed vs open and polling."""
    stage.configure_emulator({"job_duration_ms": 3600000})
    with stage.db() as connection:
        connection.executemany("INSERT INTO jobs(prompt, batch) VALUES(?, 'measure')",
                               [(f"measure {i}",) for i in range(3000)])
    wait_for("the batch to be running",
             lambda: stage.query("SELECT count(*) AS n FROM jobs WHERE status = 'running'")[0]["n"] >= 16, 60)
    hz = os.sysconf("SC_CLK_TCK")

    def sample():
        start, started = cpu_ticks(stage.daemon_pid), time.monotonic()
        time.sleep(seconds)
        return (cpu_ticks(stage.daemon_pid) - start) / hz / (time.monotonic() - started) * 100

    page.driver.get("about:blank")
    closed = sample()
    page.go("/")
    page.find("#token-input").send_keys(TOKEN)
    page.find("#token-submit").click()
    page.find("#counts .card")
    opened = sample()
    print(f"daemon CPU during a running batch over {seconds}s: page closed {closed:.2f}%, "
          f"page open and polling {opened:.2f}%, difference {opened - closed:+.2f} points", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stage", required=True)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--measure-cpu", type=float, default=0)
    args = parser.parse_args()

    chromium, driver_path = find_browser()
    driver = start_browser(chromium, driver_path)
    stage = None
    try:
        stage = Stage(args.stage, "1s")
        page = Page(driver, stage.url, args.screenshots)
        started = time.monotonic()
        # A reviewer looks at this run's pictures only (a failure.png of an earlier run would mislead).
        if os.path.isdir(args.screenshots):
            for name in os.listdir(args.screenshots):
                if name.endswith(".png"):
                    os.remove(os.path.join(args.screenshots, name))
        if args.measure_cpu:
            measure_cpu(stage, page, args.measure_cpu)
        else:
            run_checks(stage, page)
            print(f"dashboard browser test passed in {time.monotonic() - started:.1f}s; "
                  f"screenshots in {args.screenshots}", flush=True)
    except Exception:
        if stage is not None:
            try:
                Page(driver, stage.url, args.screenshots).shoot("failure")
                print(f"daemon log: {stage.dir}/daemon.log", file=sys.stderr)
                with open(os.path.join(stage.dir, "daemon.log")) as log:
                    sys.stderr.write(log.read()[-4000:])
            except Exception:
                pass
        raise
    finally:
        driver.quit()
        if stage is not None:
            stage.close()


if __name__ == "__main__":
    main()
