// Keyhaven's one script: a Copy button for the recovery codes. Without it the page still
// shows the codes and a Download link; the button stays hidden.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var codes = Array.prototype.map.call(source.querySelectorAll("code"), function (c) {
      return c.textContent;
    });
    navigator.clipboard.writeText(codes.join("\n")).then(function () {
      button.textContent = "Copied";
    });
  });
});
