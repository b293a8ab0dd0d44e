(function () {
  "use strict";
  // The "Automatisation HubSpot" panel: text only (textContent), never HTML from the backend.
  var ctx = JSON.parse(document.getElementById("hs-context").textContent);
  var STATES = { SENDING: "envoyée", RETRYING: "nouvel essai", BLOCKED: "en attente du rappel",
                 SUCCESS: "terminée (SUCCESS)", FAIL_CONTINUE: "terminée (FAIL_CONTINUE)",
                 FAILED: "échec de l'appel", EXPIRED: "expirée" };
  function byId(id) { return document.getElementById(id); }
  function text(tag, value, cls) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (cls) node.className = cls;
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function alertBox(message, kind) {
    var box = byId("wf-alert");
    clear(box);
    if (message) box.appendChild(text("div", message, "alert alert-" + (kind || "success")));
  }
  function post(path, body) {
    return fetch(ctx.automationUrl + path, {
      method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) throw new Error(data.error || ("HTTP " + resp.status));
        return data;
      });
    });
  }
  function render(data) {
    var select = byId("wf-stage");
    var keep = select.value || data.stage;
    clear(select);
    (data.pipelines || []).forEach(function (p) {
      var group = document.createElement("optgroup");
      group.label = p.label;
      p.stages.forEach(function (s) {
        var option = text("option", s.label);
        option.value = s.id;
        if (s.id === keep) option.selected = true;
        group.appendChild(option);
      });
      select.appendChild(group);
    });
    var list = byId("wf-executions");
    clear(list);
    if (!data.executions.length) list.textContent = "Aucune.";
    data.executions.forEach(function (e) {
      var outputs = e.outputFields || {};
      var line = (e.inputFields.kind || "?") + (e.inputFields.percentage ? " " + e.inputFields.percentage + " %" : "") +
        " — " + (STATES[e.state] || e.state) + (outputs.qonto_message ? " — " + outputs.qonto_message : "");
      list.appendChild(text("div", line));
    });
    var deliveries = byId("wf-deliveries");
    clear(deliveries);
    if (!data.deliveries.length) deliveries.textContent = "Aucun.";
    data.deliveries.forEach(function (d) {
      var codes = d.attempts.map(function (a) { return a.status || a.error || "?"; }).join(", ");
      deliveries.appendChild(text("div", d.eventIds.length + " événement(s) — " + d.state + " (" + codes + ")"));
    });
  }
  function refresh() {
    return fetch(ctx.automationUrl + "/automation.json", { headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) { if (data) render(data); }, function () { /* keep the panel */ });
  }
  function refreshAll() {
    refresh();
    var card = byId("card-refresh");
    if (card) card.click(); // the card and the properties, as HubSpot would show them
  }
  function later() { [1500, 4000, 8000].forEach(function (ms) { setTimeout(refreshAll, ms); }); }
  byId("wf-run").addEventListener("click", function () {
    var body = { kind: byId("wf-kind").value };
    if (body.kind === "deposit") body.percentage = byId("wf-percentage").value;
    alertBox("Exécution de l'action…", "warning");
    post("/workflow-action", body).then(function (e) {
      alertBox("Action exécutée : " + (STATES[e.state] || e.state) + ".", e.state === "FAILED" ? "error" : "success");
      refreshAll(); later();
    }, function (err) { alertBox(err.message, "error"); });
  });
  byId("wf-move").addEventListener("click", function () {
    post("/stage", { stage: byId("wf-stage").value }).then(function (r) {
      alertBox(r.event ? "Phase changée : webhook envoyé." : "Phase inchangée (ou application non installée) : pas de webhook.");
      refreshAll(); later();
    }, function (err) { alertBox(err.message, "error"); });
  });
  refresh();
})();
