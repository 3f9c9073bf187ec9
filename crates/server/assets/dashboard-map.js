// The dashboard's map: the caller's units (GeoJSON from /map/areas.geojson) coloured by the measure chosen on the
// page, read from the page's own tables (rows with data-code and data-<measure>), so the map shows nothing the
// tables do not. Without JavaScript the map stays hidden and the tables are the page.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var measure = el.getAttribute("data-measure");
  var values = {};
  var max = 0;
  var rows = document.querySelectorAll("tr[data-code][data-" + measure.replace(/_/g, "_") + "]");
  rows.forEach(function (tr) {
    var raw = tr.getAttribute("data-" + measure);
    if (raw === null || raw === "") { return; }
    var v = parseFloat(raw);
    values[tr.getAttribute("data-code")] = v;
    if (v > max) { max = v; }
  });
  var isCount = measure === "overdue";
  var shades = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"];
  if (isCount) { shades = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]; }
  function colour(v) {
    if (v === undefined) { return "#dddddd"; }
    var share = isCount ? (max > 0 ? v / max : 0) : v;
    var i = Math.min(shades.length - 1, Math.max(0, Math.floor(share * shades.length)));
    return shades[i];
  }
  el.hidden = false;
  var legend = document.getElementById("map-legend");
  if (legend) { legend.hidden = false; }
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  window.grassrootsMap = map;
  el.setAttribute("data-loading", "true");
  fetch("/map/areas.geojson?under=" + encodeURIComponent(el.getAttribute("data-under")))
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (feature) {
          return { color: "#333333", weight: 1, fillOpacity: 0.75, fillColor: colour(values[feature.properties.code]) };
        },
        onEachFeature: function (feature, l) {
          var v = values[feature.properties.code];
          var shown = v === undefined ? "—" : (isCount ? String(v) : (v * 100).toFixed(1) + "%");
          l.bindTooltip(feature.properties.name + ": " + shown);
        }
      }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
      el.removeAttribute("data-loading");
    });
})();
