// storyreel dashboard: live job panel (Server-Sent Events) and image lightbox. No inline scripts (CSP).
(function () {
  "use strict";
  const END = ["done", "failed", "canceled", "interrupted", "cost_limit"];

  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  function setText(root, name, text) { const el = field(root, name); if (el) el.textContent = text; }

  function showJob(panel, job) {
    const bar = field(panel, "progress-bar");
    if (bar) { bar.value = job.progress; bar.textContent = job.progress + " %"; }
    setText(panel, "progress", Math.round(job.progress) + " %");
    setText(panel, "stage", job.stage || "waiting");
    setText(panel, "node", job.node || "");
    setText(panel, "cost", "$" + Number(job.cost_usd || 0).toFixed(4));
    if (job.elapsed_s != null) setText(panel, "elapsed", Math.round(job.elapsed_s));
    const state = field(panel, "state");
    if (state) { state.textContent = job.state.replace("_", " "); state.className = "badge s-" + job.state; }
    panel.dataset.state = job.state;
    if (job.message != null) setText(panel, "message", job.message || "");
  }

  function follow(wrap) {
    const url = wrap.dataset.eventsUrl;
    const panel = wrap.querySelector("#job");
    if (!url || !panel || !window.EventSource) return;
    const started = Date.now();
    const source = new EventSource(url);
    const log = field(panel, "log");
    source.addEventListener("job", function (e) {
      const job = JSON.parse(e.data);
      showJob(panel, job);
      if (END.indexOf(job.state) >= 0) { source.close(); window.setTimeout(function () { window.location.reload(); }, 600); }
    });
    source.addEventListener("node", function (e) {
      const ev = JSON.parse(e.data);
      const bar = field(panel, "progress-bar");
      if (bar) bar.value = ev.progress;
      setText(panel, "progress", Math.round(ev.progress) + " %");
      setText(panel, "stage", ev.stage);
      setText(panel, "node", ev.node);
      if (log) { const li = document.createElement("li"); li.textContent = ev.node + ": " + ev.event + (ev.detail ? " — " + ev.detail : ""); log.appendChild(li); }
      panel.dataset.lastEvent = String(Date.now() - started);
    });
    source.addEventListener("state", function (e) {
      const ev = JSON.parse(e.data);
      if (ev.state) { const st = field(panel, "state"); if (st) { st.textContent = ev.state.replace("_", " "); st.className = "badge s-" + ev.state; } }
    });
    window.setInterval(function () {
      if (panel.dataset.state === "running") {
        const el = field(panel, "elapsed");
        if (el && el.textContent !== "") el.textContent = String(Number(el.textContent) + 1);
      }
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const wrap = document.getElementById("jobwrap");
    if (wrap) follow(wrap);
  });

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
