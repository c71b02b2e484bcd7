// storyreel dashboard: live job panel (Server-Sent Events), image lightbox, focus after partial updates and
// errors of partial updates. No inline scripts (CSP).
(function () {
  "use strict";
  const END = ["done", "failed", "canceled", "interrupted", "cost_limit"];
  const WORDS = {queued: "waiting to start", running: "running", done: "done", failed: "failed", canceled: "canceled",
                 interrupted: "interrupted", cost_limit: "stopped at the cost cap"};
  const FOCUS_KEY = "storyreel:focus-after-reload";

  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  function setText(root, name, text) { const el = field(root, name); if (el && el.textContent !== text) el.textContent = text; }

  function setBadge(el, state) {
    if (!el) return;
    el.textContent = state.replace("_", " ");
    el.className = "badge s-" + state;
  }

  function follow(wrap) {
    const url = wrap.dataset.eventsUrl;
    const panel = wrap.querySelector("#job");
    if (!url || !panel || !window.EventSource) return;
    const started = Date.now();
    // the elapsed time runs on this page's clock from the last snapshot the server sent
    let clock = {base: Number(panel.dataset.elapsed || 0), at: Date.now()};
    let words = {};
    try { words = JSON.parse(wrap.dataset.stageWords || "{}"); } catch (err) { words = {}; }
    const heard = new Set();  // each stage is announced once (the stages of one pool interleave)

    function announce(text) { setText(panel, "announce", text); }  // a hidden role=status: stage changes and the end only

    function setState(state) {
      if (!state || panel.dataset.state === state) return;
      if (state === "running" && panel.dataset.state === "queued") clock = {base: 0, at: Date.now()};
      panel.dataset.state = state;
      setBadge(field(panel, "state"), state);
      if (state === "queued" || state === "running") setBadge(document.querySelector('[data-field="project-state"]'), state);
      announce("Job " + (WORDS[state] || state));
    }

    function setStage(stage) {
      const said = words[stage] || stage || "";
      setText(panel, "stage", said);
      if (stage && !heard.has(stage)) { heard.add(stage); announce("Now " + said); }
    }

    function setProgress(value) {
      const bar = field(panel, "progress-bar");
      if (bar) { bar.value = value; bar.textContent = Math.round(value) + " %"; }
      setText(panel, "progress", Math.round(value) + " %");
    }

    const source = new EventSource(url);
    const log = field(panel, "log");
    source.addEventListener("job", function (e) {
      const job = JSON.parse(e.data);
      if (job.elapsed_s != null) clock = {base: job.elapsed_s, at: Date.now()};
      setState(job.state);
      setProgress(job.progress);
      setText(panel, "stage", job.stage ? (words[job.stage] || job.stage) : (job.state === "queued" ? "waiting" : ""));
      setText(panel, "node", job.node || "");
      setText(panel, "cost", "$" + Number(job.cost_usd || 0).toFixed(4));
      if (job.message != null) setText(panel, "message", job.message || "");
      if (END.indexOf(job.state) >= 0) {
        source.close();
        try { window.sessionStorage.setItem(FOCUS_KEY, "1"); } catch (err) { /* storage off: focus stays */ }
        window.setTimeout(function () { window.location.reload(); }, 600);
      }
    });
    source.addEventListener("node", function (e) {
      const ev = JSON.parse(e.data);
      setState("running");  // a node finished: the job runs, whatever the last snapshot said
      setProgress(ev.progress);
      setStage(ev.stage);
      setText(panel, "node", ev.node);
      if (log) { const li = document.createElement("li"); li.textContent = ev.node + ": " + ev.event + (ev.detail ? " — " + ev.detail : ""); log.appendChild(li); }
      panel.dataset.lastEvent = String(Date.now() - started);
    });
    source.addEventListener("state", function (e) {
      const ev = JSON.parse(e.data);
      if (ev.state) setState(ev.state);
    });
    window.setInterval(function () {
      if (panel.dataset.state === "running") {
        setText(panel, "elapsed", String(Math.round(clock.base + (Date.now() - clock.at) / 1000)));
      }
    }, 1000);
  }

  function focusAfterReload() {
    let wanted = null;
    try { wanted = window.sessionStorage.getItem(FOCUS_KEY); window.sessionStorage.removeItem(FOCUS_KEY); } catch (err) { return; }
    if (!wanted) return;
    const target = document.querySelector('[data-field="player"]') || document.getElementById("title");
    if (target) target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    const wrap = document.getElementById("jobwrap");
    if (wrap) follow(wrap);
    focusAfterReload();
  });

  // after a shot card is swapped in (saved, refused, picked) focus goes to its message, else to the card's heading
  document.addEventListener("htmx:afterSettle", function (e) {
    const old = e.detail && e.detail.target;  // an outerHTML swap replaced it: find its successor by id
    const card = old && old.id ? document.getElementById(old.id) : null;
    if (!card || !card.classList.contains("shot")) return;
    const target = card.querySelector(".feedback") || card.querySelector(".shot-title");
    if (target) { if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1"); target.focus(); }
  });

  // an answer htmx does not swap (a 4xx/5xx other than 409/422, the network gone): say so, never fail silently
  function flash(text) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }
  document.addEventListener("htmx:responseError", function (e) {
    const xhr = e.detail.xhr;
    let text = "";
    try {
      if ((xhr.getResponseHeader("content-type") || "").indexOf("json") >= 0) text = JSON.parse(xhr.responseText).detail;
      else { const doc = new DOMParser().parseFromString(xhr.responseText, "text/html"); const p = doc.querySelector("main .pre, main p"); text = p ? p.textContent : ""; }
    } catch (err) { text = ""; }
    flash("That did not work (" + xhr.status + "): " + (text || xhr.statusText || "please reload the page"));
  });
  document.addEventListener("htmx:sendError", function () { flash("The server did not answer: check your connection and try again."); });
  document.addEventListener("htmx:beforeRequest", function () { const box = document.getElementById("flash"); if (box) box.hidden = true; });

  document.addEventListener("click", function (e) {
    const link = e.target.closest("[data-lightbox]");
    if (link) {
      const dialog = document.getElementById(link.dataset.lightbox);
      if (dialog && dialog.showModal) { e.preventDefault(); dialog.showModal(); }
      return;
    }
    if (e.target.tagName === "DIALOG") e.target.close();  // a click on the backdrop
  });
})();
