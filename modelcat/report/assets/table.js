/* modelcat report: sort and filter the server-rendered tables; the view lives in the
   address's fragment (#sort=2&dir=desc&family=OpenAI), so a reload or a link shows it again.
   Classic script, no dependencies: works from file://. */
(function () {
  "use strict";

  // Compare two non-negative decimals given as text, exactly (no float).
  function compareDecimal(a, b) {
    var pa = a.split("."), pb = b.split(".");
    var ia = pa[0].replace(/^0+/, ""), ib = pb[0].replace(/^0+/, "");
    if (ia.length !== ib.length) return ia.length < ib.length ? -1 : 1;
    if (ia !== ib) return ia < ib ? -1 : 1;
    var fa = pa[1] || "", fb = pb[1] || "", n = Math.max(fa.length, fb.length);
    while (fa.length < n) fa += "0";
    while (fb.length < n) fb += "0";
    return fa === fb ? 0 : fa < fb ? -1 : 1;
  }

  function cellValue(row, index) {
    var cell = row.cells[index];
    return cell ? cell.getAttribute("data-v") || "" : "";
  }

  function state() {
    var out = {};
    var hash = window.location.hash.replace(/^#/, "");
    if (!hash) return out;
    hash.split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq > 0) out[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
    });
    return out;
  }

  function saveState(values) {
    var parts = [];
    Object.keys(values).sort().forEach(function (key) {
      if (values[key] !== "" && values[key] != null) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(values[key]));
      }
    });
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (window.location.hash !== hash) {
      window.history.replaceState(null, "", hash || window.location.pathname + window.location.search);
    }
  }

  function sortTable(table, index, descending) {
    var th = table.tHead.rows[0].cells[index];
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, i) { row._order = i; });
    rows.sort(function (a, b) {
      var va = cellValue(a, index), vb = cellValue(b, index), c;
      if (va === "" || vb === "") {
        c = va === vb ? 0 : va === "" ? 1 : -1; // empty last, either way
        return c || a._order - b._order;
      }
      c = numeric ? compareDecimal(va, vb) : va < vb ? -1 : va > vb ? 1 : 0;
      return (descending ? -c : c) || a._order - b._order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, i) {
      if (i === index) cell.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else cell.removeAttribute("aria-sort");
    });
  }

  function matches(row, control) {
    var wanted = control.value.trim();
    if (!wanted) return true;
    var have = row.getAttribute("data-" + control.name) || "";
    switch (control.getAttribute("data-match")) {
      case "contains": return have.indexOf(wanted.toLowerCase()) >= 0;
      case "has": return (" " + have + " ").indexOf(" " + wanted + " ") >= 0;
      case "min": return have !== "" && /^\d+$/.test(wanted) && compareDecimal(have, wanted) >= 0;
      case "max": return have !== "" && /^\d*\.?\d*$/.test(wanted) && compareDecimal(have, wanted.replace(/^\./, "0.")) <= 0;
      case "since": return have !== "" && have >= wanted;
      default: return have === wanted;
    }
  }

  function setUp(table) {
    var form = document.querySelector('form.filters[data-table="' + table.id + '"]');
    var controls = form ? Array.prototype.slice.call(form.elements).filter(function (e) { return e.name; }) : [];
    var sortable = table.classList.contains("sortable");
    var view = state();
    var current = { sort: view.sort || "", dir: view.dir || "" };

    function apply() {
      var shown = 0, total = table.tBodies[0].rows.length;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var ok = controls.every(function (c) { return matches(row, c); });
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      if (form) {
        var output = form.querySelector("output.shown");
        if (output) output.textContent = shown + " of " + total + " shown";
      }
      var values = { sort: current.sort, dir: current.dir };
      controls.forEach(function (c) { values[c.name] = c.value.trim(); });
      saveState(values);
    }

    controls.forEach(function (c) {
      if (view[c.name] != null) c.value = view[c.name];
      c.addEventListener("input", apply);
      c.addEventListener("change", apply);
    });
    if (form) {
      form.addEventListener("submit", function (e) { e.preventDefault(); });
      form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
    }
    if (sortable) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        var button = th.querySelector("button");
        if (!button) return;
        button.addEventListener("click", function () {
          var descending = current.sort === String(index) && current.dir !== "desc";
          current = { sort: String(index), dir: descending ? "desc" : "asc" };
          sortTable(table, index, descending);
          apply();
        });
      });
      if (current.sort !== "" && table.tHead.rows[0].cells[+current.sort]) {
        sortTable(table, +current.sort, current.dir === "desc");
      }
    }
    if (form || sortable) apply();
  }

  // One table per page keeps the fragment: the first with filters, else the first sortable.
  var table = document.querySelector("table[id].sortable, table[id]");
  var filtered = document.querySelector("form.filters[data-table]");
  if (filtered) table = document.getElementById(filtered.getAttribute("data-table"));
  if (table) setUp(table);
  window.modelcatCompareDecimal = compareDecimal;
})();
