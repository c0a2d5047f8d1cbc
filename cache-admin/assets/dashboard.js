// The cache dashboard: polls `stats` every second and draws what changed since the last poll.
// Everything is relative to the page's own address, so the router can be mounted anywhere.
(function () {
  'use strict';

  const base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';
  const TOKEN_KEY = 'cache-admin-token';
  const HISTORY = 300; // points kept per chart: five minutes at one per second
  const TIERS = ['request', 'local', 'remote'];
  const RESULTS = ['hit', 'miss', 'stale', 'error'];
  const MODES = ['on', 'off', 'shadow', '10%', '25%', '50%', '75%', '90%'];
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let previous = null; // the last stats document and when it was read
  let busy = false;
  let flagsShown = '';
  let lastStats = null;
  let lastFlags = [];

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, options) {
    const init = Object.assign({ cache: 'no-store' }, options || {});
    init.headers = { Authorization: 'Bearer ' + token };
    if (init.body !== undefined) init.headers['Content-Type'] = 'application/json';
    const response = await fetch(base + path, init);
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!response.ok) throw new ApiError(response.status, (body && body.error) || response.statusText);
    return body;
  }

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  }

  function setStatus(text, kind) {
    const status = $('status');
    status.textContent = text;
    status.className = kind;
  }

  const fixed = (v, digits) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));
  const percent = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '%');
  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return n.toFixed(i ? 1 : 0) + ' ' + units[i];
  }

  // One uPlot chart with a rolling window; its element records how many points it drew and
  // how many had a non-zero value, so a test (or a curious human) can read them.
  function chart(id, series, yFormat) {
    const target = $(id);
    const data = [[]].concat(series.map(() => []));
    const opts = {
      width: Math.max(target.clientWidth, 300),
      height: 200,
      scales: { x: { time: true } },
      axes: [{}, { size: 80, values: (u, ticks) => ticks.map(yFormat) }],
      series: [{}].concat(series.map(([label, stroke]) => ({ label, stroke, width: 2 }))),
    };
    const plot = new uPlot(opts, data, target);
    return {
      push(time, values) {
        data[0].push(time);
        values.forEach((v, i) => data[i + 1].push(v));
        if (data[0].length > HISTORY) data.forEach((column) => column.shift());
        plot.setData(data);
        const points = Number(target.dataset.points) + 1;
        const nonzero = Number(target.dataset.nonzero) + (values.some((v) => v > 0) ? 1 : 0);
        target.dataset.points = String(points);
        target.dataset.nonzero = String(nonzero);
        target.dataset.last = JSON.stringify(values);
      },
      resize() { plot.setSize({ width: Math.max(target.clientWidth, 300), height: 200 }); },
    };
  }

  const charts = {
    ratio: chart('chart-ratio', [['request', '#7a5af8'], ['local', '#2e90fa'], ['remote', '#f79009']],
      (v) => (v * 100).toFixed(0) + '%'),
    rps: chart('chart-rps', [['hit', '#12b76a'], ['miss', '#f04438'], ['stale', '#f79009'],
      ['error', '#912018'], ['bypass', '#667085']], (v) => v.toFixed(1)),
    latency: chart('chart-latency', [['p50', '#2e90fa'], ['p99', '#f04438']], (v) => v.toFixed(2)),
    bytes: chart('chart-bytes', [['bytes', '#2e90fa']], (v) => bytes(v)),
  };
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

  // Sums over every cache name: lookups per tier and result, and bypasses.
  function totals(stats) {
    const sum = { bypass: 0 };
    TIERS.forEach((t) => { sum[t] = { hit: 0, miss: 0, stale: 0, error: 0 }; });
    stats.caches.forEach((c) => {
      sum.bypass += c.bypassed;
      TIERS.forEach((t) => RESULTS.forEach((r) => { sum[t][r] += c.tiers[t][r]; }));
    });
    return sum;
  }

  function draw(stats, now) {
    const time = now / 1000;
    const latency = stats.totals.load_latency;
    const localBytes = stats.local ? stats.local.bytes : 0;
    charts.latency.push(time, [latency.p50_ms, latency.p99_ms]);
    charts.bytes.push(time, [localBytes]);
    $('p50').textContent = fixed(latency.p50_ms, 2) + ' ms';
    $('p50').dataset.value = latency.p50_ms === null ? '' : String(latency.p50_ms);
    $('p99').textContent = fixed(latency.p99_ms, 2) + ' ms';
    $('p99').dataset.value = latency.p99_ms === null ? '' : String(latency.p99_ms);
    $('local-bytes').textContent = stats.local
      ? bytes(localBytes) + ' · ' + stats.local.entries + ' entries' : 'none';
    $('local-bytes').dataset.value = String(localBytes);
    $('in-flight').textContent = stats.totals.loads_in_flight;
    $('in-flight').dataset.value = String(stats.totals.loads_in_flight);
    $('namespace').textContent = 'namespace ' + stats.namespace + (stats.remote_configured ? ' · Redis' : ' · no Redis');

    const current = totals(stats);
    if (previous) {
      const seconds = Math.max((now - previous.now) / 1000, 0.001);
      const before = totals(previous.stats);
      const delta = (t, r) => current[t][r] - before[t][r];
      const ratios = TIERS.map((t) => {
        const asked = delta(t, 'hit') + delta(t, 'miss') + delta(t, 'stale');
        return asked > 0 ? delta(t, 'hit') / asked : null;
      });
      const rates = RESULTS.map((r) => TIERS.reduce((s, t) => s + delta(t, r), 0) / seconds);
      rates.push((current.bypass - before.bypass) / seconds);
      charts.ratio.push(time, ratios);
      charts.rps.push(time, rates);
      const total = rates.reduce((a, b) => a + b, 0);
      $('rps').textContent = total.toFixed(1);
      $('rps').dataset.value = String(total);
      $('local-ratio').textContent = percent(ratios[1]);
      $('local-ratio').dataset.value = ratios[1] === null ? '' : String(ratios[1]);
    }
    previous = { stats, now };
    drawCaches(stats);
  }

  function drawCaches(stats) {
    const body = $('caches').tBodies[0];
    body.replaceChildren(...stats.caches.map((c) => {
      const row = el('tr');
      [c.name, c.mode, percent(c.tiers.request.hit_ratio), percent(c.tiers.local.hit_ratio),
        percent(c.tiers.remote.hit_ratio), c.loads, c.coalesced, c.stale_served, c.errors,
        fixed(c.load_latency.p50_ms, 2), fixed(c.load_latency.p99_ms, 2)]
        .forEach((v) => row.appendChild(el('td', v)));
      return row;
    }));
  }

  // The flag table: every explicit entry and every cache name seen, each with a switch.
  function drawFlags() {
    const rows = new Map();
    lastFlags.forEach((f) => rows.set(f.name, { mode: f.mode, layer: f.layer }));
    (lastStats ? lastStats.caches : []).forEach((c) => {
      if (!rows.has(c.name)) rows.set(c.name, { mode: c.mode, layer: 'default' });
    });
    const shown = JSON.stringify([...rows]);
    if (shown === flagsShown || document.activeElement && document.activeElement.dataset.flag) return;
    flagsShown = shown;
    const body = $('flags').tBodies[0];
    body.replaceChildren(...[...rows].sort().map(([name, flag]) => {
      const row = el('tr');
      row.appendChild(el('td', name));
      row.appendChild(el('td', flag.mode, { 'data-mode': flag.mode }));
      row.appendChild(el('td', flag.layer));
      const select = el('select', undefined, { 'data-flag': name, 'aria-label': 'mode of ' + name });
      const modes = MODES.includes(flag.mode) ? MODES : MODES.concat([flag.mode]);
      modes.forEach((m) => {
        const option = el('option', m, { value: m });
        option.selected = m === flag.mode;
        select.appendChild(option);
      });
      select.addEventListener('change', () => changeFlags(name + '=' + select.value, select));
      const cell = el('td');
      cell.appendChild(select);
      row.appendChild(cell);
      return row;
    }));
  }

  async function changeFlags(spec, control) {
    const result = $('flag-result');
    try {
      const table = await api('flags', { method: 'PUT', body: JSON.stringify({ spec }) });
      lastFlags = table.flags;
      result.textContent = 'applied: ' + spec;
      result.className = 'note ok';
    } catch (e) {
      result.textContent = 'refused: ' + e.message;
      result.className = 'note error';
    }
    if (control) control.blur();
    flagsShown = '';
    drawFlags();
  }

  async function refreshFlags() {
    lastFlags = (await api('flags')).flags;
    drawFlags();
  }

  async function refreshHealth() {
    const health = await api('health');
    const box = $('health');
    const list = el('ul');
    health.sources.forEach((s) => {
      const item = el('li', s.name + ': ' + (s.ok ? 'ok' : 'attention') + ' ' + JSON.stringify(s.details));
      s.findings.forEach((f) => item.appendChild(el('div', f, { class: 'warn' })));
      list.appendChild(item);
    });
    if (!health.sources.length) list.appendChild(el('li', 'no remote tier or queues to watch'));
    box.replaceChildren(list);
  }

  let ticks = 0;
  async function tick() {
    if (!token || busy) return;
    busy = true;
    try {
      const stats = await api('stats');
      lastStats = stats;
      draw(stats, Date.now());
      if (ticks % 5 === 0) { await refreshFlags(); await refreshHealth(); } else { drawFlags(); }
      ticks += 1;
      setStatus('live · ' + new Date().toLocaleTimeString(), 'ok');
    } catch (e) {
      if (e.status === 401) { setStatus('unauthorized: enter the admin token', 'warn'); }
      else { setStatus('error: ' + e.message, 'error'); }
    } finally {
      busy = false;
    }
  }

  $('token').value = token;
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    ticks = 0;
    tick();
  });

  $('flag-form').addEventListener('submit', (event) => {
    event.preventDefault();
    changeFlags($('flag-spec').value.trim());
  });

  $('inspect-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const box = $('inspect-result');
    try {
      const found = await api('keys/' + encodeURIComponent($('inspect-key').value.trim()));
      const table = el('table');
      table.appendChild(el('tr')).append(...['tier', 'state', 'fresh until', 'stale until', 'size', 'load ms']
        .map((h) => el('th', h)));
      [['local', found.local], ['remote', found.remote]].forEach(([tier, entry]) => {
        const row = table.appendChild(el('tr'));
        const when = (ms) => new Date(ms).toLocaleTimeString();
        const cells = entry && entry.fresh_until_ms
          ? [tier, entry.state, when(entry.fresh_until_ms), when(entry.stale_until_ms), bytes(entry.size_bytes), fixed(entry.load_ms, 2)]
          : [tier, entry ? entry.status + (entry.detail ? ': ' + entry.detail : '') : 'absent', '', '', '', ''];
        cells.forEach((c) => row.appendChild(el('td', c)));
      });
      box.replaceChildren(el('div', found.key + ' · held in: ' + (found.tiers.join(', ') || 'no tier')), table);
      box.className = 'note';
    } catch (e) {
      box.textContent = 'refused: ' + e.message;
      box.className = 'note error';
    }
  });

  $('invalidate-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const box = $('invalidate-result');
    const body = {};
    body[$('invalidate-kind').value] = $('invalidate-target').value.trim();
    try {
      await api('invalidate', { method: 'POST', body: JSON.stringify(body) });
      box.textContent = 'invalidated ' + JSON.stringify(body);
      box.className = 'note ok';
    } catch (e) {
      box.textContent = 'refused: ' + e.message;
      box.className = 'note error';
    }
  });

  setInterval(tick, 1000);
  tick();
})();
