#!/usr/bin/python3
# Runs the benchmark scenarios of issue #6 against the emulator on loopback (HTTPS,
# keep-alive) and prints one table (scenario, figure, target, pass/fail) plus a JSON file.
# Every figure is taken from outside the measured process: /proc/PID/stat CPU ticks,
# /proc/PID/status VmHWM, and timestamps the programs wrote into the database.
import argparse
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- measuring a process from outside ------------------------------------------------------

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def rss_kib(pid, key="VmHWM"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def snapshot(pid):
    return {"cpu_s": cpu_seconds(pid), "hwm_kib": rss_kib(pid), "rss_kib": rss_kib(pid, "VmRSS")}


def stop(proc, timeout=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the environment ----------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.build = Path(args.build).resolve()
        self.work = Path(args.work).resolve()
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.daemon_bin = self.build / "soundtrackd"
        self.ctl_bin = self.build / "soundtrackctl"
        self.emulator_bin = self.build / "tests" / "scenario-emulator"
        self.results = []  # rows of the table
        self.details = {}  # everything measured, for the JSON file
        self.make_certificates()
        # The daemon gets the environment systemd would give it: no SSL_CERT_FILE/SSL_CERT_DIR
        # of the caller's shell (some CI images set them), which change how OpenSSL loads the
        # system store and so the idle RSS.
        self.env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        self.env.update(SCENARIO_API_KEY="test-key", SCENARIO_API_SECRET="test-secret")
        self.emulator = None
        self.started = []  # every process spawn() started; stop_all() ends those still running

    def spawn(self, argv, **kw):
        proc = subprocess.Popen(argv, **kw)
        self.started.append(proc)
        return proc

    def stop_all(self):
        """Stops every process this harness started that still runs (a scenario that raised
        leaves its daemon or reference behind otherwise, distorting the next one)."""
        for proc in reversed(self.started):
            stop(proc)
        self.started.clear()
        self.emulator = None

    def make_certificates(self):
        w = self.work
        def openssl(*a):
            subprocess.run(["openssl", *a], cwd=w, check=True, capture_output=True)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=soundtrackd bench CA")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        (w / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "1", "-extfile", "server.ext")
        self.ca = w / "ca.pem"
        self.ssl_context = ssl.create_default_context(cafile=str(self.ca))

    def start_emulator(self, job_duration_ms, asset_size=20000):
        self.stop_emulator()
        port_file = self.work / "emulator.port"
        port_file.unlink(missing_ok=True)
        self.emulator_log = open(self.work / "emulator.log", "ab")
        self.emulator = self.spawn(
            [str(self.emulator_bin), "--listen", "127.0.0.1:0", "--port-file", str(port_file),
             "--tls-cert", str(self.work / "server.pem"), "--tls-key", str(self.work / "server.key"),
             "--job-duration", f"{job_duration_ms}ms", "--asset-size", str(asset_size), "--url-ttl", "10m",
             "--quiet"], stdout=self.emulator_log, stderr=self.emulator_log)
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        self.port = int(port_file.read_text().strip())
        self.base_url = f"https://127.0.0.1:{self.port}/v1"

    def stop_emulator(self):
        if self.emulator:
            stop(self.emulator)
            self.emulator = None

    def emulator_stats(self):
        url = f"https://127.0.0.1:{self.port}/_emulator/stats?summary=1"
        with urllib.request.urlopen(url, context=self.ssl_context, timeout=30) as r:
            return json.load(r)

    # --- databases -------------------------------------------------------------------------

    def new_db(self, name, rows=0, prompt_prefix="bench"):
        db = self.work / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        shutil.rmtree(str(db) + ".staging", ignore_errors=True)
        subprocess.run([str(self.ctl_bin), "--config", "/dev/null", "--db", str(db), "migrate"], check=True,
                       capture_output=True, env=self.env)
        if rows:
            self.insert_rows(db, rows, prompt_prefix)
        return db

    def insert_rows(self, db, rows, prompt_prefix="bench"):
        # Distinct prompts: the emulator counts identical requests as duplicate submits.
        sql = (f"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {rows}) "
               f"INSERT INTO jobs (prompt) SELECT '{prompt_prefix} ' || x || ' ' || random() FROM n;")
        subprocess.run(["sqlite3", str(db)], input=sql, text=True, check=True)

    def query(self, db, sql, params=()):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def wait_rows(self, db, done, timeout, proc=None, sql=None):
        sql = sql or "SELECT count(*) FROM jobs WHERE status IN ('succeeded', 'failed')"
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = self.query(db, sql)[0][0]
            if n >= done:
                return True
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"process {proc.args[0]} exited with {proc.returncode} before finishing")
            time.sleep(0.05)
        return False

    # --- the programs under test -------------------------------------------------------------

    def daemon_config(self, db, max_running, max_connections=16, scan_interval="1s", listen=""):
        cfg = self.work / f"{Path(db).stem}.toml"
        cfg.write_text(f"""[database]
path = "{db}"

[api]
base_url = "{self.base_url}"
ca_file = "{self.ca}"
max_requests_per_second = 100000
max_connections = {max_connections}
download_timeout = "5m"

[queue]
max_running = {max_running}
poll_interval = "1s"
poll_interval_max = "2s"
job_timeout = "30m"
scan_interval = "{scan_interval}"

[storage]
min_free_space = "1MiB"

[server]
listen = "{listen}"

[log]
level = "warn"
""")
        return cfg

    def start_daemon(self, db, max_running, **kw):
        cfg = self.daemon_config(db, max_running, **kw)
        out = open(self.work / f"{Path(db).stem}.daemon.log", "ab")
        return self.spawn([str(self.daemon_bin), "--config", str(cfg)], stdout=out, stderr=out, env=self.env)

    def start_reference(self, db, max_running, max_connections=16):
        out = open(self.work / f"{Path(db).stem}.reference.log", "ab")
        return self.spawn(
            ["/usr/bin/python3", str(HERE / "reference.py"), "--db", str(db), "--base-url", self.base_url,
             "--ca-file", str(self.ca), "--max-running", str(max_running), "--max-connections",
             str(max_connections), "--poll-interval", "1", "--poll-interval-max", "2"],
            stdout=out, stderr=out)

    def start(self, program, db, max_running):
        """Starts the daemon or the reference ("daemon" or "reference") on `db`."""
        return self.start_daemon(db, max_running) if program == "daemon" else self.start_reference(db, max_running)

    def result(self, scenario, figure, value, target, passed, check=False):
        """`check`: the figure says whether the work was done right, not how fast, so it counts
        in a smoke run too."""
        if passed is None:
            verdict = "n/a"
        else:
            verdict = "pass" if passed else "FAIL"
        self.results.append({"scenario": scenario, "figure": figure, "value": value, "target": target,
                             "result": verdict, "check": check})
        log(f"{scenario} | {figure} | {value} | {target} | {verdict}")

    def not_measured(self, scenario, why):
        self.results.append({"scenario": scenario, "figure": "-", "value": f"not measured: {why}",
                             "target": "-", "result": "not measured"})
        log(f"{scenario}: not measured: {why}")


# --- one batch run ------------------------------------------------------------------------

def run_batch(b, name, rows, max_running, program, timeout):
    """Runs `program` (daemon or reference) over `rows` fresh rows until all are finished;
    returns its CPU, peak RSS and wall time, read the moment the last row finished."""
    db = b.new_db(name, rows)
    started = time.time()
    proc = b.start(program, db, max_running)
    ok = b.wait_rows(db, rows, timeout, proc)
    snap = snapshot(proc.pid)
    stop(proc)
    if not ok:
        raise RuntimeError(f"{program} did not finish {rows} rows within {timeout}s (see {b.work})")
    first_submit, last_finish, failed = b.query(
        db, "SELECT min(submitted_at), max(finished_at), sum(status = 'failed') FROM jobs")[0]
    if failed:
        raise RuntimeError(f"{program}: {failed} of {rows} rows failed (see {b.work}/{name}.db)")
    return {"cpu_s": snap["cpu_s"], "hwm_kib": snap["hwm_kib"], "wall_s": last_finish - started,
            "first_submit_s": first_submit - started, "db": str(db)}


def idle_rss(b, name, program="daemon"):
    """Peak RSS of the daemon (or the reference) started, connected to nothing and waiting on an
    empty queue."""
    db = b.new_db(name)
    proc = b.start(program, db, 16)
    time.sleep(2.0)
    snap = snapshot(proc.pid)
    stop(proc)
    return snap


# --- scenarios ----------------------------------------------------------------------------

def scenario_1(b):
    s = "1 batch"
    rows, max_running, duration_s = b.args.s1_rows, 500, 5
    b.start_emulator(duration_s * 1000)
    idle = idle_rss(b, "s1_idle")
    r_idle = idle_rss(b, "s1_reference_idle", "reference")
    d = run_batch(b, "s1_daemon", rows, max_running, "daemon", 600)
    r = run_batch(b, "s1_reference", rows, max_running, "reference", 900)
    waves = math.ceil(rows / max_running)
    ideal = waves * duration_s
    # Tightened from one poll_interval_max (2 s) per wave: the first wave, before any run time
    # is known, keeps that; each later wave, polled at the typical run time, gets 1 s.
    allowed = ideal + 2.0 + (waves - 1) * 1.0
    b.details["scenario_1"] = {"daemon": d, "reference": r, "idle": idle, "reference_idle": r_idle,
                               "ideal_wall_s": ideal}
    d_ms, r_ms = d["cpu_s"] * 1000 / rows, r["cpu_s"] * 1000 / rows
    b.result(s, "daemon CPU per job", f"{d_ms:.3f} ms (reference {r_ms:.3f} ms)", "<= 0.35 ms", d_ms <= 0.35)
    ratio = r_ms / d_ms if d_ms else float("inf")
    b.result(s, "CPU ratio reference/daemon", f"{ratio:.1f}x", ">= 10x", ratio >= 10)
    d_mb, r_mb = d["hwm_kib"] / 1024, r["hwm_kib"] / 1024
    d_idle_mb, r_idle_mb = idle["hwm_kib"] / 1024, r_idle["hwm_kib"] / 1024
    d_growth, r_growth = d_mb - d_idle_mb, r_mb - r_idle_mb
    b.result(s, "daemon peak RSS", f"{d_mb:.1f} MB (idle {d_idle_mb:.1f} MB, growth {d_growth:.1f} MB; "
             f"reference {r_mb:.1f} MB)", "<= 20 MB", d_mb <= 20)
    # The target is on the peaks; the growth over each one's idle (the daemon's shared libraries,
    # the interpreter and its modules) is shown beside it, as the issue asks.
    b.result(s, "RSS ratio reference/daemon", f"{r_mb / d_mb:.1f}x (growth over idle: {r_growth:.1f} MB against "
             f"{d_growth:.1f} MB, {r_growth / d_growth if d_growth > 0 else float('inf'):.1f}x)", ">= 4x",
             r_mb / d_mb >= 4)
    b.result(s, "wall time", f"{d['wall_s']:.1f} s (reference {r['wall_s']:.1f} s, ideal {ideal} s)",
             f"<= reference and <= {allowed:.0f} s (issue: {ideal + waves * 2.0:.0f} s)",
             d["wall_s"] <= r["wall_s"] and d["wall_s"] <= allowed)


def poll_schedule(duration_s, first=1.0, factor=1.5, cap=2.0):
    """Polls a client following poll_interval/poll_interval_max makes for a job of this length."""
    t, delay, polls = 0.0, first, 0
    while True:
        t += delay
        polls += 1
        if t >= duration_s:
            return polls
        delay = min(delay * factor, cap)


def scenario_2(b):
    s = "2 many in flight"
    duration_s = b.args.s2_duration
    b.start_emulator(duration_s * 1000)
    table = []
    for n in b.args.s2_counts:
        before = b.emulator_stats()["requests"]
        d = run_batch(b, f"s2_{n}", n, n, "daemon", duration_s + 600)
        after = b.emulator_stats()["requests"]
        polls = (after["get_job"] - before["get_job"]) / n
        entry = {"in_flight": n, "cpu_ms_per_job": d["cpu_s"] * 1000 / n, "hwm_mb": d["hwm_kib"] / 1024,
                 "polls_per_job": polls, "wall_s": d["wall_s"]}
        table.append(entry)
        log(f"scenario 2, {n} in flight: {entry}")
    expected = poll_schedule(duration_s)
    b.details["scenario_2"] = {"runs": table, "expected_polls_per_job": expected}
    top = table[-1]
    b.result(s, f"peak RSS at {top['in_flight']} in flight", f"{top['hwm_mb']:.1f} MB", "<= 64 MB",
             top["hwm_mb"] <= 64)
    worst = max(e["polls_per_job"] for e in table)
    b.result(s, "polls per job", " / ".join(f"{e['polls_per_job']:.1f} at {e['in_flight']}" for e in table),
             f"<= {expected} (schedule for {duration_s} s jobs)", worst <= expected)
    lo, hi = table[0]["cpu_ms_per_job"], top["cpu_ms_per_job"]
    b.result(s, "CPU per job vs in flight",
             " / ".join(f"{e['cpu_ms_per_job']:.2f} ms at {e['in_flight']}" for e in table),
             "constant (largest <= 1.3x smallest)", hi <= 1.3 * lo)


def scenario_3(b):
    s = "3 deep queue"
    work_rows, max_running = b.args.s3_work, 500
    b.start_emulator(200)
    # Each depth runs twice, the depths alternating, and keeps its lowest CPU per row (its worst
    # first submit and peak RSS): a few seconds of CPU is what one run measures, and on a shared
    # machine one of them is sometimes 30-50% slower for reasons of its own.
    table = {depth: [] for depth in b.args.s3_depths}
    for _ in range(2):
        for depth in b.args.s3_depths:
            db = b.new_db(f"s3_{depth}", depth)
            started = time.time()
            proc = b.start_daemon(db, max_running)
            if not b.wait_rows(db, work_rows, 600, proc):
                raise RuntimeError(f"scenario 3: {work_rows} rows not done within 600 s at depth {depth}")
            snap = snapshot(proc.pid)
            stop(proc)
            first = b.query(db, "SELECT min(submitted_at) FROM jobs WHERE submitted_at IS NOT NULL")[0][0]
            entry = {"first_submit_s": first - started, "hwm_mb": snap["hwm_kib"] / 1024,
                     "cpu_ms_per_row": snap["cpu_s"] * 1000 / work_rows}
            table[depth].append(entry)
            log(f"scenario 3, depth {depth}: {entry}")
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    table = [{"depth": depth, "first_submit_s": max(r["first_submit_s"] for r in runs),
              "hwm_mb": max(r["hwm_mb"] for r in runs), "cpu_ms_per_row": min(r["cpu_ms_per_row"] for r in runs),
              "runs": runs} for depth, runs in table.items()]
    b.details["scenario_3"] = {"runs": table, "rows_worked": work_rows}
    deep = table[-1]
    b.result(s, f"first submit at {deep['depth']} rows", f"{deep['first_submit_s']:.2f} s", "<= 0.25 s (issue: 1 s)",
             deep["first_submit_s"] <= 0.25)
    b.result(s, f"peak RSS at {deep['depth']} rows", f"{deep['hwm_mb']:.1f} MB", "<= 32 MB (issue: 64 MB)",
             deep["hwm_mb"] <= 32)
    lo = table[0]["cpu_ms_per_row"]
    b.result(s, "CPU per admitted row vs depth",
             " / ".join(f"{e['cpu_ms_per_row']:.3f} ms at {e['depth']}" for e in table),
             "same at every depth (<= 1.3x the shallowest)", all(e["cpu_ms_per_row"] <= 1.3 * lo for e in table))


def scenario_4(b):
    s = "4 reaction time"
    inserts = b.args.s4_inserts
    b.start_emulator(500)
    db = b.new_db("s4")
    proc = b.start_daemon(db, 16)
    time.sleep(1.5)  # started and idle
    rng = random.Random(4)
    for i in range(inserts):
        # .timeout: like any writer beside the daemon, wait for the lock rather than fail with BUSY.
        subprocess.run(["sqlite3", "-cmd", ".timeout 5000", str(db),
                        f"INSERT INTO jobs (prompt) VALUES ('reaction {i}')"], check=True)
        time.sleep(rng.uniform(0.05, 0.15))
    ok = b.wait_rows(db, inserts, 60, proc, "SELECT count(*) FROM jobs WHERE submitted_at IS NOT NULL")
    stop(proc)
    if not ok:
        raise RuntimeError("scenario 4: inserted rows were not all submitted within 60 s")
    lat = sorted(r[0] * 1000 for r in b.query(db, "SELECT submitted_at - created_at FROM jobs"))
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, math.ceil(0.99 * len(lat)) - 1)]
    b.details["scenario_4"] = {"latencies_ms": lat}
    b.result(s, f"insert -> submitted, p50 over {inserts}", f"{p50:.1f} ms", "<= 35 ms (issue: 50 ms)", p50 <= 35)
    b.result(s, f"insert -> submitted, p99 over {inserts}", f"{p99:.1f} ms (max {lat[-1]:.1f} ms)",
             "<= 100 ms (issue: 200 ms)", p99 <= 100)


PROBE = r"""
import signal, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
db.execute("CREATE TABLE IF NOT EXISTS bench_probe (at REAL, waited REAL)")
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
waits = []
while not stop:
    t0 = time.monotonic()
    db.execute("BEGIN IMMEDIATE")
    waited = time.monotonic() - t0
    db.execute("INSERT INTO bench_probe VALUES (?, ?)", (time.time(), waited))
    db.execute("COMMIT")
    waits.append(waited)
    time.sleep(0.02)
print(len(waits), max(waits) if waits else 0.0, flush=True)
"""


def stop_probe(probe):
    """Stops a PROBE process; returns its transaction count and longest wait (s), as text."""
    probe.send_signal(signal.SIGTERM)
    out, _ = probe.communicate(timeout=30)
    return out.split()


def scenario_5(b):
    s = "5 big tracks"
    tracks, size = b.args.s5_tracks, b.args.s5_mb * 1_000_000
    b.start_emulator(1000, size)
    db = b.new_db("s5")
    # Both this phase and the raw one start with nothing left to write back (scenario 3 writes
    # hundreds of MB just before): disk throughput is what is compared.
    os.sync()
    proc = b.start_daemon(db, tracks)
    time.sleep(2.0)
    idle = snapshot(proc.pid)
    probe = b.spawn(["/usr/bin/python3", "-c", PROBE, str(db)], stdout=subprocess.PIPE, text=True)
    b.insert_rows(db, tracks, "big")
    ok = b.wait_rows(db, tracks, 600, proc)
    all_seen = time.time()
    snap = snapshot(proc.pid)
    stop(proc)
    count, max_wait = stop_probe(probe)
    if not ok:
        raise RuntimeError("scenario 5: tracks not stored within 600 s")
    bad = b.query(db, "SELECT count(*) FROM jobs WHERE status != 'succeeded'")[0][0]
    stored = b.query(db, "SELECT sum(length(data)) FROM assets")[0][0]
    # Storage time: from the first `downloaded` event (the first staged file verified, its
    # copy starts) until this harness saw every row succeeded, so every commit is counted
    # (a finished_at is written before its own commit) and so is any moment the store
    # waited for a download (counted against the daemon).
    first_copy = b.query(db, "SELECT min(at) FROM job_events WHERE kind = 'downloaded'")[0][0]
    store_s = all_seen - first_copy

    # The same bytes inserted by the sqlite3 CLI into a database with the same settings.
    raw_db = b.work / "s5_raw.db"
    raw_db.unlink(missing_ok=True)
    blob = b.work / "s5_blob.bin"
    with open(blob, "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)
        f.write(chunk[: size - ((size >> 20) << 20)])
    script = "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\nCREATE TABLE a (data BLOB);\n" + \
        "".join(f"INSERT INTO a VALUES (readfile('{blob}'));\n" for _ in range(tracks))
    # The same probe beside it: how long the sqlite3 CLI's own inserts make another writer
    # wait is the floor for one transaction per track (assets.data holds the whole track).
    subprocess.run(["sqlite3", str(raw_db)], input="PRAGMA journal_mode=WAL;", text=True, check=True,
                   capture_output=True)
    raw_probe = b.spawn(["/usr/bin/python3", "-c", PROBE, str(raw_db)], stdout=subprocess.PIPE, text=True)
    os.sync()
    time.sleep(0.5)
    t0 = time.time()
    subprocess.run(["sqlite3", "-cmd", ".timeout 60000", str(raw_db)], input=script, text=True, check=True,
                   capture_output=True)
    raw_s = time.time() - t0
    raw_count, raw_max_wait = stop_probe(raw_probe)
    blob.unlink()
    for suffix in ("", "-wal", "-shm"):
        Path(str(raw_db) + suffix).unlink(missing_ok=True)

    growth = (snap["hwm_kib"] - idle["hwm_kib"]) / 1024
    ours = stored / store_s / 1e6 if store_s > 0 else 0
    raw = tracks * size / raw_s / 1e6
    b.details["scenario_5"] = {"idle": idle, "peak": snap, "probe_transactions": int(count),
                               "max_lock_wait_s": float(max_wait), "store_s": store_s, "raw_s": raw_s,
                               "raw_probe_transactions": int(raw_count), "raw_max_lock_wait_s": float(raw_max_wait),
                               "stored_bytes": stored, "not_succeeded": bad}
    b.result(s, "all tracks stored", f"{tracks - bad}/{tracks}, {stored / 1e6:.0f} MB", "all", bad == 0, check=True)
    b.result(s, "peak RSS growth over idle", f"{growth:.1f} MB (idle {idle['hwm_kib'] / 1024:.1f} MB)",
             "< 12 MB (issue: 16 MB)", growth < 12)
    b.result(s, "other writer's longest wait for the lock", f"{float(max_wait) * 1000:.0f} ms over {count} "
             f"transactions (beside raw sqlite3's inserts: {float(raw_max_wait) * 1000:.0f} ms)", "<= 100 ms",
             float(max_wait) <= 0.1)
    b.result(s, "storage throughput", f"{ours:.0f} MB/s (raw sqlite3 {raw:.0f} MB/s, {ours / raw:.0%})",
             ">= 70% of raw", ours >= 0.7 * raw)


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scenario_6(b):
    s = "6 ingest"
    rows = b.args.s6_import
    # soundtrackctl import: one transaction for the whole file.
    db = b.new_db("s6_import")
    jsonl = b.work / "s6.jsonl"
    with open(jsonl, "w") as f:
        for i in range(rows):
            f.write(json.dumps({"prompt": f"imported track {i}", "batch": "import", "name": f"t{i}"}) + "\n")
    t0 = time.time()
    subprocess.run([str(b.ctl_bin), "--config", "/dev/null", "--db", str(db), "import", str(jsonl)], check=True,
                   capture_output=True, env=b.env)
    import_s = time.time() - t0
    count = b.query(db, "SELECT count(*) FROM jobs")[0][0]
    b.result(s, f"soundtrackctl import of {rows} JSONL rows", f"{import_s:.2f} s ({count} rows)",
             "< 2 s (issue: 3 s)", import_s < 2 and count == rows)

    # POST /v1/jobs from 50 clients while a batch runs; the inserted rows are due in a day, so
    # the batch's work is the same with and without them.
    api_load = b.build / "tests" / "api-load"
    if not api_load.exists():
        b.not_measured(s + " (HTTP)", f"{api_load} was not built")
        return
    batch_rows, max_running, duration_s = b.args.s1_rows, 500, 5
    b.start_emulator(duration_s * 1000)
    walls = {}
    for label in ("alone", "with inserts"):
        db = b.new_db(f"s6_{label.replace(' ', '_')}", batch_rows)
        port = free_port()
        started = time.time()
        proc = b.start_daemon(db, max_running, listen=f"127.0.0.1:{port}")
        load = None
        if label == "with inserts":
            time.sleep(1.0)
            load = subprocess.run([str(api_load), "--url", f"http://127.0.0.1:{port}", "--clients", "50",
                                   "--requests", str(b.args.s6_requests), "--run-after",
                                   str(int(time.time()) + 86400)], capture_output=True, text=True, timeout=600)
        ok = b.wait_rows(db, batch_rows, 600, proc, "SELECT count(*) FROM jobs WHERE status IN ('succeeded', "
                         "'failed') AND (batch IS NULL OR batch != 'api-load')")
        stop(proc)
        if not ok:
            raise RuntimeError(f"scenario 6: the batch ({label}) did not finish")
        walls[label] = b.query(db, "SELECT max(finished_at) FROM jobs")[0][0] - started
        if load is not None:
            if load.returncode != 0:
                raise RuntimeError(f"api-load failed: {load.stderr.strip()}")
            report = json.loads(load.stdout.strip().splitlines()[-1])
            stored = b.query(db, "SELECT count(*) FROM jobs WHERE batch = 'api-load'")[0][0]
    b.details["scenario_6"] = {"import_s": import_s, "walls": walls, "api_load": report, "api_rows_stored": stored}
    rate = report["inserts_per_second"]
    b.result(s, "POST /v1/jobs, 50 clients, during the batch",
             f"{rate:.0f} inserts/s ({report['created']} created, {stored} stored, p99 {report['p99_ms']:.0f} ms)",
             ">= 8000/s (issue: 5000/s)", rate >= 8000 and stored == report["created"])
    slow = walls["with inserts"] / walls["alone"] - 1
    b.result(s, "batch wall time with the inserts", f"{walls['with inserts']:.1f} s vs {walls['alone']:.1f} s "
             f"({slow:+.0%})", "<= +5%", slow <= 0.05)


SCENARIOS = {"1": scenario_1, "2": scenario_2, "3": scenario_3, "4": scenario_4, "5": scenario_5, "6": scenario_6}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--only", default="123456")
    p.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness, not the targets")
    args = p.parse_args()
    if args.smoke:
        args.s1_rows, args.s2_counts, args.s2_duration = 20, [10, 20], 3
        args.s3_depths, args.s3_work, args.s4_inserts = [100, 1000], 20, 10
        args.s5_tracks, args.s5_mb = 2, 2
        args.s6_import, args.s6_requests = 1000, 500
    else:
        args.s1_rows, args.s2_counts, args.s2_duration = 2000, [1000, 10000], 60
        args.s3_depths, args.s3_work, args.s4_inserts = [10_000, 100_000, 1_000_000], 2000, 200
        args.s5_tracks, args.s5_mb = 20, 50
        args.s6_import, args.s6_requests = 100_000, 20_000

    b = Bench(args)
    started = time.time()
    try:
        for key in args.only:
            try:
                SCENARIOS[key](b)
            except Exception as e:  # noqa: BLE001 - one broken scenario must not hide the others
                b.not_measured(key, f"error: {e}")
            finally:
                b.stop_all()
    finally:
        b.stop_all()  # also on Ctrl-C or an error in the harness itself

    width = [max(len(str(r[k])) for r in b.results + [dict(scenario="scenario", figure="figure",
                                                              value="measured", target="target",
                                                              result="result")])
             for k in ("scenario", "figure", "value", "target", "result")]
    print()
    for r in [dict(scenario="scenario", figure="figure", value="measured", target="target", result="result")] + \
            b.results:
        print(" | ".join(str(r[k]).ljust(w) for k, w in zip(("scenario", "figure", "value", "target", "result"),
                                                              width)))
    elapsed = time.time() - started
    print(f"\n{len(b.results)} figures in {elapsed:.0f} s; JSON: {args.json}")
    Path(args.json).write_text(json.dumps({"elapsed_s": elapsed, "smoke": args.smoke, "results": b.results,
                                           "details": b.details}, indent=2))
    # A smoke run checks the harness (the test suite runs it): every figure must be measured and
    # every check pass; at tiny sizes the targets mean nothing.
    failed = [r for r in b.results
              if r["result"] == "not measured" or (r["result"] == "FAIL" and (r.get("check") or not args.smoke))]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
