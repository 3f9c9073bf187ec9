// The portal's map of a unit's public cases: the unit's grids (or, above a township, its sub-units) from
// /map/areas.geojson, then the cases of the list's page as dots at their grid's centre, each linking to the case.
// Without JavaScript the map stays hidden and the list below is the same cases.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  el.hidden = false;
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  window.grassrootsMap = map;
  el.setAttribute("data-loading", "true");
  function get(url) { return fetch(url).then(function (r) { return r.json(); }); }
  Promise.all([get(el.getAttribute("data-areas")), get(el.getAttribute("data-cases"))]).then(function (data) {
    var areas = L.geoJSON(data[0], {
      style: { color: "#0b4f6c", weight: 1, fillOpacity: 0.06 },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
    }).addTo(map);
    L.geoJSON(data[1], {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#a00000", fillOpacity: 0.8 });
      },
      onEachFeature: function (f, l) {
        var a = document.createElement("a");
        a.href = f.properties.href;
        a.textContent = f.properties.label;
        l.bindPopup(a);
      }
    }).addTo(map);
    if (areas.getBounds().isValid()) { map.fitBounds(areas.getBounds()); } else { map.setView([30.87, 120.09], 9); }
    el.setAttribute("data-drawn", String(data[0].features.length));
    el.removeAttribute("data-loading");
  });
})();
