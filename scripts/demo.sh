#!/usr/bin/env bash
# Installs what is missing, builds, starts the bundled Scenario API emulator on loopback
# (HTTPS with a throw-away CA), queues a handful of requests, runs soundtrackd until the
# queue is idle, and shows what was stored and where.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
echo "== building"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target soundtrackd soundtrackctl scenario-emulator

demo=$root/build/demo
rm -rf "$demo" && mkdir -p "$demo/out" "$demo/export"
cd "$demo"

echo "== a throw-away CA and certificate for the emulator (127.0.0.1)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
  -days 1 -subj "/CN=soundtrackd demo CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 \
  -extfile server.ext 2>/dev/null

echo "== starting the Scenario API emulator"
"$root/build/tests/scenario-emulator" --listen 127.0.0.1:0 --port-file port --tls-cert server.pem \
  --tls-key server.key --job-duration 3s --quiet > emulator.log 2>&1 &
emulator_pid=$!
trap 'kill $emulator_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
port=$(cat port)
echo "   listening on https://127.0.0.1:$port (log: $demo/emulator.log)"

cat > soundtrackd.toml <<TOML
[database]
path = "$demo/queue.db"

[api]
base_url = "https://127.0.0.1:$port/v1"
ca_file = "$demo/ca.pem"

[queue]
poll_interval = "1s"
poll_interval_max = "2s"

[storage]
output_dir = "$demo/out"

[server]
listen = "127.0.0.1:0"
TOML

# The emulator's credentials. Real ones go in systemd credentials or the environment, never in the config.
export SCENARIO_API_KEY=test-key SCENARIO_API_SECRET=test-secret
ctl=("$root/build/soundtrackctl" --config soundtrackd.toml)

echo "== queueing requests"
"${ctl[@]}" enqueue --batch demo --name "Opening Titles" --prompt "Epic orchestral opening, brass and choir, 90 BPM"
"${ctl[@]}" enqueue --batch demo --name "Tavern" --prompt "Cozy medieval tavern folk, lute and fiddle" --instrumental
"${ctl[@]}" enqueue --batch demo --name "Boss Fight" --prompt "Aggressive synthwave, 160 BPM, driving bass" --priority 5
# Any program can queue work: here the sqlite3 CLI.
sqlite3 queue.db "INSERT INTO jobs(prompt, lyrics, name, batch) VALUES('Warm acoustic pop ballad', '[Verse]
Morning light on the harbour
[Chorus]
Sail on, sail on', 'Harbour Song', 'demo');"
sqlite3 queue.db "INSERT INTO jobs(prompt, sample_rate, name, batch) VALUES('This one uses a sample rate the API refuses', 12345, 'Rejected', 'demo');"
# A night's work usually arrives as a file: JSON Lines (or CSV), all rows or none.
cat > night.jsonl <<'JSONL'
{"prompt": "Rain on a tin roof, ambient, slow", "name": "Rain", "is_instrumental": true}
{"prompt": "Chiptune victory fanfare, 8-bit", "name": "Victory", "priority": 1}
JSONL
"${ctl[@]}" import night.jsonl --batch demo

echo "== what the queued rows would cost (the API's dry-run price)"
"${ctl[@]}" estimate --batch demo || true   # exit 1: the API refuses to price the bad row, as it will refuse to run it

echo "== running soundtrackd until the queue is idle, watching the batch"
"$root/build/soundtrackd" --config soundtrackd.toml --exit-when-idle > daemon.log 2>&1 &
daemon_pid=$!
trap 'kill $emulator_pid $daemon_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "status server listening on" daemon.log && break; sleep 0.1; done
status_url=$(sed -n 's/.*status server listening on \(http[^ ]*\).*/\1/p' daemon.log | head -1)
echo "   status server and dashboard: $status_url/ (health: $(curl -s "$status_url/healthz"))"
"${ctl[@]}" watch --batch demo || true   # exit 1 when some rows failed: one does, on purpose
wait $daemon_pid
echo "   daemon log: $demo/daemon.log"

echo "== the queue"
"${ctl[@]}" status --batch demo
sqlite3 -header -column queue.db \
  "SELECT j.id, j.name, j.status, a.size_bytes AS bytes, substr(a.sha256, 1, 16) AS sha256, j.last_error
   FROM jobs j LEFT JOIN assets a ON a.job_id = j.id ORDER BY j.id;"

echo "== the audio"
echo "stored in the database: $demo/queue.db (table assets, column data)"
echo "written by the daemon (storage.output_dir): $demo/out"
ls -l "$demo/out"
"${ctl[@]}" export --dir "$demo/export" --batch demo
echo "exported with soundtrackctl export: $demo/export"
ls -l "$demo/export"
