/* Legato web UI: small hand-written enhancements over server-rendered pages.
   Repair actions call the REST API (/api/...) and show its error message when it refuses. */
"use strict";
document.documentElement.classList.add("js");

const Legato = (() => {
  // ------------------------------------------------------------------ API calls
  async function api(method, url, body) {
    const init = { method, headers: { Accept: "application/json, text/plain" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new Error(`The server could not be reached (${err.message}).`);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new Error(errorText(response, text));
    }
    const type = response.headers.get("content-type") || "";
    if (type.includes("application/json") && text) return JSON.parse(text);
    return text;
  }

  function errorText(response, text) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = JSON.parse(text);
      if (body && body.message) message = `${response.status}: ${body.message}`;
      for (const p of (body && body.validationErrors) || []) {
        message += `\n • ${p.path ? p.path + ": " : ""}${p.message}`;
      }
    } catch (_) {
      if (text) message += `: ${text.slice(0, 300)}`;
    }
    return message;
  }

  // ------------------------------------------------------------------ feedback
  let toastTimer = null;
  function toast(text) {
    const el = document.getElementById("lg-toast");
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  function showError(box, message, ok = false) {
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("ok", ok);
    box.hidden = !message;
  }

  // A modal confirmation; resolves to the dialog's form values, or null when cancelled.
  function confirmDialog({ title, text, extra = null, okLabel = "Confirm", danger = false }) {
    const dialog = document.getElementById("lg-confirm");
    document.getElementById("lg-confirm-title").textContent = title;
    document.getElementById("lg-confirm-text").textContent = text;
    const holder = document.getElementById("lg-confirm-extra");
    holder.replaceChildren();
    if (extra) holder.append(extra);
    const ok = document.getElementById("lg-confirm-ok");
    ok.textContent = okLabel;
    ok.className = danger ? "danger" : "primary";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        if (dialog.returnValue !== "ok") return resolve(null);
        const values = {};
        for (const el of holder.querySelectorAll("[name]")) values[el.name] = el.value;
        resolve(values);
      }, { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      const first = holder.querySelector("select, input");
      (first || ok).focus();
    });
  }

  function field(label, control) {
    const wrap = document.createElement("div");
    const id = "lg-field-" + control.name;
    control.id = id;
    const l = document.createElement("label");
    l.htmlFor = id;
    l.textContent = label;
    wrap.append(l, control);
    return wrap;
  }

  function input(name, value = "") {
    const el = document.createElement("input");
    el.type = "text";
    el.name = name;
    el.value = value;
    el.autocomplete = "off";
    return el;
  }

  function select(name, templateId) {
    const el = document.createElement("select");
    el.name = name;
    const tpl = document.getElementById(templateId);
    if (tpl) el.append(tpl.content.cloneNode(true));
    return el;
  }

  // ------------------------------------------------------------------ tabs
  function setupTabs() {
    const list = document.querySelector("[role=tablist]");
    if (!list) return;
    const tabs = [...list.querySelectorAll("[role=tab]")];
    const show = (tab, focus = false) => {
      for (const t of tabs) {
        const selected = t === tab;
        t.setAttribute("aria-selected", String(selected));
        t.tabIndex = selected ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
      }
      if (focus) tab.focus();
    };
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => show(tab));
      tab.addEventListener("keydown", (e) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
        if (step) { e.preventDefault(); show(tabs[(i + step + tabs.length) % tabs.length], true); }
        if (e.key === "Home") { e.preventDefault(); show(tabs[0], true); }
        if (e.key === "End") { e.preventDefault(); show(tabs[tabs.length - 1], true); }
      });
    });
    show(tabs.find((t) => t.getAttribute("aria-selected") === "true") || tabs[0]);
    return (id) => { const t = tabs.find((x) => x.id === id); if (t) show(t); };
  }

  // ------------------------------------------------------------------ definition page
  function setupStartForm() {
    const form = document.getElementById("lg-start-form");
    if (!form) return;
    const box = document.getElementById("lg-start-error");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      showError(box, "");
      let data;
      try {
        data = JSON.parse(form.elements.input.value || "{}");
      } catch (err) {
        showError(box, `The input is not valid JSON: ${err.message}`);
        form.elements.input.focus();
        return;
      }
      if (data === null || typeof data !== "object" || Array.isArray(data)) {
        showError(box, "The input must be a JSON object ({...}).");
        return;
      }
      const request = { name: form.dataset.name, version: Number(form.elements.version.value), input: data };
      const correlation = form.elements.correlationId.value.trim();
      if (correlation) request.correlationId = correlation;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const id = String(await api("POST", "/api/workflow", request)).trim();
        window.location.assign(`/executions/${encodeURIComponent(id)}`);
      } catch (err) {
        showError(box, err.message);
        button.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------------ execution page
  function setupExecution(selectTab) {
    const root = document.getElementById("lg-execution");
    if (!root) return;
    const id = root.dataset.workflowId;
    const base = `/api/workflow/${encodeURIComponent(id)}`;
    let token = root.dataset.token;
    let source = null;
    const liveText = document.getElementById("lg-live");

    function openTask(hash) {
      if (!hash || !hash.startsWith("#task-")) return;
      const details = document.getElementById(hash.slice(1));
      if (!details) return;
      if (selectTab) selectTab("tab-tasks");
      details.open = true;
      details.scrollIntoView({ block: "center" });
      details.querySelector("summary").focus();
    }
    window.addEventListener("hashchange", () => openTask(location.hash));
    openTask(location.hash);

    async function loadLogs(details) {
      const box = details.querySelector(".logs");
      if (!box) return;
      try {
        const logs = await api("GET", `/api/tasks/${encodeURIComponent(box.dataset.taskId)}/log`);
        if (!Array.isArray(logs) || !logs.length) {
          box.innerHTML = '<p class="muted">No log lines.</p>';
          return;
        }
        const ol = document.createElement("ol");
        for (const entry of logs) {
          const li = document.createElement("li");
          const when = entry.createdTime ? new Date(entry.createdTime).toISOString().replace("T", " ").slice(0, 23) + " " : "";
          li.textContent = when + entry.log;
          ol.append(li);
        }
        box.replaceChildren(ol);
      } catch (err) {
        box.textContent = `Logs could not be loaded: ${err.message}`;
      }
    }
    root.addEventListener("toggle", (e) => {
      if (e.target.matches && e.target.matches("details.task") && e.target.open) loadLogs(e.target);
    }, true);

    function applyRegions(regions) {
      for (const [regionId, html] of Object.entries(regions)) {
        const el = document.getElementById(regionId);
        if (!el) continue;
        const open = [...el.querySelectorAll("details[open]")].map((d) => d.id);
        const focused = el.contains(document.activeElement) ? document.activeElement.closest("[id]") : null;
        el.innerHTML = html;
        for (const detailsId of open) {
          const d = document.getElementById(detailsId);
          if (d) { d.open = true; loadLogs(d); }
        }
        if (focused && focused.id) {
          const again = document.getElementById(focused.id);
          if (again) (again.querySelector("summary") || again).focus({ preventScroll: true });
        }
      }
      wireActions();
    }

    function connect() {
      if (source) source.close();
      const url = `/ui/events/executions/${encodeURIComponent(id)}?since=${encodeURIComponent(token)}`;
      source = new EventSource(url);
      liveText.textContent = "Live: updates as the execution changes.";
      source.addEventListener("update", (e) => {
        const data = JSON.parse(e.data);
        token = e.lastEventId || token;
        root.dataset.token = token;
        applyRegions(data.regions);
        root.dataset.status = data.status;
        if (data.terminal) {
          source.close();
          source = null;
          liveText.textContent = `Execution ${data.status}.`;
        }
      });
      source.addEventListener("gone", () => {
        source.close();
        source = null;
        liveText.textContent = "This execution was removed.";
      });
      source.onerror = () => {
        if (source) liveText.textContent = "Live updates interrupted; reconnecting…";
      };
      source.onopen = () => { liveText.textContent = "Live: updates as the execution changes."; };
    }

    const ACTIONS = {
      pause: { title: "Pause this execution?", text: "Running tasks may finish, but nothing new is scheduled until it is resumed.", call: () => api("PUT", `${base}/pause`) },
      resume: { title: "Resume this execution?", text: "Scheduling continues where it stopped.", call: () => api("PUT", `${base}/resume`) },
      retry: { title: "Retry this execution?", text: "The failed tasks run again, as new attempts; the execution becomes RUNNING.", call: () => api("POST", `${base}/retry`) },
      restart: { title: "Restart this execution?", text: "Every task is removed and the execution starts over from the first task, with the same input.", call: () => api("POST", `${base}/restart`), danger: true },
      rerun: {
        title: "Rerun from a task?", text: "Tasks after the chosen one are removed; the chosen task runs again.",
        extra: () => field("Rerun from", select("taskId", "lg-rerun-options")),
        call: (v) => api("POST", `${base}/rerun`, { reRunFromWorkflowId: id, reRunFromTaskId: v.taskId }),
      },
      skip: {
        title: "Skip a task?", text: "The chosen task is marked SKIPPED when the execution reaches it.",
        extra: () => field("Task to skip", select("ref", "lg-skip-options")),
        call: (v) => api("PUT", `${base}/skiptask/${encodeURIComponent(v.ref)}`),
      },
      terminate: {
        title: "Terminate this execution?", text: "Its pending tasks are canceled. It can be retried or restarted later.", danger: true,
        extra: () => field("Reason (optional)", input("reason")),
        call: (v) => api("DELETE", `${base}?reason=${encodeURIComponent(v.reason || "")}`),
      },
    };

    function wireActions() {
      for (const button of document.querySelectorAll("#lg-head [data-action]")) {
        if (button.dataset.wired) continue;
        button.dataset.wired = "1";
        button.addEventListener("click", async () => {
          const name = button.dataset.action;
          const action = ACTIONS[name];
          const values = await confirmDialog({
            title: action.title, text: action.text, extra: action.extra ? action.extra() : null,
            okLabel: button.textContent.replace("…", ""), danger: Boolean(action.danger),
          });
          if (values === null) { button.focus(); return; }
          const box = document.getElementById("lg-action-error");
          showError(box, "");
          try {
            await action.call(values);
            toast(`${button.textContent.replace("…", "")}: done.`);
            connect(); // a fresh render now, and live again if the execution runs again
          } catch (err) {
            showError(document.getElementById("lg-action-error"), err.message);
          }
        });
      }
    }

    wireActions();
    if (root.dataset.terminal !== "true") connect();
    else liveText.textContent = "";
  }

  // ------------------------------------------------------------------ executions (search) page
  function setupBulk() {
    const table = document.getElementById("lg-results");
    const bar = document.getElementById("lg-bulk");
    if (!bar) return;
    const count = document.getElementById("lg-selected");
    const box = document.getElementById("lg-bulk-result");
    const boxes = () => [...document.querySelectorAll(".lg-select")];
    const chosen = () => boxes().filter((b) => b.checked).map((b) => b.value);
    const refresh = () => {
      const n = chosen().length;
      count.textContent = `${n} selected`;
      for (const b of bar.querySelectorAll("button")) b.disabled = n === 0;
      const all = document.getElementById("lg-select-all");
      if (all) all.checked = n > 0 && n === boxes().length;
    };
    if (table) {
      table.addEventListener("change", (e) => {
        if (e.target.id === "lg-select-all") for (const b of boxes()) b.checked = e.target.checked;
        refresh();
      });
    }
    const BULK = {
      pause: ["PUT", "pause"], resume: ["PUT", "resume"], retry: ["POST", "retry"],
      restart: ["POST", "restart"], terminate: ["POST", "terminate"],
    };
    for (const button of bar.querySelectorAll("[data-bulk]")) {
      button.addEventListener("click", async () => {
        const ids = chosen();
        const name = button.dataset.bulk;
        const label = button.textContent.replace("…", "");
        const values = await confirmDialog({
          title: `${label} ${ids.length} execution${ids.length === 1 ? "" : "s"}?`,
          text: "Each selected execution is changed independently; the result lists any that could not be.",
          extra: name === "terminate" ? field("Reason (optional)", input("reason")) : null,
          okLabel: label, danger: name === "terminate" || name === "restart",
        });
        if (values === null) { button.focus(); return; }
        const [method, path] = BULK[name];
        const query = name === "terminate" && values.reason ? `?reason=${encodeURIComponent(values.reason)}` : "";
        try {
          const result = await api(method, `/api/workflow/bulk/${path}${query}`, ids);
          const ok = (result && result.bulkSuccessfulResults) || [];
          const failed = Object.entries((result && result.bulkErrorResults) || {});
          let text = `${label}: ${ok.length} succeeded, ${failed.length} failed.`;
          for (const [wid, why] of failed) text += `\n • ${wid}: ${why}`;
          showError(box, text, failed.length === 0);
          const again = document.createElement("a");
          again.href = location.href;
          again.textContent = " Refresh the results.";
          box.append(again);
        } catch (err) {
          showError(box, err.message);
        }
      });
    }
    refresh();
  }

  // ------------------------------------------------------------------ queues page
  function setupRefresh() {
    const el = document.querySelector("[data-refresh]");
    if (!el) return;
    setInterval(async () => {
      if (document.hidden) return;
      try {
        const html = await api("GET", el.dataset.refresh);
        el.innerHTML = html;
      } catch (_) { /* keep the last table */ }
    }, 5000);
  }

  function init() {
    const selectTab = setupTabs();
    setupStartForm();
    setupExecution(selectTab);
    setupBulk();
    setupRefresh();
  }
  return { init, api, confirmDialog };
})();

document.addEventListener("DOMContentLoaded", Legato.init);
