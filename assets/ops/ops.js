// Blue Whale operations page. No framework and no build step; the page is served under a
// strict Content Security Policy, so the DOM is built with createElement/textContent only
// (server data, dead-letter payloads above all, is untrusted) and no inline style is set.
"use strict";

(() => {
  const SESSION_KEY = "bw-ops-session";
  const REFRESH_MS = 5000;
  const BUCKET_MS = 15000;
  const WINDOW_MS = 5 * 60 * 1000;
  const HISTORY_LENGTH = 3;
  // A backlog smaller than this is a queue doing its work, not one falling behind (the
  // CommandBacklogGrowing alert uses the same floor).
  const BACKLOG_ATTENTION_MIN = 100;
  const OUTBOX_AGE_LIMIT_S = 60;
  const PAGE_SIZE = 20;
  const MAX_PAGE_SIZE = 100; // the API's upper bound for `limit`
  const FORBIDDEN = "This account may not use the ops page (ADMIN or HANDLER only)";
  const SVG_NS = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  const integer = new Intl.NumberFormat();
  const oneDecimal = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const dateTime = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });

  let session = loadSession();
  // Bumped on every sign-in and sign-out, so answers to requests of an earlier session are dropped.
  let epoch = 0;
  let timer = null;
  let inFlight = false;
  let again = false;
  let refreshing = null;
  let flashTimer = null;
  const backlogHistory = new Map(); // "STREAM/name" → last backlog readings, oldest first
  let lastHistoryAt = null;
  let lastGeneratedAt = null;
  const pending = new Set(); // dead-letter ids with an action under way
  let list = { key: "", items: [], cursor: null, rendered: "" };

  // ---------- small helpers ----------

  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, String(value));
    }
    for (const child of [].concat(children)) if (child) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const num = (n) => (n === null || n === undefined ? "—" : integer.format(n));
  const short = (id) => String(id || "").slice(0, 8);
  const formatClock = (iso) => clock.format(new Date(iso));
  const formatDateTime = (iso) => (iso ? dateTime.format(new Date(iso)) : "—");

  function formatBytes(bytes) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return unit === 0 ? `${integer.format(value)} B` : `${oneDecimal.format(value)} ${units[unit]}`;
  }

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 10) return `${oneDecimal.format(seconds)} s`;
    if (seconds < 60) return `${Math.round(seconds)} s`;
    const s = Math.round(seconds);
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${integer.format(Math.floor(s / 3600))} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function formatSeconds(value) {
    if (value === 0) return "0";
    if (value < 0.01) return `${(value * 1000).toFixed(1)} ms`;
    if (value < 1) return `${Math.round(value * 1000)} ms`;
    return `${oneDecimal.format(value)} s`;
  }

  // randomUUID exists only in secure contexts; plain-http deployments fall back to hex.
  function idempotencyKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---------- session ----------

  function loadSession() {
    try {
      const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY));
      return stored && stored.access_token && stored.refresh_token ? stored : null;
    } catch {
      return null;
    }
  }

  function saveSession(next) {
    session = next;
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  async function readBody(response) {
    if (response.status === 204) return null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) return response.json();
    const text = await response.text();
    return text ? { title: text.slice(0, 200) } : null;
  }

  async function send(method, path, body, headers, token) {
    const all = { Accept: "application/json, application/problem+json", ...headers };
    if (body !== undefined) all["Content-Type"] = "application/json";
    if (token) all.Authorization = `Bearer ${token}`;
    const init = { method, headers: all, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(path, init);
  }

  // Refresh tokens are single-use: concurrent 401s must share one refresh, not race two.
  function refreshTokens() {
    if (!refreshing) refreshing = doRefresh().finally(() => { refreshing = null; });
    return refreshing;
  }

  async function doRefresh() {
    const current = session;
    if (!current) return false;
    const response = await send("POST", "/api/v1/auth/refresh", { refresh_token: current.refresh_token });
    if (!response.ok) return false;
    const pair = await response.json();
    if (session !== current) return false; // signed out meanwhile
    saveSession({ ...current, access_token: pair.access_token, refresh_token: pair.refresh_token });
    return true;
  }

  /** An authenticated call; resolves to { status, body } for 2xx, throws ApiError otherwise. */
  async function api(method, path, { body, headers = {} } = {}) {
    if (!session) throw new ApiError(401, { detail: "Not signed in" });
    const myEpoch = epoch;
    const token = session.access_token;
    let response = await send(method, path, body, headers, token);
    if (response.status === 401 && session && epoch === myEpoch) {
      // Another request may already have refreshed; only refresh if we still hold the old token.
      const renewed = session.access_token !== token || (await refreshTokens());
      if (renewed && session) response = await send(method, path, body, headers, session.access_token);
    }
    const data = await readBody(response);
    if (response.ok) return { status: response.status, body: data };
    if (epoch === myEpoch) {
      if (response.status === 401) endSession("Your session has ended; sign in again.");
      else if (response.status === 403) endSession(FORBIDDEN);
    }
    throw new ApiError(response.status, data);
  }

  function problemText(error) {
    if (!(error instanceof ApiError)) return `network error: ${error.message}`;
    const p = error.problem;
    const fields = (p.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    return [p.detail || p.title || error.message, fields].filter(Boolean).join(" — ");
  }

  // ---------- signing in and out ----------

  function showSignedIn(signedIn) {
    $("signin").hidden = signedIn;
    $("dashboard").hidden = !signedIn;
    $("session-info").hidden = !signedIn;
    $("who").textContent = signedIn ? session.email : "";
  }

  function endSession(message) {
    const old = session;
    epoch += 1;
    saveSession(null);
    clearTimeout(timer);
    timer = null;
    resetData();
    showSignedIn(false);
    $("signin-error").textContent = message || "";
    if (old) logout(old.refresh_token);
    $("email").focus();
  }

  // Best effort: the server revokes the refresh token; nothing to do if that fails.
  function logout(refreshToken) {
    send("POST", "/api/v1/auth/logout", { refresh_token: refreshToken }).catch(() => {});
  }

  function resetData() {
    backlogHistory.clear();
    lastHistoryAt = null;
    lastGeneratedAt = null;
    pending.clear();
    list = { key: "", items: [], cursor: null, rendered: "" };
    for (const id of ["queue-rows", "dead-letter-rows", "endpoint-rows", "process-rows", "attention", "detail-body"]) {
      $(id).replaceChildren();
    }
    $("dead-letter-detail").hidden = true;
    $("discard-form").hidden = true;
    $("refresh-error").hidden = true;
    $("last-refresh").textContent = "";
    $("password").value = "";
  }

  async function signIn(event) {
    event.preventDefault();
    const email = $("email").value.trim();
    const password = $("password").value;
    const button = $("signin-submit");
    $("signin-error").textContent = "";
    button.disabled = true;
    try {
      const response = await send("POST", "/api/v1/auth/login", { email, password });
      const data = await readBody(response);
      if (!response.ok) throw new ApiError(response.status, data);
      epoch += 1;
      saveSession({ email, access_token: data.access_token, refresh_token: data.refresh_token });
      $("password").value = "";
      showSignedIn(true);
      refreshNow();
    } catch (error) {
      $("signin-error").textContent = problemText(error);
    } finally {
      button.disabled = false;
    }
  }

  // ---------- refresh loop ----------

  function schedule(delay) {
    clearTimeout(timer);
    timer = session && !document.hidden ? setTimeout(refresh, delay) : null;
  }

  function refreshNow() {
    if (inFlight) again = true; // the running refresh starts another as soon as it ends
    else schedule(0);
  }

  function listQuery(cursor, limit) {
    const params = new URLSearchParams({ status: $("dead-letter-status").value, limit: String(limit) });
    const reason = $("dead-letter-reason").value;
    if (reason) params.set("reason", reason); // an empty reason is not a valid filter
    if (cursor) params.set("cursor", cursor);
    return `/api/v1/ops/dead-letters?${params}`;
  }

  const filterKey = () => `${$("dead-letter-status").value}|${$("dead-letter-reason").value}`;

  async function refresh() {
    timer = null;
    if (!session || document.hidden) return;
    inFlight = true;
    again = false;
    const myEpoch = epoch;
    const key = filterKey();
    // Re-read as many rows as "More" has shown, so the list does not shrink under the reader.
    const limit = Math.min(MAX_PAGE_SIZE, Math.max(PAGE_SIZE, list.key === key ? list.items.length : 0));
    try {
      const [overview, page] = await Promise.all([
        api("GET", "/api/v1/ops/overview"),
        api("GET", listQuery(null, limit)),
      ]);
      if (epoch !== myEpoch) return;
      renderOverview(overview.body);
      if (filterKey() === key) {
        list = { ...list, key, items: page.body.items, cursor: page.body.next_cursor };
        renderDeadLetters();
      } else {
        again = true; // filter changed while reading: read again with the new one
      }
      markFresh(overview.body.generated_at);
    } catch (error) {
      if (epoch === myEpoch && session) markStale(error);
    } finally {
      inFlight = false;
      // Also when the session changed meanwhile: a new sign-in may be waiting on `again`.
      if (session) schedule(again ? 0 : REFRESH_MS);
    }
  }

  function markFresh(generatedAt) {
    const stamp = $("last-refresh");
    lastGeneratedAt = generatedAt;
    stamp.textContent = `updated ${formatClock(generatedAt)}`;
    stamp.classList.remove("stale");
    stamp.title = new Date(generatedAt).toString();
    $("refresh-error").hidden = true;
  }

  function markStale(error) {
    const stamp = $("last-refresh");
    stamp.textContent = lastGeneratedAt ? `updated ${formatClock(lastGeneratedAt)} — stale` : "not updated yet — stale";
    stamp.classList.add("stale");
    const box = $("refresh-error");
    box.textContent = `Refresh failed, showing the last data read: ${problemText(error)}`;
    box.hidden = false;
  }

  async function loadMore() {
    const button = $("dead-letter-more");
    const key = filterKey();
    button.disabled = true;
    try {
      const page = await api("GET", listQuery(list.cursor, PAGE_SIZE));
      if (filterKey() !== key) return;
      const seen = new Set(list.items.map((item) => item.id));
      list.items = list.items.concat(page.body.items.filter((item) => !seen.has(item.id)));
      list.cursor = page.body.next_cursor;
      renderDeadLetters();
    } catch (error) {
      flash(`Could not read more dead letters: ${problemText(error)}`, true);
    } finally {
      button.disabled = false;
    }
  }

  function filterChanged() {
    list = { key: "", items: [], cursor: null, rendered: "" };
    $("dead-letter-rows").replaceChildren();
    $("dead-letter-more").hidden = true;
    refreshNow();
  }

  // ---------- overview ----------

  function renderOverview(overview) {
    const growing = trackBacklogs(overview);
    renderAttention(overview, growing);
    renderQueues(overview.streams, growing);
    renderThroughput(overview);
    renderLatency(overview);
    renderOutbox(overview.outbox);
    renderDeadLetterCounts(overview.dead_letters);
    renderEndpoints(overview.webhook_endpoints);
    renderProcesses(overview.processes, overview.generated_at);
  }

  // Messages not yet delivered to any worker; ack pending is work in progress, bounded by the
  // consumer's max_ack_pending.
  const backlog = (c) => c.pending;

  /** Records this reading's backlogs; returns the keys of consumers growing over the last 3. */
  function trackBacklogs(overview) {
    const fresh = overview.generated_at !== lastHistoryAt; // refreshNow may re-read the same second
    lastHistoryAt = overview.generated_at;
    const present = new Set();
    const growing = new Set();
    for (const stream of overview.streams) {
      for (const consumer of stream.consumers) {
        const key = `${stream.name}/${consumer.name}`;
        present.add(key);
        const history = backlogHistory.get(key) || [];
        if (fresh) history.push(backlog(consumer));
        if (history.length > HISTORY_LENGTH) history.shift();
        backlogHistory.set(key, history);
        const rising = history.length === HISTORY_LENGTH
          && history[history.length - 1] >= BACKLOG_ATTENTION_MIN
          && history.every((v, i) => i === 0 || v > history[i - 1]);
        if (rising) growing.add(key);
      }
    }
    for (const key of backlogHistory.keys()) if (!present.has(key)) backlogHistory.delete(key);
    return growing;
  }

  function attentionItems(overview, growing) {
    const items = [];
    for (const stream of overview.streams) {
      for (const consumer of stream.consumers) {
        const key = `${stream.name}/${consumer.name}`;
        if (growing.has(key)) items.push(`Backlog growing: ${key} (${num(backlog(consumer))})`);
      }
    }
    const open = overview.dead_letters.open;
    if (open > 0) items.push(`${num(open)} open dead letter${open === 1 ? "" : "s"}`);
    const disabled = overview.webhook_endpoints.in_trouble.filter((e) => !e.enabled);
    for (const endpoint of disabled) items.push(`Webhook endpoint disabled: ${endpoint.url}`);
    const unlisted = overview.webhook_endpoints.disabled - disabled.length;
    if (unlisted > 0) items.push(`${num(unlisted)} more webhook endpoint${unlisted === 1 ? "" : "s"} disabled`);
    const age = overview.outbox.oldest_age_seconds;
    if (age !== null && age > OUTBOX_AGE_LIMIT_S) {
      items.push(`Outbox not draining: oldest row ${formatDuration(age)} old (${num(overview.outbox.rows)} rows)`);
    }
    if (!overview.processes.some((p) => p.role === "worker")) items.push("No worker process seen");
    return items;
  }

  function renderAttention(overview, growing) {
    const items = attentionItems(overview, growing);
    const target = $("attention");
    if (items.length === 0) target.replaceChildren(el("li", { className: "all-clear", text: "All clear" }));
    else target.replaceChildren(...items.map((text) => el("li", { className: "attention-item", text })));
  }

  function renderQueues(streams, growing) {
    const rows = [];
    for (const stream of streams) {
      rows.push(el("tr", { className: "stream-row", dataset: { stream: stream.name } }, [
        el("th", { scope: "rowgroup", colspan: 6 }, [
          el("span", { className: "stream-name", text: stream.name }),
          el("span", { className: "muted", text: ` ${num(stream.messages)} messages · ${formatBytes(stream.bytes)}` }),
        ]),
      ]));
      for (const c of stream.consumers) {
        const key = `${stream.name}/${c.name}`;
        const rate = c.acked_per_second === null ? "—" : oneDecimal.format(c.acked_per_second);
        rows.push(el("tr", { className: growing.has(key) ? "attention" : null, dataset: { consumer: key } }, [
          el("td", { className: "consumer", text: c.name }),
          el("td", { className: "num", text: num(c.pending) }),
          el("td", { className: "num", text: num(c.ack_pending) }),
          el("td", { className: "num", text: num(c.redelivered) }),
          el("td", { className: "num", text: num(c.waiting) }),
          el("td", { className: "num", text: rate }),
        ]));
      }
    }
    if (rows.length === 0) rows.push(emptyRow(6, "No streams"));
    $("queue-rows").replaceChildren(...rows);
  }

  const emptyRow = (span, text) => el("tr", { className: "empty-row" }, [el("td", { colspan: span, text })]);

  // ---------- charts ----------

  // Buckets are 15 s, aligned to the epoch; absent ones had no commands.
  function bucketSlots(overview) {
    const end = Date.parse(overview.generated_at);
    const byStart = new Map(overview.throughput.map((b) => [Date.parse(b.start), b]));
    const slots = [];
    const first = Math.floor((end - WINDOW_MS) / BUCKET_MS) * BUCKET_MS;
    for (let start = first; start <= end; start += BUCKET_MS) slots.push({ start, bucket: byStart.get(start) || null });
    return { end, slots };
  }

  const CHART = { width: 600, height: 130, left: 56, right: 12, top: 12, bottom: 24 };

  /**
   * Draws lines into an <svg>. series: [{ name, className, points: [{t, v}] }]; a null v is a
   * gap in the line. The y axis runs from 0 to the largest value.
   */
  function drawChart(target, { title, series, end, formatY, empty }) {
    const { width, height, left, right, top, bottom } = CHART;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    const start = end - WINDOW_MS;
    const values = series.flatMap((s) => s.points.map((p) => p.v)).filter((v) => v !== null);
    const max = values.length ? Math.max(...values) : 0;
    const yMax = max > 0 ? max * 1.1 : 1;
    const x = (t) => left + (Math.min(Math.max(t, start), end) - start) / WINDOW_MS * plotW;
    const y = (v) => top + plotH - (v / yMax) * plotH;

    const nodes = [svg("title", {}, title)];
    nodes.push(svg("rect", { class: "plot", x: left, y: top, width: plotW, height: plotH }));
    for (const frac of [0.25, 0.5, 0.75]) {
      const gy = top + plotH * frac;
      nodes.push(svg("line", { class: "grid-line", x1: left, x2: left + plotW, y1: gy, y2: gy }));
    }
    nodes.push(svg("text", { class: "axis-label", x: left - 6, y: top + plotH, "text-anchor": "end" }, "0"));
    if (!empty && max > 0) {
      nodes.push(svg("text", { class: "axis-label", x: left - 6, y: y(max) + 4, "text-anchor": "end" }, formatY(max)));
    }
    nodes.push(svg("text", { class: "axis-label", x: left, y: height - 6, "text-anchor": "start" }, formatClock(start)));
    nodes.push(svg("text", { class: "axis-label", x: left + plotW, y: height - 6, "text-anchor": "end" }, formatClock(end)));

    if (empty) {
      nodes.push(svg("text", { class: "chart-empty", x: left + plotW / 2, y: top + plotH / 2, "text-anchor": "middle" },
        "no commands in the last 5 minutes"));
    } else {
      for (const s of series) nodes.push(...seriesNodes(s, x, y));
    }
    target.replaceChildren(...nodes);
  }

  /** One polyline per unbroken run of points, plus a dot per point so lone points show. */
  function seriesNodes(series, x, y) {
    const nodes = [];
    let run = [];
    const flush = () => {
      if (run.length > 1) nodes.push(svg("polyline", { class: `line ${series.className}`, points: run.join(" ") }));
      run = [];
    };
    for (const p of series.points) {
      if (p.v === null) { flush(); continue; }
      const px = x(p.t).toFixed(1);
      const py = y(p.v).toFixed(1);
      run.push(`${px},${py}`);
      nodes.push(svg("circle", { class: `dot ${series.className}`, cx: px, cy: py, r: 2 }));
    }
    flush();
    return nodes;
  }

  const mid = (start) => start + BUCKET_MS / 2;

  function renderThroughput(overview) {
    const { end, slots } = bucketSlots(overview);
    const perSecond = (n) => n / (BUCKET_MS / 1000);
    const applied = slots.map((s) => ({ t: mid(s.start), v: perSecond(s.bucket ? s.bucket.applied : 0) }));
    const rejected = slots.map((s) => ({ t: mid(s.start), v: perSecond(s.bucket ? s.bucket.rejected : 0) }));
    const peak = Math.max(0, ...applied.map((p, i) => p.v + rejected[i].v));
    drawChart($("chart-throughput"), {
      title: `Commands per second over the last 5 minutes; peak ${oneDecimal.format(peak)}/s`,
      series: [
        { name: "applied", className: "applied", points: applied },
        { name: "rejected", className: "rejected", points: rejected },
      ],
      end,
      formatY: (v) => `${oneDecimal.format(v)}/s`,
      empty: overview.throughput.length === 0,
    });
  }

  function renderLatency(overview) {
    const { end, slots } = bucketSlots(overview);
    const pick = (field) => slots.map((s) => ({ t: mid(s.start), v: s.bucket ? s.bucket[field] : null }));
    const p50 = pick("latency_p50_seconds");
    const p99 = pick("latency_p99_seconds");
    const hasAny = p50.concat(p99).some((p) => p.v !== null);
    const worst = Math.max(0, ...p99.map((p) => p.v || 0));
    drawChart($("chart-latency"), {
      title: `Latency from acceptance to commit over the last 5 minutes; worst p99 ${formatSeconds(worst)}`,
      series: [
        { name: "p50", className: "p50", points: p50 },
        { name: "p99", className: "p99", points: p99 },
      ],
      end,
      formatY: formatSeconds,
      empty: !hasAny,
    });
  }

  // ---------- outbox, endpoints, processes ----------

  function renderOutbox(outbox) {
    $("outbox-rows").textContent = num(outbox.rows);
    const age = $("outbox-age");
    age.textContent = formatDuration(outbox.oldest_age_seconds);
    age.classList.toggle("attention", outbox.oldest_age_seconds !== null && outbox.oldest_age_seconds > OUTBOX_AGE_LIMIT_S);
  }

  function renderEndpoints(health) {
    $("endpoints-enabled").textContent = num(health.enabled);
    $("endpoints-disabled").textContent = num(health.disabled);
    $("endpoints-failing").textContent = num(health.failing);
    $("endpoints-disabled").classList.toggle("attention", health.disabled > 0);
    $("endpoints-failing").classList.toggle("attention", health.failing > 0);
    const rows = health.in_trouble.map((e) => {
      const state = e.enabled ? "enabled" : `disabled: ${e.disabled_reason || "no reason given"}`;
      return el("tr", { className: e.enabled ? null : "attention", dataset: { endpointId: e.id } }, [
        el("td", { className: "url", text: e.url, title: e.description || e.url }),
        el("td", { className: "mono", text: short(e.supplier_id), title: e.supplier_id }),
        el("td", { className: e.enabled ? null : "attention", text: state }),
        el("td", { text: formatDateTime(e.failing_since) }),
      ]);
    });
    if (rows.length === 0) rows.push(emptyRow(4, "No endpoints in trouble"));
    $("endpoint-rows").replaceChildren(...rows);
  }

  function renderProcesses(processes, generatedAt) {
    const now = Date.parse(generatedAt); // the server's clock, so browser clock skew does not matter
    const sorted = [...processes].sort((a, b) => a.role.localeCompare(b.role) || a.host.localeCompare(b.host) || a.pid - b.pid);
    const rows = sorted.map((p) => {
      const ago = Math.max(0, Math.round((now - Date.parse(p.seen_at)) / 1000));
      return el("tr", { dataset: { instanceId: p.instance_id } }, [
        el("td", { text: p.role }),
        el("td", { text: p.host }),
        el("td", { className: "num", text: String(p.pid) }),
        el("td", { className: "mono", text: p.ops_addr }),
        el("td", { text: formatDateTime(p.started_at) }),
        el("td", { className: "num", text: `${integer.format(ago)} s ago`, title: formatDateTime(p.seen_at) }),
      ]);
    });
    if (rows.length === 0) rows.push(emptyRow(6, "No processes seen"));
    $("process-rows").replaceChildren(...rows);
  }

  // ---------- dead letters ----------

  function renderDeadLetterCounts(counts) {
    const open = $("dead-letter-open");
    open.textContent = num(counts.open);
    open.classList.toggle("attention", counts.open > 0);
    $("dead-letter-reasons").replaceChildren(...counts.by_reason.map((r) =>
      el("li", {}, [el("span", { className: "reason", text: r.reason }), el("span", { className: "num", text: ` ${num(r.count)}` })])));
  }

  function renderDeadLetters() {
    // Rows are only rebuilt when something changed, so a click or focus is not lost every 5 s.
    const signature = JSON.stringify([list.items, [...pending], list.cursor]);
    if (signature === list.rendered) return;
    list.rendered = signature;
    $("dead-letter-rows").replaceChildren(...list.items.map(deadLetterRow));
    $("dead-letter-table").hidden = list.items.length === 0;
    $("dead-letter-empty").hidden = list.items.length > 0;
    $("dead-letter-more").hidden = !list.cursor;
  }

  function deadLetterRow(item) {
    const busy = pending.has(item.id);
    const button = (className, text) => el("button", { type: "button", className, text, ...(busy ? { disabled: "" } : {}) });
    const actions = [button("inspect", "Inspect")];
    if (item.status === "OPEN") actions.push(" ", button("replay", "Replay"), " ", button("discard", "Discard"));
    return el("tr", { className: busy ? "busy" : null, dataset: { deadLetterId: item.id } }, [
      el("td", { className: "nowrap", text: formatDateTime(item.created_at), title: item.created_at }),
      el("td", { className: "reason", text: item.reason }),
      el("td", { className: "mono subject", text: item.subject, title: item.subject }),
      el("td", { className: "mono", text: item.command_id ? short(item.command_id) : "—", title: item.command_id }),
      el("td", { className: "num", text: num(item.delivery_count) }),
      el("td", { className: "error-text", text: item.error, title: item.error }),
      el("td", { className: `status status-${item.status.toLowerCase()}`, text: item.status }),
      el("td", { className: "actions" }, actions),
    ]);
  }

  function onDeadLetterClick(event) {
    const button = event.target.closest("button");
    const row = button && button.closest("tr[data-dead-letter-id]");
    if (!row || button.disabled) return;
    const id = row.dataset.deadLetterId;
    if (button.classList.contains("inspect")) inspect(id);
    else if (button.classList.contains("replay")) replay(id);
    else if (button.classList.contains("discard")) openDiscard(id);
  }

  function setPending(id, busy) {
    if (busy) pending.add(id);
    else pending.delete(id);
    renderDeadLetters();
  }

  async function inspect(id) {
    const panel = $("dead-letter-detail");
    panel.dataset.deadLetterId = id;
    $("detail-title").textContent = short(id);
    panel.hidden = false;
    try {
      const { body } = await api("GET", `/api/v1/ops/dead-letters/${encodeURIComponent(id)}`);
      if (panel.dataset.deadLetterId !== id) return; // another was inspected meanwhile
      $("detail-body").replaceChildren(...detailNodes(body));
      panel.scrollIntoView({ block: "nearest" });
    } catch (error) {
      $("detail-body").replaceChildren(el("p", { className: "error", text: problemText(error) }));
    }
  }

  function detailNodes(d) {
    const fields = [
      ["Id", d.id], ["Status", d.status], ["Reason", d.reason], ["Error", d.error], ["Subject", d.subject],
      ["Command", d.command_id], ["Delivery count", num(d.delivery_count)], ["Stream sequence", d.stream_sequence],
      ["Created", formatDateTime(d.created_at)], ["Resolved", d.resolved_at ? formatDateTime(d.resolved_at) : null],
      ["Resolved by", d.resolved_by], ["Resolution reason", d.resolution_reason],
      ["Replay message", d.replay_message_id], ["Version", d.version],
    ];
    const summary = el("dl", { className: "fields" });
    for (const [name, value] of fields) {
      summary.append(el("dt", { text: name }), el("dd", { text: value === null || value === undefined ? "—" : value }));
    }
    summary.append(el("dt", { text: "Command status" }),
      el("dd", {}, [el("span", { className: "command-status", text: d.command_status || "—" })]));

    const headers = el("dl", { className: "headers" });
    for (const [name, values] of Object.entries(d.headers || {})) {
      headers.append(el("dt", { text: name }));
      for (const value of [].concat(values)) headers.append(el("dd", { text: value }));
    }
    if (!headers.childElementCount) headers.append(el("dd", { text: "none" }));
    return [summary, el("h4", { text: "Headers" }), headers, el("h4", { text: "Payload" }),
      el("pre", { className: "payload", text: prettyPayload(d.payload) })];
  }

  function prettyPayload(payload) {
    try {
      return JSON.stringify(JSON.parse(payload), null, 2);
    } catch {
      return payload;
    }
  }

  const actionHeaders = () => ({ "Idempotency-Key": idempotencyKey(), Prefer: "wait=10" });

  // 202: the command is still being processed after the server's wait; 200: the new view.
  function outcomeText(action, id, result, withCommand) {
    const b = result.body || {};
    const done = action === "Replay" ? "Replayed" : "Discarded";
    if (result.status === 202) return `${done} ${short(id)}: accepted, processing`;
    const what = withCommand && b.command_status ? `command ${b.command_status}` : b.status;
    return `${done} ${short(id)}: ${what}`;
  }

  async function replay(id) {
    setPending(id, true);
    try {
      const result = await api("POST", `/api/v1/ops/dead-letters/${encodeURIComponent(id)}/replay`,
        { body: {}, headers: actionHeaders() });
      flash(outcomeText("Replay", id, result, true), false);
    } catch (error) {
      flash(`Replay of ${short(id)} failed: ${problemText(error)}`, true);
    } finally {
      afterAction(id);
    }
  }

  function afterAction(id) {
    setPending(id, false);
    if ($("dead-letter-detail").dataset.deadLetterId === id && !$("dead-letter-detail").hidden) inspect(id);
    refreshNow();
  }

  function openDiscard(id) {
    const form = $("discard-form");
    form.dataset.deadLetterId = id;
    $("discard-target").textContent = short(id);
    $("discard-reason").value = "";
    $("discard-error").textContent = "";
    form.hidden = false;
    $("discard-reason").focus();
  }

  function closeDiscard() {
    const form = $("discard-form");
    form.hidden = true;
    delete form.dataset.deadLetterId;
    $("discard-error").textContent = "";
  }

  async function submitDiscard(event) {
    event.preventDefault();
    const id = $("discard-form").dataset.deadLetterId;
    const reason = $("discard-reason").value.trim();
    if (!id) return;
    if (!reason) { $("discard-error").textContent = "Give a reason (1–500 characters)."; return; }
    $("discard-confirm").disabled = true;
    $("discard-error").textContent = "";
    setPending(id, true);
    try {
      const result = await api("POST", `/api/v1/ops/dead-letters/${encodeURIComponent(id)}/discard`,
        { body: { reason }, headers: actionHeaders() });
      closeDiscard();
      flash(outcomeText("Discard", id, result, false), false);
    } catch (error) {
      const fieldError = error instanceof ApiError && (error.problem.errors || []).find((e) => e.field === "reason");
      $("discard-error").textContent = fieldError ? fieldError.message : problemText(error);
      if (!fieldError) flash(`Discard of ${short(id)} failed: ${problemText(error)}`, true);
    } finally {
      $("discard-confirm").disabled = false;
      afterAction(id);
    }
  }

  function flash(message, isError) {
    const box = $("flash");
    box.textContent = message;
    box.classList.toggle("error", isError);
    box.classList.toggle("ok", !isError);
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { box.textContent = ""; box.className = "flash"; }, 15000);
  }

  // ---------- start ----------

  function start() {
    $("signin").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", () => endSession(""));
    $("dead-letter-status").addEventListener("change", filterChanged);
    $("dead-letter-reason").addEventListener("change", filterChanged);
    $("dead-letter-more").addEventListener("click", loadMore);
    $("dead-letter-rows").addEventListener("click", onDeadLetterClick);
    $("discard-form").addEventListener("submit", submitDiscard);
    $("discard-cancel").addEventListener("click", closeDiscard);
    $("dead-letter-detail-close").addEventListener("click", () => {
      $("dead-letter-detail").hidden = true;
      delete $("dead-letter-detail").dataset.deadLetterId;
    });
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) schedule(0); // schedule() does not arm a timer while hidden
      else refreshNow();
    });
    showSignedIn(Boolean(session));
    if (session) refreshNow();
  }

  start();
})();
