/* modelcat report: the workload calculator. It follows the catalog's workload_costs macro
   (transforms/publish/cost.py) step by step, in exact integers: prices are BigInt units of
   1e-9 USD per 1M tokens, so a cost is a BigInt of 1e-15 USD, written with 15 decimals as
   DuckDB writes DECIMAL(38,15). Classic script: works from file://. */
(function () {
  "use strict";
  var KINDS = ["input", "output", "cache_read", "cache_write"];
  var CACHE = ["cache_read", "cache_write"];
  var SCALE = 15;

  function usdText(units) {
    if (units === null) return null;
    var s = units.toString();
    while (s.length <= SCALE) s = "0" + s;
    return s.slice(0, s.length - SCALE) + "." + s.slice(s.length - SCALE);
  }

  // 0.800000000000000 -> 0.8 for reading; the exact value is unchanged.
  function shortText(text) {
    if (text === null) return "";
    return text.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  }

  function whole(name, value) {
    if (typeof value === "string") value = value.trim();
    if (value === "" || value === null || value === undefined || !/^\d+$/.test(String(value))) {
      throw new Error("impossible usage: " + name + " must be a whole number >= 0, got " + value);
    }
    var n = BigInt(value);
    if (n > 9223372036854775807n) throw new Error("impossible usage: " + name + " is too large");
    return n;
  }

  function holds(t, prompt) {
    if (t.min === null) return false;
    var low = BigInt(t.min);
    var ok = low < prompt || (prompt === 0n && low === 0n);
    return ok && (t.max === null || prompt <= BigInt(t.max));
  }

  function byLabel(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function byBound(a, b) { return a.min - b.min || byLabel(a.label, b.label); }

  // The official row of one model: its tier for this prompt, or why there is none.
  function officialRow(model, tiers, u) {
    var row = { model_id: model.id, provider: null, service_tier: "standard", region: null,
                tier_label: null,
                tier_min_tokens: null, tier_max_tokens: null, context: model.context,
                prices: {}, listed: {}, problem: null };
    KINDS.forEach(function (k) { row.prices[k] = null; });
    CACHE.forEach(function (k) { row.listed[k] = null; });
    if (!tiers || !tiers.length) { row.problem = "no official prices"; return row; }
    var unreadable = tiers.filter(function (t) { return t.min === null; })
      .map(function (t) { return t.label; }).sort(byLabel);
    var readable = tiers.filter(function (t) { return t.min !== null; }).sort(byBound);
    var holding = readable.filter(function (t) { return holds(t, u.prompt); });
    if (unreadable.length) {
      row.problem = "tier bounds unreadable (" + unreadable.join(", ") +
        "): no tier can be chosen by prompt size";
    } else if (!holding.length) {
      row.problem = "no official tier holds a prompt of " + u.prompt + " tokens (tiers: " +
        readable.map(function (t) { return t.label; }).join(", ") + ")";
    } else if (holding.length > 1) {
      row.problem = "official tiers overlap at a prompt of " + u.prompt + " tokens: " +
        holding.map(function (t) { return t.label; }).join(", ");
    } else {
      var t = holding[0];
      row.tier_label = t.label; row.tier_min_tokens = t.min; row.tier_max_tokens = t.max;
      row.prices = t.prices; row.listed = t.listed;
    }
    return row;
  }

  function offerRow(offer) {
    return { model_id: offer.model, provider: offer.provider, service_tier: offer.tier,
             region: offer.region,
             tier_label: null, tier_min_tokens: null, tier_max_tokens: null,
             context: offer.context, prices: offer.prices, listed: offer.listed, problem: null };
  }

  function priced(p, u) {
    var listed = {}, billed = {}, folded = [];
    CACHE.forEach(function (k) { listed[k] = p.listed[k] === null ? true : p.listed[k]; });
    billed.cache_read = listed.cache_read ? u.cache_read : 0n;
    billed.cache_write = listed.cache_write ? u.cache_write : 0n;
    billed.input = u.prompt - billed.cache_read - billed.cache_write;
    billed.output = u.output;
    CACHE.forEach(function (k) { if (u[k] > 0n && !listed[k]) folded.push(k); });
    var cost = {}, unpriced = [];
    KINDS.forEach(function (k) {
      if (billed[k] === 0n) cost[k] = 0n;
      else if (p.prices[k] === null) cost[k] = null;
      else cost[k] = BigInt(p.prices[k]) * billed[k] * u.times;
      if (cost[k] === null) unpriced.push(k);
    });
    var total = null;
    if (p.problem === null && !unpriced.length) {
      total = cost.input + cost.output + cost.cache_read + cost.cache_write;
    }
    var reason = p.problem;
    if (reason === null && unpriced.length) {
      reason = "no price for " + unpriced.join(", ") +
        (p.tier_label !== null ? " in tier " + p.tier_label : " in this offer");
    }
    return {
      model_id: p.model_id, provider: p.provider, service_tier: p.service_tier,
      region: p.region, tier_label: p.tier_label,
      input_usd: usdText(cost.input), output_usd: usdText(cost.output),
      cache_read_usd: usdText(cost.cache_read), cache_write_usd: usdText(cost.cache_write),
      total: total, total_usd: usdText(total), unpriced: unpriced, billed_as_input: folded,
      exceeds_context: p.context === null || p.context === undefined ? null : u.prompt > BigInt(p.context),
      context_window_tokens: p.context, reason: reason
    };
  }

  function nullsFirst(a, b) {
    if (a === b) return 0;
    if (a === null) return -1;
    if (b === null) return 1;
    return byLabel(a, b);
  }

  // Every row of workload_costs for this workload, in rank_costs' order: the offers of one
  // service tier (standard unless w.service_tier says otherwise; null or "": every tier).
  function workloadCosts(w) {
    var data = window.MODELCAT;
    var tier = w.service_tier === undefined ? "standard" : w.service_tier;
    if (tier && data.service_tiers.indexOf(tier) < 0) {
      throw new Error("unknown service_tier " + tier + " (one of: " + data.service_tiers.join(", ") + ")");
    }
    var u = {
      prompt: whole("input_tokens", w.input_tokens),
      output: whole("output_tokens", w.output_tokens || 0),
      cache_read: whole("cache_read_tokens", w.cache_read_tokens || 0),
      cache_write: whole("cache_write_tokens", w.cache_write_tokens || 0),
      times: whole("requests", w.requests === undefined ? 1 : w.requests)
    };
    if (u.cache_read + u.cache_write > u.prompt) {
      throw new Error("impossible usage: cache_read_tokens + cache_write_tokens (" +
        (u.cache_read + u.cache_write) + ") exceed input_tokens (" + u.prompt +
        "), which counts every prompt token, cached ones included");
    }
    var windows = {};
    var rows = data.models.map(function (m) {
      windows[m.id] = m.context;
      return priced(officialRow(m, data.official[m.id], u), u);
    });
    data.offers.forEach(function (o) { rows.push(priced(offerRow(o), u)); });
    if (tier) rows = rows.filter(function (r) { return r.service_tier === tier; });
    rows.sort(function (a, b) {
      var an = a.total === null, bn = b.total === null;
      if (an !== bn) return an ? 1 : -1;
      var ae = a.exceeds_context === true, be = b.exceeds_context === true;
      if (ae !== be) return ae ? 1 : -1;
      if (!an && a.total !== b.total) return a.total < b.total ? -1 : 1;
      return byLabel(a.model_id, b.model_id) || nullsFirst(a.provider, b.provider) ||
        nullsFirst(a.region, b.region);
    });
    return rows;
  }
  window.modelcatCost = workloadCosts;
  window.modelcatUsdShort = shortText;

  // The page's form, when there is one.
  var form = document.getElementById("workload");
  if (!form) return;
  var table = document.getElementById("costs");
  var error = document.getElementById("cost-error");
  var summary = document.getElementById("cost-summary");
  var LIMIT = 200;

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function render() {
    var f = form.elements;
    var rows;
    try {
      rows = workloadCosts({ input_tokens: f.input.value, output_tokens: f.output.value,
        cache_read_tokens: f.cache_read.value, cache_write_tokens: f.cache_write.value,
        requests: f.requests.value, service_tier: f.service_tier.value || null });
      error.hidden = true;
    } catch (e) {
      error.textContent = e.message; error.hidden = false;
      table.tBodies[0].textContent = ""; summary.textContent = "";
      return;
    }
    var families = {};
    window.MODELCAT.models.forEach(function (m) { families[m.id] = m.family; });
    rows = rows.filter(function (r) {
      if (f.fit.checked && r.exceeds_context === true) return false;
      if (f.family.value && families[r.model_id] !== f.family.value) return false;
      if (f.provider.value === "official" && r.provider !== null) return false;
      if (f.provider.value && f.provider.value !== "official" && r.provider !== f.provider.value) return false;
      return true;
    });
    var body = table.tBodies[0];
    body.textContent = "";
    rows.slice(0, LIMIT).forEach(function (r, i) {
      var tr = document.createElement("tr");
      cell(tr, String(i + 1), "n");
      var th = document.createElement("th");
      th.scope = "row";
      var a = document.createElement("a");
      var model = window.MODELCAT.models.filter(function (m) { return m.id === r.model_id; })[0];
      a.href = model ? model.page : "models.html";
      a.textContent = r.model_id;
      th.appendChild(a);
      tr.appendChild(th);
      cell(tr, r.provider === null ? "official" : r.provider + (r.region ? " (" + r.region + ")" : ""));
      cell(tr, r.tier_label || "");
      var total = cell(tr, r.total_usd === null ? "unpriced" : "$" + shortText(r.total_usd), "n total");
      total.setAttribute("data-usd", r.total_usd === null ? "" : r.total_usd);
      cell(tr, KINDS.filter(function (k) { return r[k + "_usd"] !== null && r[k + "_usd"] !== usdText(0n); })
        .map(function (k) { return k.replace("_", " ") + " $" + shortText(r[k + "_usd"]); }).join(", "));
      var notes = [];
      if (r.reason) notes.push(r.reason);
      if (r.billed_as_input.length) notes.push(r.billed_as_input.join(", ") + " billed as input");
      if (r.exceeds_context) notes.push("prompt exceeds the context window (" + r.context_window_tokens + ")");
      cell(tr, notes.join("; "));
      body.appendChild(tr);
    });
    summary.textContent = rows.length + " rows" + (rows.length > LIMIT ? ", the first " + LIMIT + " shown" : "");
    var values = [];
    ["input", "cache_read", "cache_write", "output", "requests", "family", "provider"].forEach(function (n) {
      if (f[n].value) values.push(n + "=" + encodeURIComponent(f[n].value));
    });
    // Always written: "every tier" is the empty value, and standard the form's default.
    values.push("service_tier=" + encodeURIComponent(f.service_tier.value));
    if (!f.fit.checked) values.push("fit=0");
    window.history.replaceState(null, "", "#" + values.join("&"));
  }

  window.location.hash.replace(/^#/, "").split("&").forEach(function (part) {
    var eq = part.indexOf("=");
    if (eq < 0) return;
    var name = part.slice(0, eq), value = decodeURIComponent(part.slice(eq + 1));
    if (name === "fit") form.elements.fit.checked = value !== "0";
    else if (form.elements[name]) form.elements[name].value = value;
  });
  form.addEventListener("input", render);
  form.addEventListener("change", render);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  render();
})();
