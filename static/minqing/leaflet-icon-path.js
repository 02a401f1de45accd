/* Minqing Map: tell Leaflet where its default marker images are.
 *
 * Leaflet 1.9.3 guesses L.Icon.Default.imagePath from leaflet.css.  Inside
 * streamlit-folium the map script runs before that CSS has loaded, so the
 * guess falls back to ".../leaflet/dist" (no "/images/") and every default
 * marker image is a 404.  Loaded right after leaflet.js by minqing.offline;
 * the path is taken from leaflet.js's own URL, so any URL prefix works.
 */
(function () {
  if (!window.L || !L.Icon || !L.Icon.Default) { return; }
  var scripts = document.getElementsByTagName("script");
  for (var i = scripts.length - 1; i >= 0; i--) {
    var src = scripts[i].src || "";
    if (/\/leaflet\/dist\/leaflet\.js(\?.*)?$/.test(src)) {
      L.Icon.Default.imagePath = src.replace(/leaflet\.js(\?.*)?$/, "images/");
      return;
    }
  }
})();
