// Applies the theme a visitor chose before the page paints (so a dark page never flashes
// white). Without a stored choice the page follows prefers-color-scheme through CSS.
(function () {
  try {
    var theme = localStorage.getItem("heartbeat-theme");
    if (theme === "dark" || theme === "light") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage disabled: follow the system setting.
  }
})();
