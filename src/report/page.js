// Hover details, pan and zoom, the network selector, and a self-check the browser test
// reads back from #report-check. Peer data is only ever assigned as text.
(function () {
  "use strict";
  var check = document.getElementById("report-check");
  var errors = [];
  function fail(msg) {
    errors.push(String(msg));
    check.setAttribute("data-ok", "0");
    check.setAttribute("data-errors", errors.join(" | "));
  }
  window.addEventListener("error", function (e) { fail(e.message); });
  try {
    var data = JSON.parse(document.getElementById("map-data").textContent);
    var svg = document.getElementById("map");
    var edges = document.getElementById("map-edges");
    var tip = document.getElementById("tip");
    var select = document.getElementById("view");
    var note = document.getElementById("view-note");

    var cutD = edges.getAttribute("d");
    function show(i) {
      var v = data.views[i];
      if (!v) { return; }
      edges.setAttribute("d", i === 0 ? cutD : v.d);
      note.textContent = v.note;
    }
    select.addEventListener("change", function () { show(+select.value); });

    svg.addEventListener("mousemove", function (ev) {
      var i = ev.target.getAttribute ? ev.target.getAttribute("data-i") : null;
      var n = i === null ? null : data.nodes[+i];
      if (!n || dragging) { tip.hidden = true; return; }
      tip.textContent = n[0] + (n[7] ? "  (bootstrap)" : "") +
        "\nid: " + (n[1] === null ? "-" : n[1]) +
        "\nversion: " + (n[2] === null ? "-" : n[2]) +
        "\nclock skew: " + (n[3] === null ? "-" : n[3].toFixed(1) + " s") +
        "\ncut in-degree: " + n[4] + ", out-degree: " + n[5] +
        "\n" + n[6];
      var box = svg.parentNode.getBoundingClientRect();
      tip.style.left = (ev.clientX - box.left + 14) + "px";
      tip.style.top = (ev.clientY - box.top + 14) + "px";
      tip.hidden = false;
    });
    svg.addEventListener("mouseleave", function () { tip.hidden = true; });

    // Pan and zoom by moving the viewBox.
    var vb = [0, 0, 1000, 1000];
    function apply() { svg.setAttribute("viewBox", vb.join(" ")); }
    function toMap(ev) {
      var r = svg.getBoundingClientRect();
      var s = Math.max(vb[2] / r.width, vb[3] / r.height);
      var ox = vb[0] + (vb[2] - r.width * s) / 2, oy = vb[1] + (vb[3] - r.height * s) / 2;
      return [ox + (ev.clientX - r.left) * s, oy + (ev.clientY - r.top) * s, s];
    }
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = toMap(ev);
      var f = ev.deltaY < 0 ? 0.8 : 1.25;
      var w = Math.min(Math.max(vb[2] * f, 5), 4000);
      f = w / vb[2];
      vb = [p[0] - (p[0] - vb[0]) * f, p[1] - (p[1] - vb[1]) * f, w, w];
      apply();
    }, { passive: false });
    var dragging = null;
    svg.addEventListener("mousedown", function (ev) { dragging = toMap(ev); svg.style.cursor = "grabbing"; });
    window.addEventListener("mouseup", function () { dragging = null; svg.style.cursor = ""; });
    window.addEventListener("mousemove", function (ev) {
      if (!dragging) { return; }
      var r = svg.getBoundingClientRect();
      var s = dragging[2];
      vb[0] -= ev.movementX * s;
      vb[1] -= ev.movementY * s;
      apply();
    });
    document.getElementById("reset").addEventListener("click", function () { vb = [0, 0, 1000, 1000]; apply(); });

    // Self-check: every view's data applies, the map and every chart hold drawn shapes.
    for (var v = data.views.length - 1; v >= 0; v--) { show(v); }
    var circles = svg.querySelectorAll("circle[data-i]").length;
    var charts = document.querySelectorAll("figure.chart");
    var drawn = 0;
    for (var c = 0; c < charts.length; c++) {
      var s = charts[c].querySelector("svg");
      var bb = s ? s.getBoundingClientRect() : null;
      if (s && bb.width > 0 && bb.height > 0 &&
          s.querySelectorAll("rect, path, polyline, line, circle, text").length > 4) {
        drawn++;
      }
    }
    // Hovering the first node must show its address.
    var first = svg.querySelector("circle[data-i]");
    var hovered = false;
    if (first) {
      var fb = first.getBoundingClientRect();
      first.dispatchEvent(new MouseEvent("mousemove", {
        bubbles: true, clientX: fb.left + fb.width / 2, clientY: fb.top + fb.height / 2
      }));
      hovered = !tip.hidden && tip.textContent.indexOf(data.nodes[0][0]) === 0;
      tip.hidden = true;
    }
    check.setAttribute("data-hover", String(hovered));
    var mapBox = svg.getBoundingClientRect();
    check.setAttribute("data-map-nodes", String(circles));
    check.setAttribute("data-map-views", String(data.views.length));
    check.setAttribute("data-map-edges", String(edges.getAttribute("d") === cutD && cutD.length > 0));
    check.setAttribute("data-charts", String(charts.length));
    check.setAttribute("data-charts-drawn", String(drawn));
    var ok = errors.length === 0 && circles === data.nodes.length && circles > 0 && hovered &&
      mapBox.width > 0 && mapBox.height > 0 && charts.length > 0 && drawn === charts.length;
    check.setAttribute("data-ok", ok ? "1" : "0");
  } catch (e) {
    fail(e && e.stack ? e.stack : e);
  }
})();
