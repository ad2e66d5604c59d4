/* modelcat report: compare 2-5 models picked in the address (#m=a,b,c): their facts,
   official tiers, offers, the cost of one workload (cost.js) and their official input and
   output prices over time on shared axes. Classic script: works from file://. */
(function () {
  "use strict";
  var data = window.MODELCAT;
  var MOST = 5;
  var byId = {};
  data.models.forEach(function (m) { byId[m.id] = m; });
  var root = document.getElementById("comparison");
  var list = document.getElementById("picked");
  var form = document.getElementById("pick");
  var SVG = "http://www.w3.org/2000/svg";

  function picked() {
    var match = /(?:^#|&)m=([^&]*)/.exec(window.location.hash);
    if (!match || !match[1]) return [];
    return match[1].split(",").map(decodeURIComponent).filter(function (id, i, all) {
      return byId[id] && all.indexOf(id) === i;
    }).slice(0, MOST);
  }

  function setPicked(ids) {
    window.location.hash = "m=" + ids.map(encodeURIComponent).join(",");
  }

  function el(name, text, attrs) {
    var e = document.createElement(name);
    if (text !== undefined && text !== null) e.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function usdFromUnits(units) {
    if (units === null || units === undefined) return "—";
    var s = String(units);
    while (s.length <= 9) s = "0" + s;
    var text = s.slice(0, s.length - 9) + "." + s.slice(s.length - 9);
    return "$" + window.modelcatUsdShort(text);
  }

  function table(caption, ids, rows) {
    var t = el("table", null, { "class": "data" });
    t.appendChild(el("caption", caption));
    var head = el("tr");
    head.appendChild(el("th", "", { scope: "col" }));
    ids.forEach(function (id) {
      var th = el("th", null, { scope: "col" });
      th.appendChild(el("a", id, { href: byId[id].page }));
      head.appendChild(th);
    });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", row[0], { scope: "row" }));
      ids.forEach(function (id) { tr.appendChild(el("td", row[1](id), { "class": row[2] || "" })); });
      body.appendChild(tr);
    });
    t.appendChild(body);
    var wrap = el("div", null, { "class": "scroll" });
    wrap.appendChild(t);
    return wrap;
  }

  function first(id) { return (data.official[id] || [])[0] || null; }
  function offers(id) { return data.offers.filter(function (o) { return o.model === id; }); }
  function count(n) { return n === null || n === undefined ? "unknown" : Number(n).toLocaleString("en"); }

  function chart(ids) {
    var series = [];
    ids.forEach(function (id) {
      (data.history[id] || []).forEach(function (s) {
        series.push({ name: id + " " + s.name, steps: s.steps });
      });
    });
    if (!series.length) return el("p", "No price history.");
    var start = Infinity, end = -Infinity, top = 0;
    series.forEach(function (s) {
      s.steps.forEach(function (st) {
        start = Math.min(start, Date.parse(st[0]));
        end = Math.max(end, st[1] ? Date.parse(st[1]) : Date.parse(st[0]));
        top = Math.max(top, parseFloat(st[2])); // for drawing only: the tables hold the values
      });
    });
    var untilText = document.querySelector("footer time");
    if (untilText) end = Math.max(end, Date.parse(untilText.textContent.replace(" ", "T")));
    var W = 640, H = 240, L = 64, R = 16, T = 12, B = 28, span = (end - start) || 1;
    top = top || 1;
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-labelledby", "compare-chart-title");
    var title = document.createElementNS(SVG, "title");
    title.id = "compare-chart-title";
    title.textContent = "Official input and output prices over time, USD per 1M tokens";
    svg.appendChild(title);
    function x(t) { return (L + (W - L - R) * (t - start) / span).toFixed(1); }
    function y(v) { return (T + (H - T - B) * (1 - parseFloat(v) / top)).toFixed(1); }
    series.forEach(function (s, i) {
      var d = "", prevEnd = null;
      s.steps.forEach(function (st) {
        var x0 = x(Date.parse(st[0])), x1 = x(st[1] ? Date.parse(st[1]) : end);
        d += (prevEnd === st[0] ? "V" + y(st[2]) : "M" + x0 + "," + y(st[2])) + "H" + x1;
        prevEnd = st[1];
      });
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("class", "s" + (i % 6));
      svg.appendChild(path);
    });
    var fig = el("figure", null, { "class": "chart" });
    fig.appendChild(svg);
    var cap = el("figcaption", title.textContent + " ");
    var legend = el("span", null, { "class": "legend" });
    series.forEach(function (s, i) {
      var key = el("span", null, { "class": "key" });
      key.appendChild(el("i", null, { "class": "s" + (i % 6) }));
      key.appendChild(document.createTextNode(s.name));
      legend.appendChild(key);
    });
    cap.appendChild(legend);
    fig.appendChild(cap);
    var wrap = el("div");
    wrap.appendChild(fig);
    var rows = [];
    series.forEach(function (s) {
      s.steps.forEach(function (st) { rows.push([s.name, "$" + st[2], st[0], st[1] || "still held"]); });
    });
    var t = el("table", null, { "class": "data" });
    t.appendChild(el("caption", "The data of the chart"));
    var head = el("tr");
    ["Series", "USD per 1M", "From (inclusive)", "To (exclusive)"].forEach(function (h) { head.appendChild(el("th", h, { scope: "col" })); });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr");
      r.forEach(function (v) { tr.appendChild(el("td", v)); });
      body.appendChild(tr);
    });
    t.appendChild(body);
    var scroll = el("div", null, { "class": "scroll" });
    scroll.appendChild(t);
    wrap.appendChild(scroll);
    return wrap;
  }

  function render() {
    var ids = picked();
    list.textContent = "";
    ids.forEach(function (id) {
      var li = el("li", id + " ");
      var remove = el("button", "×", { type: "button", "aria-label": "Remove " + id });
      remove.addEventListener("click", function () {
        setPicked(ids.filter(function (other) { return other !== id; }));
      });
      li.appendChild(remove);
      list.appendChild(li);
    });
    root.textContent = "";
    if (ids.length < 2) {
      root.appendChild(el("p", "Pick at least two models (at most " + MOST + ")."));
      return;
    }
    root.appendChild(el("h2", "Facts"));
    root.appendChild(table("What each model's page says", ids, [
      ["Display name", function (id) { return byId[id].name; }],
      ["Family", function (id) { return byId[id].family; }],
      ["Context window", function (id) { return count(byId[id].context); }, "n"],
      ["Max output", function (id) { return count(byId[id].max_output); }, "n"],
      ["Tool use", function (id) { var v = byId[id].tool_use; return v === null ? "unknown" : v ? "yes" : "no"; }],
      ["Modalities", function (id) { return byId[id].modalities.join(", "); }],
      ["Official tiers", function (id) { return (data.official[id] || []).map(function (t) { return t.label; }).join(", ") || "none"; }],
      ["Offers", function (id) { return String(offers(id).length); }, "n"]
    ]));
    root.appendChild(el("h2", "Official prices, first tier"));
    root.appendChild(table("USD per 1M tokens", ids, ["input", "output", "cache_read", "cache_write"].map(function (k) {
      return [k.replace("_", " "), function (id) { var t = first(id); return t ? usdFromUnits(t.prices[k]) : "—"; }, "n"];
    })));
    root.appendChild(el("h2", "Offers"));
    root.appendChild(table("Cheapest input price among each model's offers", ids, [
      ["Cheapest input", function (id) {
        var best = null;
        offers(id).forEach(function (o) {
          if (o.prices.input !== null && (best === null || BigInt(o.prices.input) < BigInt(best.prices.input))) best = o;
        });
        return best ? usdFromUnits(best.prices.input) + " (" + best.provider + ")" : "—";
      }],
      ["Providers", function (id) { return offers(id).map(function (o) { return o.provider; }).join(", ") || "none"; }]
    ]));
    root.appendChild(el("h2", "Cost of a workload"));
    var w = el("form", null, { "class": "filters", id: "compare-workload" });
    [["input", "Input tokens", "10000"], ["output", "Output tokens", "1000"], ["requests", "Requests", "1"]].forEach(function (f) {
      var label = el("label", f[1] + " ");
      label.appendChild(el("input", null, { name: f[0], type: "number", min: "0", step: "1", value: f[2] }));
      w.appendChild(label);
    });
    root.appendChild(w);
    var out = el("div");
    root.appendChild(out);
    function price() {
      out.textContent = "";
      var rows;
      try {
        rows = window.modelcatCost({ input_tokens: w.elements.input.value, output_tokens: w.elements.output.value, requests: w.elements.requests.value });
      } catch (e) {
        out.appendChild(el("p", e.message, { "class": "error", role: "alert" }));
        return;
      }
      var official = {};
      rows.forEach(function (r) { if (r.provider === null) official[r.model_id] = r; });
      out.appendChild(table("Official prices, USD", ids, [
        ["Tier", function (id) { return official[id].tier_label || ""; }],
        ["Total", function (id) { var r = official[id]; return r.total_usd === null ? "unpriced: " + r.reason : "$" + window.modelcatUsdShort(r.total_usd); }, "n"],
        ["Exceeds context", function (id) { var e = official[id].exceeds_context; return e === null ? "unknown" : e ? "yes" : "no"; }]
      ]));
    }
    w.addEventListener("input", price);
    price();
    root.appendChild(el("h2", "Price history"));
    root.appendChild(chart(ids));
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var id = form.elements.model.value.trim();
    var ids = picked();
    if (byId[id] && ids.indexOf(id) < 0 && ids.length < MOST) setPicked(ids.concat([id]));
    form.elements.model.value = "";
  });
  window.addEventListener("hashchange", render);
  render();
})();
