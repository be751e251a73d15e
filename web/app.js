// The dashboard: hash routes (#/, #/jobs, #/jobs/42, #/new) rendered from soundtrackd's JSON
// API, refreshed by polling while the tab is visible. DOM is built with textContent only
// (prompts and errors are user data), so nothing here needs escaping.
'use strict';

const STATUSES = ['queued', 'submitting', 'running', 'downloading', 'succeeded', 'failed', 'cancelled'];
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 4000;
const PAGE_SIZE = 50;

// ---------------------------------------------------------------- small helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function svg(tag, attrs) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, value);
  return el;
}

let clock_skew = 0;  // server epoch minus ours, from /v1/overview's "now"
const server_now = () => Date.now() / 1000 + clock_skew;

function fmt_time(epoch) {
  if (epoch === null || epoch === undefined || epoch === '') return '—';
  return new Date(epoch * 1000).toLocaleString();
}

function fmt_duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return '—';
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return seconds + ' s';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes + ' min';
  const hours = Math.floor(minutes / 60);
  return hours + ' h ' + (minutes % 60) + ' min';
}

function fmt_ago(epoch) {
  if (epoch === null || epoch === undefined) return '—';
  return fmt_duration(server_now() - epoch) + ' ago';
}

function badge(status) {
  return h('span', {class: 'badge s-' + status, 'data-role': 'status', text: status});
}

// ---------------------------------------------------------------- the API

class api_error extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

async function api(method, path, body) {
  const options = {method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
  if (method !== 'GET') {
    // The JSON content type (with the server's Origin check) is what stops cross-site POSTs.
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body || {});
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new api_error(0, 'cannot reach soundtrackd (' + e.message + ')');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = {error: text.trim()}; }
  }
  if (response.status === 401 && path !== 'v1/session') {
    ask_for_token();
    throw new api_error(401, 'this soundtrackd needs its token');
  }
  if (!response.ok) {
    throw new api_error(response.status, (data && data.error) || 'HTTP ' + response.status, data && data.field);
  }
  return data;
}

// ---------------------------------------------------------------- token prompt

let token_pending = false;

function ask_for_token() {
  if (token_pending) return;
  token_pending = true;
  stop_polling();
  const dialog = document.getElementById('token-dialog');
  document.getElementById('token-error').hidden = true;
  if (!dialog.open) dialog.showModal();
  document.getElementById('token-input').focus();
}

async function submit_token(event) {
  event.preventDefault();
  const input = document.getElementById('token-input');
  const error = document.getElementById('token-error');
  try {
    await api('POST', 'v1/session', {token: input.value});
  } catch (e) {
    error.textContent = e.status === 401 ? 'That token is not the one in server.token_file.' : e.message;
    error.hidden = false;
    return;
  }
  input.value = '';
  token_pending = false;
  document.getElementById('token-dialog').close();
  route();
}

// ---------------------------------------------------------------- polling and routing

let view = null;        // {refresh(generation): Promise} of the page on screen
let poll_timer = null;
let route_id = 0;       // bumped on navigation, for answers fetched outside poll()

function set_live(state, title) {
  const live = document.getElementById('live');
  live.className = 'live ' + state;
  live.title = title;
}

function stop_polling() {
  clearTimeout(poll_timer);
  poll_timer = null;
}

// Bumped by every poll: an answer that comes back after a newer poll started (a filter was
// changed, an action was taken) is dropped instead of painting older data over newer.
let poll_generation = 0;
const is_current = (generation) => generation === poll_generation;

async function poll() {
  stop_polling();
  const generation = ++poll_generation;
  if (!view || !view.refresh || token_pending) return;
  try {
    await view.refresh(generation);
    if (!is_current(generation)) return;  // a newer poll owns the timer
    set_live('', 'Live: updated ' + new Date().toLocaleTimeString());
    show_banner_error(null);
  } catch (e) {
    if (!is_current(generation) || e.status === 401) return;  // 401: the token prompt takes over
    set_live('down', e.message);
    show_banner_error(e.message);
  }
  // Hidden tabs are not polled at all: a page left open all night costs nothing until looked at.
  if (!document.hidden && !token_pending) poll_timer = setTimeout(poll, POLL_MS);
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    stop_polling();
    set_live('paused', 'Paused while the tab is hidden');
  } else {
    poll();
  }
});

let banner_health = null;
let banner_error = null;

function paint_banner() {
  const banner = document.getElementById('banner');
  const text = banner_error || banner_health;
  banner.hidden = !text;
  banner.className = 'banner ' + (banner_error ? 'bad' : 'warn');
  banner.textContent = text || '';
}

function show_banner_error(message) { banner_error = message; paint_banner(); }
function show_health(health) {
  banner_health = health && !health.ok ? 'paused: ' + (health.reason || 'unhealthy') : null;
  paint_banner();
}

function parse_hash() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  return {path, params: new URLSearchParams(query || '')};
}

function route() {
  route_id++;
  stop_polling();
  const {path, params} = parse_hash();
  const main = document.getElementById('view');
  main.replaceChildren();
  let nav = 'overview';
  let match;
  if (path === '/' || path === '') {
    view = overview_view(main);
  } else if (path === '/jobs') {
    view = jobs_view(main, params);
    nav = 'jobs';
  } else if ((match = path.match(/^\/jobs\/(\d+)$/))) {
    view = job_view(main, Number(match[1]));
    nav = 'jobs';
  } else if (path === '/new') {
    view = new_job_view(main);
    nav = 'new';
  } else {
    view = null;
    main.append(h('p', {}, 'No such page. ', h('a', {href: '#/'}, 'Back to the overview')));
  }
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
  if (view) poll();
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('token-form').addEventListener('submit', submit_token);
  document.getElementById('token-dialog').addEventListener('cancel', (e) => e.preventDefault());
  route();
});

// ---------------------------------------------------------------- overview

function overview_view(main) {
  main.append(h('h1', {}, 'Overview ', h('span', {id: 'health', class: 'health'})));
  const counts = h('div', {id: 'counts', class: 'grid'});
  const stats = h('section', {class: 'panel'}, h('h2', {}, 'Activity'), h('div', {id: 'stats', class: 'stats'}));
  const chart = h('section', {class: 'panel chart'}, h('h2', {}, 'Completions per minute, last 6 hours'),
                  h('div', {id: 'chart'}));
  const batches = h('section', {class: 'panel'}, h('h2', {}, 'Batches'), h('div', {id: 'batches'}));
  main.append(counts, stats, chart, batches);

  return {
    async refresh(generation) {
      const data = await api('GET', 'v1/overview');
      if (!is_current(generation)) return;
      clock_skew = data.now - Date.now() / 1000;
      show_health(data.health);

      const health = document.getElementById('health');
      health.className = 'health ' + (data.health.ok ? 'ok' : 'bad');
      health.textContent = data.health.ok ? 'running' : 'paused';  // the banner says why

      counts.replaceChildren(...STATUSES.map((status) =>
        h('a', {class: 'card', href: '#/jobs?status=' + status, 'data-status': status},
          h('div', {class: 'n', text: String(data.counts[status] || 0)}),
          h('div', {class: 'label s-' + status, text: status}))));

      const done_last_hour = data.throughput
        .filter((p) => p.minute >= data.now - 3600).reduce((sum, p) => sum + p.completed, 0);
      document.getElementById('stats').replaceChildren(
        stat('Queue lag', fmt_duration(data.queue_lag_seconds), 'How long the oldest due row has waited', 'queue-lag'),
        stat('Finished in the last hour', done_last_hour, null, 'last-hour'),
        stat('Rate-limit waits', data.rate_limit_waits, 'Times the API answered 429', 'rate-limit-waits'),
        stat('Retries', data.retries, 'Steps tried again after an error', 'retries'));

      document.getElementById('chart').replaceChildren(throughput_chart(data.throughput, data.now));

      const list = document.getElementById('batches');
      if (!data.batches.length) list.replaceChildren(h('p', {class: 'muted'}, 'No batches yet.'));
      else list.replaceChildren(...data.batches.map(batch_row));
    },
  };
}

function stat(label, value, title, role) {
  return h('div', {title, 'data-role': role}, h('span', {class: 'muted'}, label + ': '), h('b', {text: String(value)}));
}

function batch_row(batch) {
  const total = batch.total || 0;
  const share = (n) => (total ? (100 * (n || 0)) / total : 0);
  const c = batch.counts;
  const in_flight = (c.submitting || 0) + (c.running || 0) + (c.downloading || 0);
  const bar = h('div', {class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(total),
                        'aria-valuenow': String(batch.done)});
  for (const [cls, n] of [['p-ok', c.succeeded], ['p-bad', c.failed], ['p-cancel', c.cancelled], ['p-run', in_flight]]) {
    const part = h('span', {class: cls});
    part.style.width = share(n) + '%';
    bar.append(part);
  }
  const name = batch.batch === null ? '(no batch)' : batch.batch;
  const href = batch.batch === null ? '#/jobs' : '#/jobs?batch=' + encodeURIComponent(batch.batch);
  const detail = STATUSES.filter((s) => c[s]).map((s) => c[s] + ' ' + s).join(' · ');
  return h('div', {class: 'batch', 'data-batch': name},
    h('div', {class: 'batch-head'},
      h('a', {href}, h('b', {text: name})),
      h('span', {'data-role': 'done'}, batch.done + ' / ' + total + ' done')),
    bar,
    h('div', {class: 'batch-head muted'},
      h('span', {text: detail}),
      h('span', {}, (batch.rate_per_minute ? batch.rate_per_minute.toFixed(1) + '/min · ' : ''),
        total && batch.done === total ? 'finished'
          : ['ETA ', h('span', {'data-role': 'eta', text: batch.eta_seconds === null ? '—' : fmt_duration(batch.eta_seconds)})])));
}

function throughput_chart(points, now) {
  const minutes = 360;
  const start = Math.floor(now / 60) * 60 - (minutes - 1) * 60;
  const per_minute = new Map(points.map((p) => [Math.floor(p.minute / 60) * 60, p.completed]));
  const peak = Math.max(1, ...points.map((p) => p.completed));
  const height = 100;
  const chart = svg('svg', {viewBox: `0 0 ${minutes} ${height}`, preserveAspectRatio: 'none', role: 'img',
                           'aria-label': 'completions per minute'});
  chart.append(svg('line', {class: 'axis', x1: 0, y1: height - 0.5, x2: minutes, y2: height - 0.5}));
  for (const [minute, completed] of per_minute) {
    const x = (minute - start) / 60;
    if (x < 0 || x >= minutes || !completed) continue;
    const bar_height = (completed / peak) * (height - 4);
    const bar = svg('rect', {class: 'bar', x, y: height - bar_height, width: 1, height: bar_height});
    const title = svg('title', {});
    title.textContent = completed + ' at ' + new Date(minute * 1000).toLocaleTimeString();
    bar.append(title);
    chart.append(bar);
  }
  return h('div', {},
    chart,
    h('div', {class: 'batch-head muted'}, h('span', {}, '6 h ago'), h('span', {}, 'peak ' + peak + '/min'), h('span', {}, 'now')));
}

// ---------------------------------------------------------------- jobs list

function jobs_view(main, params) {
  const filter = {
    status: new Set((params.get('status') || '').split(',').filter((s) => STATUSES.includes(s))),
    batch: params.get('batch') || '',
    q: params.get('q') || '',
    offset: Math.max(0, Number(params.get('offset')) || 0),
  };
  const id = route_id;
  let view_ref = null;

  const sync = () => {
    const query = new URLSearchParams();
    if (filter.status.size) query.set('status', [...filter.status].join(','));
    if (filter.batch) query.set('batch', filter.batch);
    if (filter.q) query.set('q', filter.q);
    if (filter.offset) query.set('offset', filter.offset);
    const text = query.toString();
    // replaceState: typing in a filter must not rebuild the page (and lose focus) or fill history.
    history.replaceState(null, '', '#/jobs' + (text ? '?' + text : ''));
    poll();
  };

  let debounce = null;
  const search = h('input', {id: 'filter-q', type: 'search', placeholder: 'prompt or name', value: filter.q,
                             oninput: () => { clearTimeout(debounce); debounce = setTimeout(() => { filter.q = search.value.trim(); filter.offset = 0; sync(); }, 300); }});
  const batch = h('input', {id: 'filter-batch', type: 'text', list: 'batch-names', placeholder: 'any', value: filter.batch,
                            onchange: () => { filter.batch = batch.value.trim(); filter.offset = 0; sync(); }});
  const statuses = h('div', {class: 'statuses'}, STATUSES.map((status) =>
    h('label', {class: 'check'},
      h('input', {type: 'checkbox', 'data-status': status, checked: filter.status.has(status),
                  onchange: (e) => { e.target.checked ? filter.status.add(status) : filter.status.delete(status); filter.offset = 0; sync(); }}),
      h('span', {class: 's-' + status, text: status}))));

  main.append(
    h('h1', {}, 'Jobs'),
    h('div', {class: 'panel'},
      h('div', {class: 'filters'},
        h('div', {}, h('label', {for: 'filter-q'}, 'Search'), search),
        h('div', {}, h('label', {for: 'filter-batch'}, 'Batch'), batch),
        h('div', {}, h('label', {}, 'Status'), statuses)),
      h('datalist', {id: 'batch-names'}),
      h('table', {id: 'jobs-table'},
        h('thead', {}, h('tr', {},
          h('th', {class: 'num'}, 'id'), h('th', {}, 'status'), h('th', {}, 'name / prompt'),
          h('th', {class: 'hide-narrow'}, 'batch'), h('th', {class: 'num hide-narrow'}, 'priority'),
          h('th', {class: 'num hide-narrow'}, 'attempts'), h('th', {class: 'hide-narrow'}, 'updated'))),
        h('tbody', {id: 'jobs-body'})),
      h('div', {class: 'pager'},
        h('button', {id: 'page-prev', type: 'button', onclick: () => { filter.offset = Math.max(0, filter.offset - PAGE_SIZE); sync(); }}, '‹ Newer'),
        h('span', {id: 'page-info', class: 'muted'}),
        h('button', {id: 'page-next', type: 'button', onclick: () => { filter.offset += PAGE_SIZE; sync(); }}, 'Older ›'))));

  // Batch names for the filter's suggestions, once per visit.
  api('GET', 'v1/overview').then((data) => {
    if (id !== route_id) return;
    document.getElementById('batch-names').replaceChildren(
      ...data.batches.filter((b) => b.batch !== null).map((b) => h('option', {value: b.batch})));
  }).catch(() => {});

  view_ref = {
    async refresh(generation) {
      const query = new URLSearchParams({limit: PAGE_SIZE, offset: filter.offset});
      if (filter.status.size) query.set('status', [...filter.status].join(','));
      if (filter.batch) query.set('batch', filter.batch);
      if (filter.q) query.set('q', filter.q);
      const data = await api('GET', 'v1/jobs?' + query);
      if (!is_current(generation)) return;
      const body = document.getElementById('jobs-body');
      if (!data.jobs.length) {
        body.replaceChildren(h('tr', {}, h('td', {colspan: '7', class: 'muted'}, 'No job matches.')));
      } else {
        body.replaceChildren(...data.jobs.map((job) =>
          h('tr', {'data-id': String(job.id), onclick: () => { location.hash = '#/jobs/' + job.id; }},
            h('td', {class: 'num'}, h('a', {href: '#/jobs/' + job.id, text: String(job.id)})),
            h('td', {}, badge(job.status),
              job.status === 'running' && job.progress ? h('span', {class: 'muted'}, ' ' + Math.round(job.progress * 100) + '%') : null),
            h('td', {class: 'clip', title: job.prompt},
              job.name ? h('b', {text: job.name + ' '}) : null, h('span', {class: 'muted', text: job.prompt})),
            h('td', {class: 'hide-narrow', text: job.batch === null ? '' : job.batch}),
            h('td', {class: 'num hide-narrow', text: String(job.priority)}),
            h('td', {class: 'num hide-narrow', text: String(job.attempts)}),
            h('td', {class: 'hide-narrow', title: fmt_time(job.updated_at), text: fmt_ago(job.updated_at)}))));
      }
      const last = Math.min(data.total, filter.offset + data.jobs.length);
      document.getElementById('page-info').textContent =
        data.total ? `${filter.offset + 1}–${last} of ${data.total}` : '0 jobs';
      document.getElementById('page-prev').disabled = filter.offset === 0;
      document.getElementById('page-next').disabled = last >= data.total;
    },
  };
  return view_ref;
}

// ---------------------------------------------------------------- one job

const REQUEST_FIELDS = ['prompt', 'lyrics', 'is_instrumental', 'lyrics_optimizer', 'sample_rate', 'bitrate', 'priority',
                        'batch', 'name', 'run_after', 'max_attempts'];
const TIME_FIELDS = new Set(['created_at', 'updated_at', 'submitted_at', 'finished_at', 'next_attempt_at', 'run_after']);

function field_value(key, value) {
  if (value === null || value === undefined || value === '') return h('span', {class: 'muted'}, '—');
  if (TIME_FIELDS.has(key)) return h('span', {title: String(value)}, fmt_time(value));
  if (key === 'is_instrumental' || key === 'lyrics_optimizer') return value ? 'yes' : 'no';
  if (key === 'progress') return Math.round(value * 100) + '%';
  if (key === 'lyrics' || key === 'prompt') return h('pre', {text: value});
  if (key === 'remote_job_id') return h('code', {text: value});
  return String(value);
}

function field_list(job, keys) {
  return h('dl', {class: 'fields'}, keys.filter((k) => k in job).map((k) =>
    [h('dt', {text: k}), h('dd', {'data-field': k}, field_value(k, job[k]))]));
}

function job_view(main, job_id) {
  const message = h('div', {id: 'job-message', hidden: true});
  const priority = h('input', {id: 'priority-input', type: 'number', step: '1', 'aria-label': 'priority'});
  let priority_dirty = false;
  priority.addEventListener('input', () => { priority_dirty = true; });
  let shown_assets = null;

  const act = async (what, body) => {
    message.hidden = true;
    try {
      const data = await api('POST', `v1/jobs/${job_id}/${what}`, body);
      say('ok', what === 'priority' ? `priority set to ${data.job.priority}` : `${what}: job is now ${data.job.status}`);
      priority_dirty = false;
    } catch (e) {
      if (e.status !== 401) say('bad', e.message);
    }
    poll();
  };
  const say = (kind, text) => {
    message.className = 'message ' + kind;
    message.textContent = text;
    message.hidden = false;
  };

  const cancel = h('button', {id: 'cancel', type: 'button', class: 'danger',
                              title: 'Stops tracking the row; a remote job already running may still be billed',
                              onclick: () => act('cancel')}, 'Cancel');
  const retry = h('button', {id: 'retry', type: 'button', onclick: () => act('retry')}, 'Retry');
  const set_priority = h('button', {id: 'priority-set', type: 'button', title: 'Higher runs first (queued rows)',
                                    onclick: () => act('priority', {priority: Number(priority.value)})}, 'Set priority');

  main.append(
    h('p', {}, h('a', {href: '#/jobs'}, '‹ Jobs')),
    h('h1', {id: 'job-title'}, 'Job ' + job_id),
    message,
    h('div', {class: 'panel actions'}, cancel, retry, h('span', {class: 'inline'}, priority, set_priority)),
    h('div', {id: 'job-error'}),
    h('section', {class: 'panel'}, h('h2', {}, 'Tracks'), h('div', {id: 'tracks'})),
    h('div', {class: 'columns'},
      h('section', {class: 'panel'}, h('h2', {}, 'Request'), h('div', {id: 'job-request'})),
      h('section', {class: 'panel'}, h('h2', {}, 'State'), h('div', {id: 'job-state'}))),
    h('section', {class: 'panel'}, h('h2', {}, 'Timeline'), h('ol', {id: 'timeline', class: 'timeline'})));

  return {
    async refresh(generation) {
      let data;
      try {
        data = await api('GET', 'v1/jobs/' + job_id);
      } catch (e) {
        if (e.status === 404 && is_current(generation)) {
          main.replaceChildren(h('p', {}, `No job ${job_id}. `, h('a', {href: '#/jobs'}, 'All jobs')));
          view = null;
          return;
        }
        throw e;
      }
      if (!is_current(generation)) return;
      const job = data.job;
      document.getElementById('job-title').replaceChildren(
        (job.name ? job.name + ' ' : '') + '#' + job.id + ' ', h('span', {id: 'job-status'}, badge(job.status)),
        job.status === 'running' && job.progress ? h('span', {class: 'muted'}, ' ' + Math.round(job.progress * 100) + '%') : '');
      cancel.disabled = FINISHED.has(job.status);
      retry.disabled = !(job.status === 'failed' || job.status === 'cancelled');
      // Priority orders the queue: it means nothing once a row has left it.
      priority.disabled = set_priority.disabled = job.status !== 'queued';
      if (!priority_dirty && document.activeElement !== priority) priority.value = job.priority;

      document.getElementById('job-error').replaceChildren(
        job.last_error ? h('div', {class: 'error-box', 'data-field': 'last_error'}, h('b', {}, 'last_error: '), job.last_error) : '');
      document.getElementById('job-request').replaceChildren(field_list(job, REQUEST_FIELDS.concat(['created_at'])));
      const state_keys = Object.keys(job).filter((k) => !REQUEST_FIELDS.includes(k) && k !== 'created_at' && k !== 'id');
      document.getElementById('job-state').replaceChildren(field_list(job, state_keys));

      const events = [{at: job.created_at, kind: 'created', detail: ''}].concat(data.events);
      document.getElementById('timeline').replaceChildren(...events.map((event) =>
        h('li', {class: 'k-' + event.kind},
          h('b', {text: event.kind}), ' ', h('span', {class: 'muted', title: String(event.at), text: fmt_time(event.at)}),
          event.detail ? h('div', {text: event.detail}) : null)));

      // Rebuilt only when the set of tracks changes, so polling never interrupts playback.
      const asset_key = data.assets.map((a) => a.id).join(',');
      if (asset_key !== shown_assets) {
        shown_assets = asset_key;
        const tracks = document.getElementById('tracks');
        if (!data.assets.length) {
          tracks.replaceChildren(h('p', {class: 'muted'}, FINISHED.has(job.status) ? 'No stored track.' : 'No track yet.'));
        } else {
          tracks.replaceChildren(...data.assets.map((asset) => {
            const url = `v1/jobs/${job_id}/audio/${asset.id}`;
            return h('div', {class: 'track', 'data-asset': String(asset.id)},
              h('audio', {controls: true, preload: 'metadata', src: url}),
              // The server names the file as soundtrackctl export does (Content-Disposition).
              h('a', {href: url, download: true}, 'Download'),
              h('span', {class: 'muted'}, `${asset.mime_type}, ${(asset.size_bytes / 1024).toFixed(0)} KiB`),
              h('code', {class: 'muted', title: 'sha256', text: asset.sha256.slice(0, 12) + '…'}));
          }));
        }
      }
    },
  };
}

// ---------------------------------------------------------------- enqueue form

const FORM_FIELDS = [
  {name: 'prompt', label: 'Prompt', kind: 'textarea', wide: true, hint: 'Style of the track, 1 to 2000 characters'},
  {name: 'lyrics', label: 'Lyrics', kind: 'textarea', wide: true, hint: 'Up to 3500 characters; structure tags like [Verse]'},
  {name: 'name', label: 'Name', kind: 'text'},
  {name: 'batch', label: 'Batch', kind: 'text'},
  {name: 'priority', label: 'Priority', kind: 'number', hint: 'Higher runs first'},
  {name: 'sample_rate', label: 'Sample rate', kind: 'number', placeholder: '44100'},
  {name: 'bitrate', label: 'Bitrate', kind: 'number', placeholder: '256000'},
  {name: 'max_attempts', label: 'Max attempts', kind: 'number', placeholder: 'configured default'},
  {name: 'run_after', label: 'Not before', kind: 'datetime-local'},
  {name: 'is_instrumental', label: 'Instrumental', kind: 'checkbox'},
  {name: 'lyrics_optimizer', label: 'Lyrics optimizer', kind: 'checkbox'},
];

function new_job_view(main) {
  const message = h('div', {id: 'form-message', hidden: true});
  const form = h('form', {id: 'new-job', class: 'form', novalidate: true});
  const checks = h('div', {class: 'wide checks'});
  for (const field of FORM_FIELDS) {
    const input_id = 'field-' + field.name;
    let input;
    if (field.kind === 'textarea') input = h('textarea', {id: input_id, name: field.name});
    else if (field.kind === 'checkbox') input = h('input', {id: input_id, name: field.name, type: 'checkbox'});
    // Numbers are typed as text so whatever is entered reaches the API and its own message.
    else if (field.kind === 'number') input = h('input', {id: input_id, name: field.name, type: 'text', inputmode: 'numeric', placeholder: field.placeholder});
    else input = h('input', {id: input_id, name: field.name, type: field.kind});
    const error = h('p', {id: 'error-' + field.name, class: 'field-error', hidden: true});
    if (field.kind === 'checkbox') checks.append(h('div', {}, h('label', {class: 'check'}, input, field.label), error));
    else form.append(h('div', {class: field.wide ? 'wide' : ''},
      h('label', {for: input_id}, field.label, field.hint ? h('span', {}, ' · ' + field.hint) : null), input, error));
  }
  form.append(checks, h('div', {class: 'wide actions'},
    h('button', {id: 'submit-job', type: 'submit', class: 'primary'}, 'Queue it')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.hidden = true;
    for (const el of form.querySelectorAll('.field-error')) el.hidden = true;
    for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
    const body = {};
    for (const field of FORM_FIELDS) {
      const input = form.elements[field.name];
      if (field.kind === 'checkbox') { body[field.name] = input.checked; continue; }
      const text = input.value.trim();
      if (field.name === 'prompt') { body.prompt = input.value; continue; }
      if (!text) continue;
      if (field.kind === 'number') body[field.name] = /^-?\d+$/.test(text) ? Number(text) : text;
      else if (field.kind === 'datetime-local') body[field.name] = new Date(text).getTime() / 1000;
      else body[field.name] = field.name === 'lyrics' ? input.value : text;
    }
    try {
      const data = await api('POST', 'v1/jobs', body);
      location.hash = '#/jobs/' + data.job.id;
    } catch (e) {
      if (e.status === 401) return;
      const error = e.field && document.getElementById('error-' + e.field);
      if (error) {
        error.textContent = e.message;
        error.hidden = false;
        const input = form.elements[e.field];
        input.classList.add('invalid');
        input.focus();
      } else {
        message.className = 'message bad';
        message.textContent = e.message;
        message.hidden = false;
      }
    }
  });

  main.append(h('h1', {}, 'New job'), message, h('div', {class: 'panel'}, form));
  return null;  // nothing to poll
}
