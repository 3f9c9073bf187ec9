// The report form's map: draws the territory's own units (GeoJSON from /map/areas.geojson) over a plain background,
// drills into a township on click, and drops a pin whose point fills the form's lat/lon fields. Without JavaScript
// the map stays hidden and the list of villages and communities is the way to give the place.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  el.hidden = false;
  var hint = document.getElementById("map-hint");
  if (hint) { hint.hidden = false; }
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var status = document.getElementById("pin-status");
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  // The browser tests zoom to a grid before dropping the pin, as a resident would.
  window.grassrootsMap = map;
  var pin = null;
  var style = { color: "#0b4f6c", weight: 1.5, fillOpacity: 0.08 };
  var fine = { color: "#7a4b00", weight: 1, fillOpacity: 0.05 };
  function setPin(latlng) {
    if (pin) { pin.setLatLng(latlng); } else { pin = L.circleMarker(latlng, { radius: 8, color: "#a00000", fillOpacity: 0.8 }).addTo(map); }
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    status.textContent = el.getAttribute("data-pin-label") + " " + lat.value + ", " + lon.value;
  }
  function load(url, s, fit) {
    return fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      var layer = L.geoJSON(data, {
        style: s,
        onEachFeature: function (feature, l) {
          l.bindTooltip(feature.properties.name);
          l.on("click", function (e) {
            setPin(e.latlng);
            var level = feature.properties.level;
            if (level !== "grid" && level !== "village" && !l._drilled) {
              l._drilled = true;
              load("/map/areas.geojson?under=" + encodeURIComponent(feature.properties.code), fine, false);
            }
          });
        }
      }).addTo(map);
      if (fit && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
    });
  }
  map.on("click", function (e) { setPin(e.latlng); });
  el.setAttribute("data-loading", "true");
  load("/map/areas.geojson", style, true).then(function () {
    el.removeAttribute("data-loading");
    if (lat.value && lon.value) { setPin(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); }
  });
})();
