(function () {
  "use strict";
  var ctx = JSON.parse(document.getElementById("hs-context").textContent);
  var API = "/api/hubspot/v1";
  var STATUS_LABELS = { pending: "En cours", draft: "Brouillon", unpaid: "À payer", paid: "Payée",
                        canceled: "Annulée", failed: "Échec" };
  var TENANT_TEXT = {
    needs_qonto: "Connectez votre compte Qonto pour créer des factures.",
    needs_plan: "Choisissez un abonnement pour créer des factures.",
    suspended: "Votre abonnement est suspendu : la création de factures est désactivée.",
    uninstalled: "L'application n'est plus installée sur ce compte HubSpot.",
    grace: "Le dernier paiement a échoué : mettez à jour votre moyen de paiement."
  };
  // The field to fix, in plain words (as the React card's i18n.ts): never a raw "company.siret".
  var FIELD_LABELS = {
    "company": "Entreprise associée", "company.name": "Entreprise › nom", "company.address": "Entreprise › adresse",
    "company.city": "Entreprise › ville", "company.zip": "Entreprise › code postal",
    "company.country": "Entreprise › pays", "company.siret": "Entreprise › SIRET",
    "company.vat_number": "Entreprise › n° de TVA intracommunautaire",
    "deal.company": "Transaction › entreprise associée", "deal.amount": "Transaction › montant",
    "deal.currency": "Transaction › devise", "settings.iban": "Réglages › compte de réception (IBAN)",
    "settings.vat_rate": "Réglages › taux de TVA par défaut",
    "percentage": "Pourcentage de l'acompte"
  };
  var LINE_FIELDS = { name: "nom", quantity: "quantité", price: "prix unitaire", discount: "remise",
                      discount_percentage: "remise", tax_rate: "taux de TVA", currency: "devise" };
  var VAT_MODES = { reverse_charge: "Autoliquidation (0 %, TVA due par le client)", standard: "TVA française" };
  var TIME_ZONE = "Europe/Paris";
  var state = { card: null, busy: false, pending: null, loading: false };

  // --- tiny DOM helpers: text only, never HTML ---------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var key;
    attrs = attrs || {};
    for (key in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
      var value = attrs[key];
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function byId(id) { return document.getElementById(id); }
  function safeUrl(url) {
    try {
      var parsed = new URL(String(url), window.location.href);
      return (parsed.protocol === "https:" || parsed.protocol === "http:") ? parsed.href : null;
    } catch (e) { return null; }
  }
  function link(url, text) {
    var href = safeUrl(url);
    if (!href) return null;
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: text });
  }
  function money(value, currency) {
    if (value === null || value === undefined || value === "") return "—";
    var n = Number(value);
    if (!isFinite(n)) return String(value);
    try {
      return new Intl.NumberFormat("fr-FR", { style: "currency", currency: currency || "EUR" }).format(n);
    } catch (e) { return n.toFixed(2) + " " + (currency || ""); }
  }
  function frDate(value) {
    if (!value) return "—";
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value));
    return m ? m[3] + "/" + m[2] + "/" + m[1] : String(value);
  }
  // Every time is shown in Europe/Paris, whatever the browser's time zone (the API sends UTC).
  function frDateTime(value) {
    if (!value) return "—";
    var d = new Date(String(value));
    if (isNaN(d.getTime())) return String(value);
    return new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "short", timeZone: TIME_ZONE }).format(d);
  }
  function today() {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }
  function fieldLabel(field) {
    if (!field) return null;
    if (FIELD_LABELS[field]) return FIELD_LABELS[field];
    var m = /^line_items\[(\d+)\]\.(\w+)$/.exec(field);
    return m && LINE_FIELDS[m[2]] ? "Ligne " + (Number(m[1]) + 1) + " › " + LINE_FIELDS[m[2]] : null;
  }
  function problemItem(p) {
    var label = fieldLabel(p.field);
    var fix = p.url ? link(p.url, String(p.field || "").indexOf("company") === 0
      ? "Ouvrir l'entreprise dans HubSpot" : "Ouvrir les réglages") : null;
    if (fix) fix.className = "fix-link";
    return [
      el("span", { text: p.message || p.code || "" }),
      label ? el("span", { className: "muted field-hint", text: "Champ à corriger : " + label }) : null,
      fix ? el("span", { className: "field-hint" }, [fix]) : null
    ];
  }
  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // --- hubspot.fetch stand-in: same-origin proxy that signs the call ---------------------
  function call(method, path, body) {
    var q = new URLSearchParams({ path: path, portalId: String(ctx.portalId), userId: String(ctx.userId),
                                  dealId: String(ctx.dealId) });
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "omit" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(ctx.proxyUrl + "?" + q.toString(), opts).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { ok: resp.ok, status: resp.status, data: data, network: false };
      });
    }, function () { return { ok: false, status: 0, data: null, network: true }; });
  }
  function errorOf(result) {
    var err = result.data && result.data.error;
    if (err && typeof err === "object") return err;
    if (result.network) return { code: "network", message: "Le serveur de l'application est injoignable." };
    return { code: "http_" + result.status, message: "Erreur inattendue (HTTP " + result.status + ")." };
  }
  function transient(result) { return result.network || result.status === 429 || result.status >= 500; }

  // --- alerts --------------------------------------------------------------------------------
  function alertBox(kind, message, opts) {
    opts = opts || {};
    var box = byId("card-alerts");
    clear(box);
    var children = [el("p", { className: "alert-text", text: message })];
    // The message is the first problem's: each sentence once, with where to fix it.
    var problems = opts.problems || [];
    var others = problems.filter(function (p) { return p.message !== message; });
    if (others.length) {
      children.push(el("ul", { className: "alert-problems" }, others.map(function (p) {
        return el("li", {}, problemItem(p));
      })));
    }
    problems.filter(function (p) { return p.message === message && p.url; }).slice(0, 1).forEach(function (p) {
      children.push(el("p", { className: "alert-text" }, problemItem({ url: p.url, field: p.field }).slice(2)));
    });
    var actions = [];
    if (opts.linkUrl) actions.push(link(opts.linkUrl, opts.linkText || "Ouvrir"));
    if (opts.retry) {
      actions.push(el("button", { type: "button", className: "secondary small", id: "alert-retry",
                                  text: "Réessayer", onclick: function () { clear(box); opts.retry(); } }));
    }
    actions.push(el("button", { type: "button", className: "link-button", text: "Fermer",
                                onclick: function () { clear(box); } }));
    children.push(el("div", { className: "alert-actions" }, actions));
    box.appendChild(el("div", { className: "alert alert-" + kind, role: kind === "error" ? "alert" : "status",
                                id: "card-alert", "data-kind": kind }, children));
  }

  // --- rendering -----------------------------------------------------------------------------
  function tenantOperational(card) {
    var s = card && card.tenant && card.tenant.status;
    return s === "active" || s === "grace";
  }
  function kindLabel(inv) {
    if (inv.kind === "deposit") return "Acompte" + (inv.percentage ? " " + inv.percentage + " %" : "");
    if (inv.kind === "balance") return "Solde";
    return "Facture";
  }
  function overdue(inv) {
    return inv.status === "unpaid" && inv.due_date && String(inv.due_date) < today();
  }
  function renderTenant(card) {
    var box = byId("card-tenant");
    clear(box);
    var tenant = card.tenant || {};
    if (tenant.status === "active") return;
    var kind = tenant.status === "grace" ? "warning" : "error";
    var text = tenant.message || TENANT_TEXT[tenant.status] || "L'application n'est pas opérationnelle.";
    box.appendChild(el("div", { className: "alert alert-" + kind, id: "tenant-status",
                                "data-status": tenant.status || "" }, [
      el("p", { className: "alert-text", text: text }),
      tenant.settings_url ? el("div", { className: "alert-actions" },
                               [link(tenant.settings_url, "Ouvrir les réglages")]) : null
    ]));
  }
  function renderReadiness(card) {
    var box = byId("card-readiness");
    clear(box);
    var r = card.readiness || { ready: false, problems: [] };
    var status = card.status || {};
    if (status.code === "fully_invoiced") {
      // One message, the one every button would answer: never "prête", never "facturez le solde".
      box.appendChild(el("div", { className: "alert alert-success", id: "fully-invoiced" }, [
        el("p", { className: "alert-text", text: status.message || "Transaction entièrement facturée." })
      ]));
    } else if (r.ready) {
      box.appendChild(el("p", { className: "ready ok", id: "readiness-ok",
                                text: "✓ Cette transaction est prête à être facturée." }));
    } else {
      box.appendChild(el("p", { className: "ready ko", text: "Informations à compléter avant de facturer :" }));
      box.appendChild(el("ul", { className: "problems", id: "readiness-problems" }, (r.problems || []).map(function (p) {
        return el("li", { "data-code": p.code || "" }, [el("span", { className: "cross", text: "✗ " })]
          .concat(problemItem(p)));
      })));
    }
    var warnings = byId("card-warnings");
    clear(warnings);
    if ((r.warnings || []).length) {
      warnings.appendChild(el("div", { className: "alert alert-warning", id: "readiness-warnings" }, [
        el("p", { className: "alert-text", text: "À savoir avant de facturer :" }),
        el("ul", { className: "alert-problems" }, r.warnings.map(function (p) {
          return el("li", { "data-code": p.code || "" }, problemItem(p));
        }))
      ]));
    }
  }
  function statusTag(inv) {
    var tags = [el("span", { className: "tag tag-" + (inv.status || "unknown"),
                             text: STATUS_LABELS[inv.status] || inv.status || "?" })];
    if (overdue(inv)) tags.push(el("span", { className: "tag tag-overdue", text: "En retard" }));
    return tags;
  }
  function invoiceRow(inv) {
    // No number before Qonto gives one: "—" (the status column says Brouillon, once).
    var number = inv.number || (inv.status === "pending" ? "…" : "—");
    var cells = [
      el("td", { className: "num", text: number }),
      el("td", { text: kindLabel(inv) }),
      el("td", { className: "amount", text: money(inv.total_amount, inv.currency) }),
      el("td", {}, statusTag(inv)),
      el("td", { text: frDate(inv.due_date) }),
      el("td", {}, [
        // The seller's invoice in the Qonto app; the customer's payment page only once finalized.
        inv.qonto_url ? link(inv.qonto_url, "Ouvrir dans Qonto") : null,
        inv.qonto_url && inv.payment_url ? el("br") : null,
        inv.payment_url ? link(inv.payment_url, "Lien de paiement client") : null
      ])
    ];
    var row = el("tr", { "data-invoice-id": inv.id || "", "data-status": inv.status || "",
                         className: overdue(inv) ? "overdue" : "" }, cells);
    var notices = (inv.notices || []).map(function (n) {
      return el("tr", { className: "notice-row" }, [el("td", { colspan: "6", className: "notice", text: n.message })]);
    });
    if (inv.status !== "failed" || !inv.error) return [row].concat(notices);
    var errCell = el("td", { colspan: "6", className: "row-error" }, [
      el("span", { text: inv.error.message || inv.error.code || "Erreur" }),
      inv.error.retryable ? el("button", { type: "button", className: "secondary small btn-retry-invoice",
                                           text: "Réessayer", disabled: state.busy,
                                           onclick: function () { retryInvoice(inv.id); } }) : null
    ]);
    return [row, el("tr", { className: "error-row" }, [errCell])];
  }
  function renderInvoices(card) {
    var box = byId("card-invoices");
    clear(box);
    var invoices = (card.invoices || []).slice();
    if (state.pending && !state.pending.invoiceId) {
      invoices.unshift({ id: "", kind: state.pending.kind, percentage: state.pending.percentage,
                         status: "pending", number: null, total_amount: null, currency: "EUR" });
    }
    if (!invoices.length) {
      box.appendChild(el("p", { className: "muted", id: "no-invoices",
                                text: "Aucune facture pour cette transaction." }));
      return;
    }
    var rows = [];
    invoices.forEach(function (inv) { rows = rows.concat(invoiceRow(inv)); });
    var heads = ["Numéro", "Type", "Montant TTC", "Statut", "Échéance", ""];
    var table = el("table", { className: "invoices", id: "invoices-table" }, [
      el("thead", {}, [el("tr", {}, heads.map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows)
    ]);
    box.appendChild(el("div", { className: "table-wrap" }, [table]));
  }
  function renderTotals(card) {
    var box = byId("card-totals");
    clear(box);
    var t = card.totals || {};
    var cur = (card.deal && card.deal.currency) || "EUR";
    var rows = [["Montant de la transaction (HT)", t.deal_amount, "total-deal"],
                ["Facturé (HT)", t.invoiced, "total-invoiced"],
                ["Payé", t.paid, "total-paid"],
                ["Reste à facturer (HT)", t.left_to_invoice, "total-left"]];
    rows.forEach(function (row) {
      box.appendChild(el("div", { className: "total-row" }, [
        el("span", { text: row[0] }), el("strong", { id: row[2], text: money(row[1], cur) })
      ]));
    });
    if ((card.invoices || []).length) {  // with no invoice there is nothing to read in Qonto
      box.appendChild(el("p", { className: "muted small", id: "card-last-read",
                                text: card.last_read_at
                                  ? "Lu dans Qonto le " + frDateTime(card.last_read_at) + " (heure de Paris)"
                                  : "Pas encore lu dans Qonto" }));
    }
  }
  function sharedClientWarning(card) {
    return ((card && card.readiness && card.readiness.warnings) || []).some(function (w) {
      return w.code === "shared_tax_id";
    });
  }
  function renderVatChoice(card) {
    var vat = card && card.vat;
    var box = byId("vat-choice");
    box.hidden = !(vat && vat.choice_required);
    if (box.hidden) return;
    var select = byId("vat-mode");
    var wanted = vat.locked_mode || select.value || vat.default_mode;
    clear(select);
    vat.modes.forEach(function (mode) {
      select.appendChild(el("option", { value: mode, text: VAT_MODES[mode] || mode, selected: mode === wanted }));
    });
    if (vat.modes.indexOf(wanted) < 0) select.value = vat.default_mode;
    select.disabled = !!vat.locked_mode || vat.modes.length < 2;
    byId("vat-mode-help").textContent = vat.locked_mode
      ? "Imposée par les factures déjà faites pour cette transaction."
      : (select.value === "reverse_charge" ? (vat.reverse_charge_mention || "") : "");
  }
  function renderActions() {
    var card = state.card;
    var enabled = !!card && tenantOperational(card) && !state.busy;
    var ready = !!(card && card.readiness && card.readiness.ready);
    var actions = (card && card.actions) || null;
    var shared = sharedClientWarning(card);
    byId("shared-client").hidden = !shared;
    var confirmed = !shared || byId("confirm-shared-client").checked;
    var allowed = function (kind) { return actions ? actions[kind].enabled : ready; };
    byId("btn-full").disabled = !(enabled && allowed("full") && confirmed);
    byId("btn-deposit").disabled = !(enabled && allowed("deposit") && confirmed);
    byId("btn-balance").disabled = !(enabled && allowed("balance") && confirmed);
    byId("deposit-percentage").disabled = !(enabled && allowed("deposit"));
    renderVatChoice(card);
    // Why a button is off, said once (a fully invoiced deal: one sentence, not three).
    var box = byId("card-action-reasons");
    clear(box);
    if (!card || !tenantOperational(card) || !actions) return;
    var reasons = [];
    ["full", "deposit", "balance"].forEach(function (kind) {
      var reason = !actions[kind].enabled && actions[kind].reason;
      if (reason && reasons.indexOf(reason) < 0) reasons.push(reason);
    });
    reasons.forEach(function (reason) {
      box.appendChild(el("p", { className: "muted small action-reason", text: reason }));
    });
  }
  function renderCard() {
    var card = state.card;
    byId("card-loading").hidden = true;
    byId("card-body").hidden = false;
    renderTenant(card);
    renderReadiness(card);
    renderInvoices(card);
    renderTotals(card);
    renderActions();
  }

  // --- data flow -----------------------------------------------------------------------------
  function loadCard() {
    state.loading = true;
    return call("GET", API + "/deals/" + encodeURIComponent(ctx.dealId) + "/card").then(function (r) {
      state.loading = false;
      if (r.ok && r.data) {
        state.card = r.data;
        renderCard();
        return;
      }
      byId("card-loading").hidden = true;
      var err = errorOf(r);
      alertBox("error", err.message || "La carte n'a pas pu être chargée.",
               { problems: err.problems, retry: loadCard });
    });
  }
  // "Actualiser": the backend reads this deal's invoices from Qonto now, then answers the card.
  function refreshCard() {
    if (state.busy) return;
    var button = byId("card-refresh");
    button.disabled = true;
    button.textContent = "Lecture dans Qonto…";
    call("POST", API + "/deals/" + encodeURIComponent(ctx.dealId) + "/refresh", {}).then(function (r) {
      button.disabled = false;
      button.textContent = "Actualiser";
      if (r.ok && r.data) {
        state.card = r.data;
        byId("card-alerts").textContent = "";
        renderCard();
        loadProperties();
        return;
      }
      var err = errorOf(r);
      alertBox("warning", err.message || "Actualisation impossible.", { retry: transient(r) ? refreshCard : null });
    });
  }
  function upsertInvoice(inv) {
    if (!state.card) return;
    var list = state.card.invoices || (state.card.invoices = []);
    for (var i = 0; i < list.length; i++) {
      if (list[i].id === inv.id) { list[i] = inv; renderCard(); return; }
    }
    list.unshift(inv);
    renderCard();
  }
  function startAction(kind) {
    if (state.busy) return;
    var percentage = null;
    if (kind === "deposit") {
      var raw = byId("deposit-percentage").value.trim().replace(",", ".");
      var n = Number(raw);
      if (!raw || !isFinite(n) || n < 1 || n > 99) {
        alertBox("error", "Indiquez un pourcentage d'acompte entre 1 et 99.");
        return;
      }
      percentage = raw;
    }
    var vat = state.card && state.card.vat;
    var vatMode = vat && vat.choice_required ? byId("vat-mode").value : null;
    var confirmShared = sharedClientWarning(state.card) && byId("confirm-shared-client").checked;
    // One idempotency key per click, reused if this same click is retried.
    submit({ kind: kind, percentage: percentage, key: newKey(), invoiceId: null,
             vatMode: vatMode, confirmShared: confirmShared });
  }
  function submit(action) {
    state.busy = true;
    state.pending = action;
    byId("card-alerts").textContent = "";
    renderCard();
    var payload = { kind: action.kind, percentage: action.percentage, idempotency_key: action.key };
    if (action.vatMode) payload.vat_mode = action.vatMode;
    if (action.confirmShared) payload.confirm_shared_client = true;
    call("POST", API + "/deals/" + encodeURIComponent(ctx.dealId) + "/invoices", payload).then(function (r) {
      if (r.ok && r.data && r.data.invoice) {
        action.invoiceId = r.data.invoice.id;
        upsertInvoice(r.data.invoice);
        if (r.data.invoice.status === "pending") poll(r.data.invoice.id, 0);
        else settled(r.data.invoice);
        return;
      }
      state.busy = false;
      state.pending = null;
      renderCard();
      var err = errorOf(r);
      alertBox("error", err.message || "La facture n'a pas pu être créée.", {
        problems: err.problems, retry: transient(r) ? function () { submit(action); } : null
      });
    });
  }
  function poll(id, attempt) {
    window.setTimeout(function () {
      call("GET", API + "/invoices/" + encodeURIComponent(id)).then(function (r) {
        var inv = r.ok && r.data ? (r.data.invoice || r.data) : null;
        if (inv && inv.id) {
          upsertInvoice(inv);
          if (inv.status !== "pending") { settled(inv); return; }
        } else if (!transient(r)) {
          state.busy = false; state.pending = null; renderCard();
          alertBox("error", errorOf(r).message || "Impossible de suivre la facture.");
          return;
        }
        if (attempt >= 180) {
          state.busy = false; state.pending = null; renderCard();
          alertBox("warning", "La création prend plus de temps que prévu. "
                   + "Rechargez la page dans un instant.");
          return;
        }
        poll(id, attempt + 1);
      });
    }, 1000);
  }
  function settled(inv) {
    state.busy = false;
    state.pending = null;
    if (inv.status === "failed") {
      var err = inv.error || {};
      alertBox("error", err.message || "La création de la facture a échoué.", {
        retry: err.retryable ? function () { retryInvoice(inv.id); } : null
      });
    } else {
      var done = inv.status === "draft" ? "Facture créée en brouillon dans Qonto."
        : "Facture créée dans Qonto (statut : " + (STATUS_LABELS[inv.status] || inv.status) + ").";
      alertBox("success", done, { linkUrl: inv.qonto_url, linkText: "Ouvrir dans Qonto" });
    }
    loadCard();
    loadProperties();
  }
  function retryInvoice(id) {
    if (state.busy) return;
    state.busy = true;
    renderCard();
    call("POST", API + "/invoices/" + encodeURIComponent(id) + "/retry", {}).then(function (r) {
      if (r.ok) {
        var inv = r.data && (r.data.invoice || r.data);
        if (inv && inv.id) upsertInvoice(inv);
        poll(id, 0);
        return;
      }
      state.busy = false;
      renderCard();
      var err = errorOf(r);
      alertBox("error", err.message || "La facture ne peut pas être relancée.", {
        retry: transient(r) ? function () { retryInvoice(id); } : null
      });
    });
  }

  // --- the deal's properties panel (HubSpot's refreshObjectProperties) -------------------
  function renderProperties(deal) {
    var box = byId("deal-properties");
    clear(box);
    (deal.properties || []).forEach(function (p) {
      var empty = p.value === null || p.value === undefined || p.value === "";
      box.appendChild(el("div", { className: "prop", "data-name": p.name }, [
        el("dt", { text: p.label }),
        el("dd", { className: empty ? "muted" : "", text: empty ? "—" : String(p.value) })
      ]));
    });
    var company = byId("deal-company");
    clear(company);
    if (deal.company) {
      company.appendChild(el("span", { text: "Entreprise principale : " }));
      company.appendChild(el("strong", { text: deal.company.name || deal.company.id }));
      if (deal.company.country) {
        company.appendChild(el("span", { className: "muted", text: " · " + deal.company.country }));
      }
    } else {
      company.appendChild(el("span", { className: "muted", text: "Aucune entreprise associée" }));
    }
  }
  function loadProperties() {
    return fetch(ctx.propertiesUrl, { headers: { "Accept": "application/json" } }).then(function (resp) {
      return resp.ok ? resp.json() : null;
    }).then(function (deal) { if (deal) renderProperties(deal); }, function () { /* keep the old panel */ });
  }

  byId("btn-full").addEventListener("click", function () { startAction("full"); });
  byId("btn-deposit").addEventListener("click", function () { startAction("deposit"); });
  byId("btn-balance").addEventListener("click", function () { startAction("balance"); });
  byId("card-refresh").addEventListener("click", refreshCard);
  byId("confirm-shared-client").addEventListener("change", renderActions);
  byId("vat-mode").addEventListener("change", function () { renderVatChoice(state.card); });
  renderProperties(ctx.deal);
  renderActions();
  loadCard();
})();
