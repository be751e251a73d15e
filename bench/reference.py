#!/usr/bin/python3
# The benchmark's yardstick: the asyncio script a competent user would write instead of
# running soundtrackd. Same loop, same schedule: claim rows, POST generate, poll (poll_interval
# x1.5 up to poll_interval_max), GET asset, download, store the BLOB and the status.
# One keep-alive aiohttp session, bounded concurrency, prepared (cached) sqlite3 statements.
# No retries beyond what the benchmark needs: the emulator answers every request.
import argparse
import asyncio
import hashlib
import signal
import ssl
import sqlite3
import time

import aiohttp


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--key", default="test-key")
    p.add_argument("--secret", default="test-secret")
    p.add_argument("--max-running", type=int, default=16)
    p.add_argument("--max-connections", type=int, default=8)
    p.add_argument("--poll-interval", type=float, default=1.0)
    p.add_argument("--poll-interval-max", type=float, default=2.0)
    p.add_argument("--scan-interval", type=float, default=1.0)
    return p.parse_args()


class Reference:
    def __init__(self, args):
        self.args = args
        # isolation_level=None: explicit BEGIN/COMMIT, like the daemon's short transactions.
        self.db = sqlite3.connect(args.db, isolation_level=None, timeout=30, cached_statements=64)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.running = set()
        self.stop = asyncio.Event()

    def now(self):
        return time.time()

    def claim(self, limit):
        rows = self.db.execute(
            "UPDATE jobs SET status='submitting', attempts=attempts+1, updated_at=? "
            "WHERE id IN (SELECT id FROM jobs WHERE status='queued' "
            "AND (run_after IS NULL OR run_after<=?) ORDER BY priority DESC, id LIMIT ?) "
            "RETURNING id, prompt, lyrics, is_instrumental, lyrics_optimizer, sample_rate, bitrate",
            (self.now(), self.now(), limit)).fetchall()
        return rows

    async def run_job(self, session, row):
        job_id, prompt, lyrics, instrumental, optimizer, sample_rate, bitrate = row
        base = self.args.base_url
        body = {"prompt": prompt, "lyrics": lyrics, "isInstrumental": bool(instrumental),
                "lyricsOptimizer": bool(optimizer), "sampleRate": sample_rate, "bitrate": bitrate}
        try:
            async with session.post(f"{base}/generate/custom/model_minimax-music-2-6", json=body, auth=self.auth) as r:
                r.raise_for_status()
                answer = await r.json()
            remote = answer["job"]["jobId"]
            now = self.now()
            self.db.execute("UPDATE jobs SET status='running', remote_job_id=?, cost_cu=?, submitted_at=?, "
                            "updated_at=? WHERE id=?",
                            (remote, answer.get("creativeUnitsCost"), now, now, job_id))
            delay = self.args.poll_interval
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, self.args.poll_interval_max)
                async with session.get(f"{base}/jobs/{remote}", auth=self.auth) as r:
                    r.raise_for_status()
                    job = (await r.json())["job"]
                if job["status"] == "success":
                    break
                if job["status"] in ("failure", "failed", "canceled"):
                    raise RuntimeError(f"remote job {remote} failed")
                self.db.execute("UPDATE jobs SET progress=?, updated_at=? WHERE id=?",
                                (job.get("progress"), self.now(), job_id))
            self.db.execute("UPDATE jobs SET status='downloading', updated_at=? WHERE id=?", (self.now(), job_id))
            stored = []
            for asset_id in job["metadata"]["assetIds"]:
                async with session.get(f"{base}/assets/{asset_id}", auth=self.auth) as r:
                    r.raise_for_status()
                    asset = (await r.json())["asset"]
                # The CDN is another origin: no credentials there.
                async with session.get(asset["url"]) as r:
                    r.raise_for_status()
                    data = await r.read()
                stored.append((asset_id, asset["mimeType"], data))
            now = self.now()
            self.db.execute("BEGIN IMMEDIATE")
            for asset_id, mime, data in stored:
                self.db.execute("INSERT INTO assets (job_id, remote_asset_id, mime_type, size_bytes, sha256, data) "
                                "VALUES (?, ?, ?, ?, ?, ?)",
                                (job_id, asset_id, mime, len(data), hashlib.sha256(data).hexdigest(), data))
            self.db.execute("UPDATE jobs SET status='succeeded', progress=1, finished_at=?, updated_at=? WHERE id=?",
                            (now, now, job_id))
            self.db.execute("COMMIT")
        except Exception as e:  # noqa: BLE001 - a user's script records and moves on
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            self.db.execute("UPDATE jobs SET status='failed', last_error=?, finished_at=? WHERE id=?",
                            (repr(e), self.now(), job_id))

    async def main(self):
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop.set)
        context = ssl.create_default_context(cafile=self.args.ca_file)
        connector = aiohttp.TCPConnector(ssl=context, limit=self.args.max_connections)
        self.auth = aiohttp.BasicAuth(self.args.key, self.args.secret)
        async with aiohttp.ClientSession(connector=connector) as session:
            wake = asyncio.Event()
            while not self.stop.is_set():
                free = self.args.max_running - len(self.running)
                if free > 0:
                    for row in self.claim(free):
                        task = asyncio.create_task(self.run_job(session, row))
                        self.running.add(task)
                        task.add_done_callback(lambda t: (self.running.discard(t), wake.set()))
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), self.args.scan_interval)
                except asyncio.TimeoutError:
                    pass
            for task in self.running:
                task.cancel()


if __name__ == "__main__":
    asyncio.run(Reference(parse_args()).main())
