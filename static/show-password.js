// A "Show password" button beside each password field. Without JavaScript the fields work as
// they are; with it, the person can check what they typed.
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[type=password]");
  Array.prototype.forEach.call(fields, function (input) {
    var label = input.id ? document.querySelector("label[for='" + input.id + "']") : null;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal";
    button.textContent = "Show";
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", "Show " + (label ? label.textContent.trim().toLowerCase() : "password"));
    if (input.id) {
      button.setAttribute("aria-controls", input.id);
    }
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", show ? "true" : "false");
    });
    input.insertAdjacentElement("afterend", button);
  });
})();
