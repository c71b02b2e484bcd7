// storyreel video editor: the timeline of a made video's shots (SVG), a playhead synced with the player, trim by
// dragging a shot's edges, move by dragging a shot, split at the playhead (S), merge (M), undo/redo, auto-save (each
// edit is a version at once), the 540p preview refreshed by a job after each edit, and Export with progress and cancel.
// Talks to /api/projects/{id}/timeline, /edits, /export and /api/jobs/{id}. No inline scripts (CSP).
(function () {
  "use strict";
  const root = document.getElementById("editor");
  if (!root) return;
  const pid = root.dataset.project;
  const svg = document.getElementById("tl");
  const scroller = document.getElementById("timeline");
  const player = document.getElementById("player");
  const status = document.getElementById("edstatus");
  const flash = document.getElementById("edflash");
  const selectionText = document.getElementById("selection");
  const csrf = (JSON.parse(document.body.getAttribute("hx-headers") || "{}") || {})["x-csrftoken"] || "";
  const NS = "http://www.w3.org/2000/svg";
  const RULER = 22, TRACK = 64, HANDLE = 8, MIN_PPS = 8, MAX_PPS = 200;
  const END = ["done", "failed", "canceled", "interrupted", "cost_limit"];

  let model = JSON.parse(document.getElementById("timeline-data").textContent);
  let pps = 0;                 // pixels per second (0: fit on first draw)
  let playhead = 0;            // seconds on the timeline
  let selected = [];           // shot IDs, in timeline order
  let busy = false;            // an edit in flight
  let previewJob = null, exportJob = null;

  // ------------------------------------------------------------------------------------------ helpers
  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function say(text) { status.textContent = text; }
  function fail(text) { flash.textContent = text; flash.hidden = false; }
  function clearFail() { flash.hidden = true; flash.textContent = ""; }
  function fmt(s) { const m = Math.floor(s / 60), r = s - m * 60; return m + ":" + (r < 10 ? "0" : "") + r.toFixed(1); }
  function label(shot, i) { return (i + 1) + " · " + shot.duration_s.toFixed(1) + " s"; }  // shown, and first in the accessible name
  function shotAt(t) { return model.shots.find(function (s) { return t >= s.start_s && t < s.start_s + s.duration_s; }) || model.shots[model.shots.length - 1]; }
  function byId(id) { return model.shots.find(function (s) { return s.shot_id === id; }); }
  function index(id) { return model.shots.findIndex(function (s) { return s.shot_id === id; }); }

  async function call(method, url, body) {
    const res = await fetch(url, {method: method, credentials: "same-origin",
      headers: Object.assign({"x-csrftoken": csrf, "accept": "application/json"}, body ? {"content-type": "application/json"} : {}),
      body: body ? JSON.stringify(body) : undefined});
    let data = null;
    try { data = await res.json(); } catch (err) { data = null; }
    if (!res.ok) {
      const detail = data && (data.detail || data.message || data.error);
      throw new Error(typeof detail === "string" ? detail : (detail && detail.message) || ("the server answered " + res.status));
    }
    return data;
  }

  // ------------------------------------------------------------------------------------------ drawing
  function fit() {
    const width = Math.max(300, scroller.clientWidth - 4);
    pps = Math.min(MAX_PPS, Math.max(MIN_PPS, width / Math.max(1, model.duration_s)));
  }

  function draw() {
    if (!pps) fit();
    const width = Math.ceil(model.duration_s * pps) + 2;
    svg.setAttribute("width", width);
    svg.setAttribute("height", RULER + TRACK + 4);
    svg.setAttribute("viewBox", "0 0 " + width + " " + (RULER + TRACK + 4));
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const ruler = el("g", {"class": "ruler", "aria-hidden": "true"}, svg);
    el("rect", {x: 0, y: 0, width: width, height: RULER, "class": "ruler-bg"}, ruler);
    const step = pps >= 60 ? 1 : pps >= 25 ? 2 : pps >= 12 ? 5 : 10;
    for (let s = 0; s <= model.duration_s + 0.001; s += step) {
      const x = s * pps;
      el("line", {x1: x, x2: x, y1: RULER - 7, y2: RULER, "class": "tick"}, ruler);
      const label = el("text", {x: x + 3, y: RULER - 9, "class": "tick-label"}, ruler);
      label.textContent = fmt(s).replace(/\.0$/, "");
    }
    model.shots.forEach(function (shot, i) {
      const x = shot.start_s * pps, w = Math.max(4, shot.duration_s * pps - 2);
      const g = el("g", {"class": "shot" + (selected.indexOf(shot.shot_id) >= 0 ? " selected" : "") + (shot.spoken ? "" : " pending"),
                         tabindex: 0, role: "button", "data-shot": shot.shot_id,
                         "aria-pressed": selected.indexOf(shot.shot_id) >= 0 ? "true" : "false",
                         "data-duration": shot.duration_s,
                         "aria-label": label(shot, i) + ", shot " + shot.shot_id + (shot.spoken ? "" : ", not narrated yet") + ": " +
                                       shot.narration.slice(0, 80)}, svg);
      const clipId = "clip-" + i;
      const cp = el("clipPath", {id: clipId}, g);
      el("rect", {x: x + 1, y: RULER + 2, width: w, height: TRACK - 4, rx: 6}, cp);
      el("rect", {x: x + 1, y: RULER + 2, width: w, height: TRACK - 4, rx: 6, "class": "block"}, g);
      if (shot.has_image) {
        el("image", {href: "/api/projects/" + pid + "/images/" + encodeURIComponent(shot.shot_id) + "?v=" + model.version,
                     x: x + 1, y: RULER + 2, width: w, height: TRACK - 4, preserveAspectRatio: "xMidYMid slice",
                     "clip-path": "url(#" + clipId + ")", "class": "thumb"}, g);
      }
      const tag = el("text", {x: x + 6, y: RULER + TRACK - 10, "class": "shot-label", "clip-path": "url(#" + clipId + ")"}, g);
      tag.textContent = label(shot, i);
      el("rect", {x: x + 1, y: RULER + 2, width: HANDLE, height: TRACK - 4, "class": "handle in", "data-edge": "in", "aria-hidden": "true"}, g);
      el("rect", {x: x + 1 + w - HANDLE, y: RULER + 2, width: HANDLE, height: TRACK - 4, "class": "handle out", "data-edge": "out", "aria-hidden": "true"}, g);
    });
    el("line", {x1: playhead * pps, x2: playhead * pps, y1: 0, y2: RULER + TRACK + 4, "class": "playhead", id: "playhead", "aria-hidden": "true"}, svg);
    document.getElementById("tl-length").textContent = model.shots.length + " shots · " + fmt(model.duration_s);
    describe();
    tools();
  }

  function movePlayhead(t, seek) {
    playhead = Math.max(0, Math.min(model.duration_s, t));
    const line = document.getElementById("playhead");
    if (line) { line.setAttribute("x1", playhead * pps); line.setAttribute("x2", playhead * pps); }
    if (seek && player.src && Math.abs(player.currentTime - playhead) > 0.05) {
      try { player.currentTime = playhead; } catch (err) { /* not loaded yet */ }
    }
  }

  function describe() {
    if (!selected.length) { selectionText.textContent = "Select a shot: click it, or Tab to it. Playhead at " + fmt(playhead) + "."; return; }
    const shots = selected.map(byId).filter(Boolean);
    selectionText.textContent = shots.map(function (s) {
      return "Shot " + (index(s.shot_id) + 1) + " (" + s.shot_id + ", " + s.duration_s.toFixed(1) + " s): “" + s.narration + "”";
    }).join("  ·  ");
  }

  function adjacentPair() {
    if (selected.length !== 2) return null;
    const a = index(selected[0]), b = index(selected[1]);
    const first = Math.min(a, b), second = Math.max(a, b);
    return second === first + 1 ? [model.shots[first].shot_id, model.shots[second].shot_id] : null;
  }

  function tools() {
    const one = selected.length === 1;
    root.querySelectorAll("[data-op]").forEach(function (b) {
      const op = b.dataset.op;
      b.disabled = busy || exportJob !== null || (op === "merge" ? !adjacentPair() : op === "split" ? false : !one);
    });
    document.getElementById("undo").disabled = busy || exportJob !== null || !model.can_undo;
    document.getElementById("redo").disabled = busy || exportJob !== null || !model.can_redo;
    document.getElementById("export").disabled = busy || exportJob !== null;
  }

  function select(id, add) {
    if (add) {
      const at = selected.indexOf(id);
      if (at >= 0) selected.splice(at, 1); else selected.push(id);
      selected = selected.slice(-2);
    } else {
      selected = [id];
    }
    selected.sort(function (a, b) { return index(a) - index(b); });
    draw();
    const g = svg.querySelector('[data-shot="' + CSS.escape(id) + '"]');
    if (g) g.focus();
  }

  // ------------------------------------------------------------------------------------------ the player
  function loadPlayer() {
    const usePreview = model.preview.exists;
    const base = usePreview ? player.dataset.preview : player.dataset.video;
    const src = base + "?v=" + model.version + "-" + Date.now();
    const at = playhead;
    player.src = src;
    player.addEventListener("loadedmetadata", function once() {
      player.removeEventListener("loadedmetadata", once);
      try { player.currentTime = Math.min(at, player.duration || at); } catch (err) { /* ignore */ }
    });
    const note = document.getElementById("player-note");
    if (usePreview) note.textContent = model.preview.current ? "Preview (540p) of version " + model.version + "." : "Preview of an earlier version: updating…";
    else note.textContent = "The exported video; the preview appears after the first edit.";
  }
  player.addEventListener("timeupdate", function () { movePlayhead(player.currentTime, false); });

  // ------------------------------------------------------------------------------------------ edits
  async function edit(body, said) {
    if (busy || exportJob) return;
    busy = true; tools(); clearFail();
    say(said + "…");
    try {
      const out = await call("POST", "/api/projects/" + pid + "/edits", body);
      model = out.timeline;
      selected = selected.filter(byId);
      draw();
      document.getElementById("version-badge").textContent = "version " + model.version;
      say("Saved · version " + model.version + ": " + (out.edited || said) + ". Updating the preview…");
      if (out.job) followPreview(out.job.id);
    } catch (err) {
      fail(err.message);
      say("Not changed: " + err.message);
    } finally {
      busy = false; tools();
    }
  }

  function split() {
    const shot = shotAt(playhead);
    const at = +(playhead - shot.start_s).toFixed(2);
    edit({op: "split", shot_id: shot.shot_id, at: at}, "Splitting " + shot.shot_id + " at " + at.toFixed(1) + " s");
  }
  function merge() {
    const pair = adjacentPair();
    if (!pair) { fail("Select two neighbouring shots to merge (Shift+click the second)."); return; }
    edit({op: "merge", shot_id: pair[0], other: pair[1]}, "Merging " + pair[1] + " into " + pair[0]);
  }
  function trimTo(edge) {
    const shot = byId(selected[0]);
    if (!shot) return;
    const local = playhead - shot.start_s;
    if (local <= 0 || local >= shot.duration_s) { fail("Put the playhead inside the selected shot first."); return; }
    const body = edge === "in" ? {in_s: +local.toFixed(2), out_s: shot.duration_s} : {in_s: 0, out_s: +local.toFixed(2)};
    edit(Object.assign({op: "trim", shot_id: shot.shot_id}, body), "Trimming " + shot.shot_id);
  }
  function moveBy(delta) {
    const id = selected[0];
    const to = index(id) + 1 + delta;
    if (!id || to < 1 || to > model.shots.length) return;
    edit({op: "move", shot_id: id, to: to}, "Moving " + id + " to " + to);
  }
  function act(op) {
    const id = selected[0];
    if (op === "split") split();
    else if (op === "merge") merge();
    else if (op === "trim-in") trimTo("in");
    else if (op === "trim-out") trimTo("out");
    else if (op === "duplicate" && id) edit({op: "duplicate", shot_id: id}, "Duplicating " + id);
    else if (op === "delete" && id) { selected = []; edit({op: "delete", shot_id: id}, "Deleting " + id); }
  }
  root.querySelectorAll("[data-op]").forEach(function (b) { b.addEventListener("click", function () { act(b.dataset.op); }); });
  document.getElementById("undo").addEventListener("click", function () { edit({op: "undo"}, "Undoing"); });
  document.getElementById("redo").addEventListener("click", function () { edit({op: "redo"}, "Redoing"); });
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(1.5); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(1 / 1.5); });
  function zoom(f) { pps = Math.min(MAX_PPS, Math.max(MIN_PPS, pps * f)); draw(); }

  // ------------------------------------------------------------------------------------------ jobs
  async function poll(id, onTick) {
    for (;;) {
      let job;
      try { job = await call("GET", "/api/jobs/" + id); } catch (err) { return {state: "failed", message: err.message}; }
      onTick(job);
      if (END.indexOf(job.state) >= 0) return job;
      await new Promise(function (r) { setTimeout(r, 400); });
    }
  }

  async function followPreview(id) {
    previewJob = id;
    const job = await poll(id, function (j) {
      if (previewJob === id && j.state === "running") say("Saved · version " + model.version + ". Updating the preview… " + Math.round(j.progress) + " %");
    });
    if (previewJob !== id) return;  // a newer edit took over
    previewJob = null;
    if (job.state === "done") {
      model = await call("GET", "/api/projects/" + pid + "/timeline");
      draw();
      loadPlayer();
      say("Saved · version " + model.version + " · preview up to date.");
    } else if (job.state !== "canceled") {
      say("Saved · version " + model.version + " · the preview was not made: " + (job.message || job.state));
    }
  }

  document.getElementById("export").addEventListener("click", async function () {
    clearFail();
    previewJob = null;
    let job;
    try { job = await call("POST", "/api/projects/" + pid + "/export"); } catch (err) { fail(err.message); return; }
    followExport(job.id);
  });

  async function followExport(id) {
    exportJob = id; tools();
    const panel = document.getElementById("export-panel"), bar = document.getElementById("export-progress");
    const words = document.getElementById("export-words");
    panel.hidden = false;
    const job = await poll(id, function (j) {
      bar.value = j.progress; bar.textContent = Math.round(j.progress) + " %";
      words.textContent = Math.round(j.progress) + " % · " + (j.stage || j.state);
    });
    exportJob = null;
    panel.hidden = true;
    model = await call("GET", "/api/projects/" + pid + "/timeline");
    draw();
    say(job.state === "done" ? "Exported version " + model.version + ": the project's video is this version now."
        : "Export " + job.state.replace("_", " ") + (job.message ? ": " + job.message : ""));
  }
  document.getElementById("export-cancel").addEventListener("click", function () {
    if (exportJob) call("POST", "/api/jobs/" + exportJob + "/cancel").catch(function (err) { fail(err.message); });
  });

  // ------------------------------------------------------------------------------------------ pointer: select, scrub, drag, trim
  function timeAt(evt) {
    const box = svg.getBoundingClientRect();
    return (evt.clientX - box.left) / pps;
  }
  let drag = null;
  svg.addEventListener("pointerdown", function (evt) {
    if (busy || exportJob) return;
    const g = evt.target.closest(".shot");
    if (!g) { movePlayhead(timeAt(evt), true); drag = {kind: "scrub"}; svg.setPointerCapture(evt.pointerId); describe(); return; }
    const id = g.dataset.shot, edge = evt.target.dataset.edge;
    drag = {kind: edge ? "trim" : "move", id: id, edge: edge, x0: evt.clientX, moved: false, add: evt.shiftKey || evt.ctrlKey || evt.metaKey};
    svg.setPointerCapture(evt.pointerId);
    evt.preventDefault();
  });
  svg.addEventListener("pointermove", function (evt) {
    if (!drag) return;
    if (drag.kind === "scrub") { movePlayhead(timeAt(evt), true); return; }
    const dx = evt.clientX - drag.x0;
    if (Math.abs(dx) > 4) drag.moved = true;
    if (!drag.moved) return;
    const g = svg.querySelector('[data-shot="' + CSS.escape(drag.id) + '"]');
    if (!g) return;
    if (drag.kind === "move") { g.setAttribute("transform", "translate(" + dx + ",0)"); g.classList.add("dragging"); return; }
    const shot = byId(drag.id), block = g.querySelector(".block");
    const x = shot.start_s * pps, w = shot.duration_s * pps - 2;
    if (drag.edge === "in") { const d = Math.max(0, Math.min(w - pps, dx)); block.setAttribute("x", x + 1 + d); block.setAttribute("width", w - d); }
    else { const d = Math.min(0, Math.max(-(w - pps), dx)); block.setAttribute("width", w + d); }
    g.classList.add("trimming");
  });
  svg.addEventListener("pointerup", function (evt) {
    const d = drag; drag = null;
    if (!d || d.kind === "scrub") return;
    if (!d.moved) { select(d.id, d.add); return; }
    const dx = evt.clientX - d.x0, shot = byId(d.id);
    if (d.kind === "move") {
      const centre = (shot.start_s + shot.duration_s / 2) * pps + dx;
      let to = model.shots.filter(function (s) { return s.shot_id !== d.id && (s.start_s + s.duration_s / 2) * pps < centre; }).length + 1;
      if (to === index(d.id) + 1) { draw(); return; }
      selected = [d.id];
      edit({op: "move", shot_id: d.id, to: to}, "Moving " + d.id + " to " + to);
    } else {
      const secs = dx / pps;
      const body = d.edge === "in" ? {in_s: +Math.max(0, secs).toFixed(2), out_s: shot.duration_s}
                                   : {in_s: 0, out_s: +Math.min(shot.duration_s, shot.duration_s + secs).toFixed(2)};
      selected = [d.id];
      edit(Object.assign({op: "trim", shot_id: d.id}, body), "Trimming " + d.id);
    }
  });

  // ------------------------------------------------------------------------------------------ keyboard
  document.addEventListener("keydown", function (evt) {
    const tag = (evt.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    const ctrl = evt.ctrlKey || evt.metaKey;
    const key = evt.key;
    if (ctrl && (key === "z" || key === "Z")) { evt.preventDefault(); edit({op: evt.shiftKey ? "redo" : "undo"}, evt.shiftKey ? "Redoing" : "Undoing"); return; }
    if (ctrl && (key === "y" || key === "Y")) { evt.preventDefault(); edit({op: "redo"}, "Redoing"); return; }
    if (ctrl || evt.altKey && key !== "ArrowLeft" && key !== "ArrowRight") return;
    const onShot = evt.target.closest && evt.target.closest(".shot");
    if (key === "s" || key === "S") { evt.preventDefault(); split(); }
    else if (key === "m" || key === "M") { evt.preventDefault(); merge(); }
    else if (key === "[") { evt.preventDefault(); trimTo("in"); }
    else if (key === "]") { evt.preventDefault(); trimTo("out"); }
    else if ((key === "d" || key === "D") && selected.length) { evt.preventDefault(); act("duplicate"); }
    else if ((key === "Delete" || key === "Backspace") && selected.length) { evt.preventDefault(); act("delete"); }
    else if (key === "+" || key === "=") { zoom(1.5); }
    else if (key === "-") { zoom(1 / 1.5); }
    else if (key === "j" || key === "J") { movePlayhead(playhead - 1, true); describe(); }
    else if (key === "l" || key === "L") { movePlayhead(playhead + 1, true); describe(); }
    else if (key === " " && (onShot || evt.target === document.body || evt.target === scroller)) { evt.preventDefault(); if (player.paused) player.play(); else player.pause(); }
    else if (onShot && (key === "ArrowLeft" || key === "ArrowRight")) {
      evt.preventDefault();
      const delta = key === "ArrowLeft" ? -1 : 1;
      if (evt.altKey) { moveBy(delta); return; }
      const next = model.shots[index(onShot.dataset.shot) + delta];
      if (next) { select(next.shot_id, evt.shiftKey); movePlayhead(next.start_s, true); }
    } else if (onShot && (key === "Enter")) { evt.preventDefault(); select(onShot.dataset.shot, evt.shiftKey); movePlayhead(byId(onShot.dataset.shot).start_s, true); }
  });
  svg.addEventListener("focusin", function (evt) {
    const g = evt.target.closest && evt.target.closest(".shot");
    if (g && selected.indexOf(g.dataset.shot) < 0 && !drag) { selected = [g.dataset.shot]; g.classList.add("selected"); g.setAttribute("aria-pressed", "true");
      svg.querySelectorAll(".shot.selected").forEach(function (o) { if (o !== g) { o.classList.remove("selected"); o.setAttribute("aria-pressed", "false"); } });
      describe(); tools(); }
  });

  window.addEventListener("resize", function () { if (model.duration_s * pps < scroller.clientWidth * 0.5) { pps = 0; draw(); } });
  draw();
  loadPlayer();
  if (model.versions.length) {
    say("Saved · version " + model.version + (model.preview.current ? " · preview up to date." : model.job ? " · updating the preview…" : "."));
  }
  if (model.job && model.job.kind === "preview") followPreview(model.job.id);
  else if (model.job && model.job.kind === "make") followExport(model.job.id);
})();
