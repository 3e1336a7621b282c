// sdpcfg console. Every value from the store goes into the page as text
// (textContent, text nodes), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  csrf: "", readOnly: false,
  revision: 0,      // the store revision the live view is at
  atRev: 0,         // time travel: the revision viewed (0: live)
  selected: null,   // the open key: {path, modRevision, value, ...}
  source: null,     // the EventSource
};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function showError(msg) {
  const e = $("error");
  e.textContent = msg;
  e.hidden = !msg;
}

async function api(method, url, body) {
  const opts = { method, headers: {} };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = state.csrf;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const resp = await fetch(url, opts);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(data.error || resp.statusText);
    err.status = resp.status; err.data = data;
    throw err;
  }
  return data;
}

const revQuery = () => (state.atRev ? "&rev=" + state.atRev : "");
const q = (p) => encodeURIComponent(p);

function setRevision(rev) {
  if (!state.atRev) state.revision = Math.max(state.revision, rev);
  $("revision").textContent = "rev " + (state.atRev || state.revision);
}

// ---- JSON with syntax highlighting, built from text nodes.
function renderJSON(pre, text) {
  pre.replaceChildren();
  try { JSON.parse(text); } catch { pre.append(text); pre.classList.remove("json"); return; }
  pre.classList.add("json");
  // The stored text itself, highlighted: re-encoding it in JavaScript
  // would show 3600.0 as 3600 and round large integers.
  const pretty = text;
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false)\b|\b(null)\b/g;
  let last = 0, m;
  while ((m = re.exec(pretty)) !== null) {
    pre.append(pretty.slice(last, m.index));
    let cls = "n";
    if (m[1]) cls = m[2] ? "k" : "s"; else if (m[4]) cls = "b"; else if (m[5]) cls = "z";
    pre.append(el("span", { class: cls }, m[1] || m[0]));
    if (m[2]) pre.append(m[2]);
    last = re.lastIndex;
  }
  pre.append(pretty.slice(last));
}

// ---- Tree.
function nodeFor(path) { return document.querySelector(`.node[data-path="${CSS.escape(path)}"]`); }

function makeNode(c) {
  const li = el("li", { class: "node", "data-path": c.path });
  const toggle = el("span", { class: "toggle" }, c.hasChildren ? "▸" : "");
  const row = el("div", { class: "row" }, toggle, el("span", { class: "name" }, c.name));
  if (c.lease) row.append(el("span", { class: "badge", title: "attached to lease " + c.lease }, "lease"));
  li.dataset.key = c.key ? "1" : "";
  li.dataset.mod = c.modRevision || 0;
  li.append(row);
  row.addEventListener("click", (ev) => {
    ev.stopPropagation();
    if (c.hasChildren || li.dataset.children) toggleNode(li);
    if (li.dataset.key) openKey(c.path);
  });
  return li;
}

async function loadChildren(path, ul) {
  const data = await api("GET", "/api/children?path=" + q(path) + revQuery());
  setRevision(data.revision);
  ul.replaceChildren(...data.children.map(makeNode));
  if (data.more) ul.append(el("li", { class: "count" }, "… more: search a longer prefix"));
  const row = path === "/" ? null : nodeFor(path)?.querySelector(":scope > .row");
  if (row) {
    row.querySelector(".count")?.remove();
    row.append(el("span", { class: "count" }, "(" + data.children.length + (data.more ? "+" : "") + ")"));
  }
  return data.children.length;
}

async function toggleNode(li) {
  let ul = li.querySelector(":scope > ul");
  const toggle = li.querySelector(":scope > .row > .toggle");
  if (ul) { ul.remove(); toggle.textContent = "▸"; return; }
  ul = el("ul");
  li.append(ul);
  toggle.textContent = "▾";
  li.dataset.children = "1";
  try { await loadChildren(li.dataset.path, ul); } catch (e) { showError(e.message); }
}

async function loadTree(root) {
  showError("");
  const ul = $("tree");
  try {
    if (root && root !== "/") {
      // A search: the prefix's node itself, opened.
      const name = root.replace(/\/$/, "");
      const li = makeNode({ path: name, name: name, hasChildren: true, key: false });
      ul.replaceChildren(li);
      await toggleNode(li);
      try { await api("GET", "/api/key?path=" + q(name) + revQuery()); li.dataset.key = "1"; } catch {}
    } else {
      await loadChildren("/", ul);
    }
  } catch (e) { showError(e.message); }
}

// ---- One key.
async function openKey(path) {
  showError("");
  document.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
  nodeFor(path)?.classList.add("selected");
  let k;
  try { k = await api("GET", "/api/key?path=" + q(path) + revQuery()); }
  catch (e) { showError(e.message); return; }
  state.selected = k;
  $("placeholder").hidden = true;
  $("key").hidden = false;
  $("history").hidden = true;
  $("editor-box").hidden = true;
  $("key-path").textContent = k.path;
  renderJSON($("value"), k.value);
  const meta = $("meta");
  meta.replaceChildren();
  for (const [label, v] of [["mod revision", k.modRevision], ["create revision", k.createRevision], ["version", k.version], ["lease", k.lease || "none"]]) {
    meta.append(el("dt", {}, label), el("dd", { "data-field": label }, v));
  }
  renderOwner(k);
  const ro = state.readOnly || state.atRev > 0;
  for (const id of ["edit", "delete", "delete-tree"]) $(id).disabled = ro;
}

let ownerTimer = null;
function renderOwner(k) {
  const box = $("owner");
  clearInterval(ownerTimer);
  if (!k.owner) { box.hidden = true; return; }
  box.hidden = false;
  const o = k.owner;
  const who = `owned by pid ${o.pid} on ${o.hostname}: ${(o.command || []).join(" ")}`;
  let ttl = k.ownerTTL || 0;
  const badge = el("span", { class: "badge" + (k.ownerLease ? "" : " dead") }, k.ownerLease ? "alive" : "expired");
  const ttlSpan = el("span", { class: "count" });
  const tick = () => { ttlSpan.textContent = k.ownerLease ? ` lease ${k.ownerLease}, TTL ${Math.max(ttl, 0)}s` : ""; ttl--; };
  tick();
  if (k.ownerLease) ownerTimer = setInterval(tick, 1000);
  box.replaceChildren(badge, " ", who, ttlSpan);
}

// ---- Edits: a compare on the mod revision the user saw.
function startEdit(create) {
  $("editor-box").hidden = false;
  // The stored text, unchanged: nothing is rewritten unless the user edits it.
  $("editor").value = create ? "{}" : state.selected.value;
  $("raw").checked = !create && !state.selected.json;
  $("editor").focus();
}

async function save(value, modRevision) {
  const path = state.selected.path;
  try {
    await api("PUT", "/api/key?path=" + q(path), { value, modRevision, raw: $("raw").checked });
    $("editor-box").hidden = true;
    await openKey(path);
  } catch (e) {
    if (e.status === 409) return showConflict(e, value);
    showError(e.message);
  }
}

function showConflict(e, mine) {
  const d = $("conflict");
  const cur = e.data.current;
  $("conflict-msg").textContent = e.message;
  renderJSON($("conflict-theirs"), cur ? cur.value : "(deleted)");
  renderJSON($("conflict-yours"), mine);
  $("retry").onclick = () => { d.close(); save(mine, cur ? cur.modRevision : 0); };
  $("conflict-cancel").onclick = () => { d.close(); $("editor-box").hidden = true; openKey(state.selected.path); };
  d.showModal();
}

function confirmBox(msg, want) {
  return new Promise((resolve) => {
    const d = $("confirm");
    $("confirm-msg").textContent = msg;
    $("confirm-input").value = "";
    $("confirm-input").hidden = want === undefined;
    $("confirm-ok").onclick = () => { d.close(); resolve(want === undefined || $("confirm-input").value === String(want)); };
    $("confirm-cancel").onclick = () => { d.close(); resolve(false); };
    d.showModal();
  });
}

async function deleteKey() {
  const k = state.selected;
  if (!(await confirmBox(`Delete ${k.path}?`))) return;
  try { await api("DELETE", "/api/key?path=" + q(k.path) + "&modRevision=" + k.modRevision); }
  catch (e) { if (e.status === 409) return showConflict(e, "(your delete)"); return showError(e.message); }
}

async function deleteTree() {
  const k = state.selected;
  let count;
  try { await api("DELETE", "/api/tree?path=" + q(k.path) + "&count=-1"); }
  catch (e) { if (e.status !== 409 || !e.data.current) return showError(e.message); count = e.data.current.count; }
  if (!(await confirmBox(`Delete ${k.path} and everything below it: ${count} keys. Type ${count} to confirm.`, count))) return;
  try { await api("DELETE", "/api/tree?path=" + q(k.path) + "&count=" + count); }
  catch (e) { showError(e.message); }
}

// ---- History and diff.
async function showHistory() {
  const k = state.selected;
  let h;
  try { h = await api("GET", "/api/history?path=" + q(k.path)); } catch (e) { return showError(e.message); }
  $("history").hidden = false;
  $("diff").hidden = true;
  $("history-note").textContent = h.compactRevision > 0 ? `Changes before revision ${h.compactRevision + 1} were compacted away.` : "Every change since the key was first written.";
  const body = $("history-table").querySelector("tbody");
  body.replaceChildren();
  h.versions.forEach((v, i) => {
    const a = el("input", { type: "radio", name: "diff-a", value: i, checked: i === Math.max(h.versions.length - 2, 0) });
    const b = el("input", { type: "radio", name: "diff-b", value: i, checked: i === h.versions.length - 1 });
    const view = el("a", { href: "#", title: "view the tree at this revision" }, v.modRevision);
    view.addEventListener("click", (ev) => { ev.preventDefault(); travel(v.modRevision); });
    body.append(el("tr", { "data-rev": v.modRevision }, el("td", {}, a), el("td", {}, b), el("td", {}, view), el("td", {}, v.type),
      el("td", {}, v.version || "-"), el("td", {}, v.lease || "-"), el("td", { class: "value" }, v.type === "DELETE" ? "-" : v.value)));
  });
  $("diff-btn").onclick = () => {
    const pick = (n) => h.versions[document.querySelector(`input[name=${n}]:checked`).value];
    showDiff(pick("diff-a"), pick("diff-b"));
  };
}

function prettyLines(v) {
  if (v.type === "DELETE") return ["(deleted)"];
  return v.value.split("\n");
}

// showDiff lays out a line diff (longest common subsequence) of two
// versions side by side.
function showDiff(a, b) {
  const x = prettyLines(a), y = prettyLines(b);
  const n = x.length, m = y.length;
  const L = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const left = $("diff-a"), right = $("diff-b");
  left.replaceChildren(el("h4", {}, "revision " + a.modRevision));
  right.replaceChildren(el("h4", {}, "revision " + b.modRevision));
  let i = 0, j = 0;
  const line = (side, text, cls) => side.append(el("div", { class: cls || "" }, text === "" ? " " : text));
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { line(left, x[i]); line(right, y[j]); i++; j++; }
    else if (j < m && (i === n || L[i][j + 1] >= L[i + 1][j])) { line(left, "", ""); line(right, y[j], "add"); j++; }
    else { line(left, x[i], "del"); line(right, "", ""); i++; }
  }
  $("diff").hidden = false;
}

// ---- Time travel: the whole tree at an old revision, read-only.
async function travel(rev) {
  rev = Number(rev) || 0;
  state.atRev = rev;
  $("at-rev").value = rev || "";
  $("at-rev-live").hidden = !rev;
  $("key").hidden = true;
  $("placeholder").hidden = false;
  setRevision(state.revision);
  await loadTree($("search").value || "/");
  // The banner changes once the tree is the one of the revision shown.
  const banner = $("banner");
  banner.hidden = !rev;
  banner.textContent = rev ? `Viewing the store as it was at revision ${rev} (read-only).` : "";
  if (rev && $("error").textContent.includes("compacted")) {
    banner.textContent = `Revision ${rev} has been compacted: the store no longer holds it.`;
  }
}

// ---- Live updates: one event stream.
function connect() {
  state.source?.close();
  const src = new EventSource("/api/events?from=" + state.revision);
  state.source = src;
  src.addEventListener("revision", (e) => setRevision(JSON.parse(e.data)));
  src.addEventListener("change", (e) => { for (const c of JSON.parse(e.data)) applyChange(c); });
  src.addEventListener("error", (e) => {
    if (e.data) { src.close(); showError("live updates stopped: " + JSON.parse(e.data).error + "; reload the page"); }
  });
}

function parentOf(path) { const i = path.lastIndexOf("/"); return i <= 0 ? "/" : path.slice(0, i); }

async function applyChange(c) {
  setRevision(c.modRevision);
  if (state.atRev) return; // time travel: the view stays at its revision
  let n = nodeFor(c.path);
  if (!n && c.type === "PUT") {
    // A new key under an open node: reload that level.
    const parent = parentOf(c.path);
    const ul = parent === "/" ? $("tree") : nodeFor(parent)?.querySelector(":scope > ul");
    if (ul && (parent !== "/" || !$("search").value)) { await loadChildren(parent, ul); n = nodeFor(c.path); }
  }
  if (n) {
    n.classList.remove("flash");
    void n.offsetWidth; // restart the animation
    n.classList.add("flash");
    n.classList.toggle("deleted", c.type === "DELETE");
    n.dataset.mod = c.modRevision;
  }
  const k = state.selected;
  if (k && k.path === c.path && $("editor-box").hidden) {
    if (c.type === "DELETE") { $("key-path").classList.add("deleted"); $("key-path").textContent = k.path + " (deleted)"; }
    else openKey(c.path);
  }
}

// ---- Other pages.
function cells(row, values) { row.replaceChildren(...values.map((v) => el("td", {}, v ?? ""))); return row; }

let leaseTimer = null;
async function loadLeases() {
  const body = $("leases").querySelector("tbody");
  clearInterval(leaseTimer);
  try {
    const ls = await api("GET", "/api/leases");
    const started = Date.now();
    body.replaceChildren(...ls.map((l) => cells(el("tr", { "data-lease": l.id, "data-ttl": l.ttl }), [l.id, l.ttl + "s", l.granted + "s", l.keys.join(", ")])));
    // The TTLs count down; a lease kept alive gets its TTL back on reload.
    leaseTimer = setInterval(() => {
      if ($("page-leases").hidden) return clearInterval(leaseTimer);
      const gone = Math.floor((Date.now() - started) / 1000);
      for (const tr of body.children) tr.children[1].textContent = Math.max(Number(tr.dataset.ttl) - gone, 0) + "s";
    }, 1000);
  } catch (e) { showError(e.message); }
}

async function loadControllers() {
  try {
    const c = await api("GET", "/api/controllers");
    $("ctl-topology").querySelector("tbody").replaceChildren(...c.topology.map((a) => cells(el("tr", { "data-agent": a.agent }), [
      a.agent, a.desired?.topology_id ?? "-", a.desired?.generation ?? "-", a.desired?.version_hash ?? "-",
      a.applied?.applied_version_hash ?? "-", a.heartbeat ? "alive (gen " + a.heartbeat.generation + ")" : "none",
      a.drift ? a.drift.reason : "", a.applied?.last_error ?? ""])));
    $("ctl-datasync").querySelector("tbody").replaceChildren(...c.datasync.map((s) => cells(el("tr"), [s.name, String(s.active), s.status.finished, s.status.runs, s.status.changes, (s.status.operations || []).length, s.status.error || ""])));
    $("ctl-netobj").querySelector("tbody").replaceChildren(...c.netobj.map((o) => cells(el("tr"), [o.target, String(o.alive), o.kind || "-", o.id || "-", o.state, o.applied_at || "", o.last_error || ""])));
  } catch (e) { showError(e.message); }
}

async function loadCluster() {
  try {
    const c = await api("GET", "/api/cluster");
    $("cluster-rev").textContent = `backend ${c.backend}, revision ${c.revision}`;
    $("cluster").querySelector("tbody").replaceChildren(...c.endpoints.map((e) => cells(el("tr"), [e.endpoint, e.version, e.leader ? "leader" : "follower", e.raftTerm, e.revision, e.dbSize + " B", e.tookMs + " ms", e.error || ""])));
  } catch (e) { showError(e.message); }
}

function route() {
  const page = (location.hash.replace(/^#\//, "") || "tree").split("?")[0];
  for (const p of ["tree", "leases", "controllers", "cluster"]) {
    $("page-" + p).hidden = p !== page;
    $("nav-" + p).classList.toggle("active", p === page);
  }
  if (page === "leases") loadLeases();
  if (page === "controllers") loadControllers();
  if (page === "cluster") loadCluster();
}

async function start() {
  let s;
  try { s = await api("GET", "/api/session"); }
  catch (e) {
    if (e.status === 401) { $("login").hidden = false; document.querySelectorAll(".page").forEach((p) => (p.hidden = true)); return; }
    return showError(e.message);
  }
  state.csrf = s.csrf;
  state.readOnly = s.readOnly;
  $("mode").textContent = s.readOnly ? "read-only" : "";
  $("new-key").disabled = s.readOnly;
  setRevision(s.revision);
  $("edit").onclick = () => startEdit(false);
  $("cancel").onclick = () => { $("editor-box").hidden = true; };
  $("save").onclick = () => save($("editor").value, state.selected.modRevision || 0);
  $("delete").onclick = deleteKey;
  $("delete-tree").onclick = deleteTree;
  $("history-btn").onclick = showHistory;
  $("new-key").onclick = () => {
    const p = prompt("Path of the new key", ($("search").value || "") + "/");
    if (!p) return;
    state.selected = { path: p, modRevision: 0, value: "{}", json: true };
    $("placeholder").hidden = true; $("key").hidden = false; $("key-path").textContent = p;
    $("meta").replaceChildren(); $("value").replaceChildren(); $("owner").hidden = true;
    startEdit(true);
  };
  $("search-form").onsubmit = (ev) => { ev.preventDefault(); loadTree($("search").value || "/"); };
  $("at-rev-form").onsubmit = (ev) => { ev.preventDefault(); travel($("at-rev").value); };
  $("at-rev-live").onclick = () => travel(0);
  window.addEventListener("hashchange", route);
  route();
  await loadTree("/");
  connect();
}

start();
