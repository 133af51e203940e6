// "Sign in with a passkey" on the sign-in page. Without JavaScript, or in a browser without
// WebAuthn, the button stays hidden and the password form works as it is. With it: ask the
// server for a ceremony (a form post under the sign-in form's CSRF token), let the browser's
// authenticator answer, send the answer back, and go where the server says.
(function () {
  "use strict";
  var box = document.getElementById("passkey");
  var form = document.querySelector("form[action='/login']");
  if (!box || !form || !window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function field(name) {
    var input = form.querySelector("input[name='" + name + "']");
    return input ? input.value : "";
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    body.append("csrf_token", field("csrf_token"));
    Object.keys(fields).forEach(function (name) {
      body.append(name, fields[name]);
    });
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) {
          throw new Error(json.error || "refused");
        }
        return json;
      });
    });
  }

  var error = document.getElementById("passkey-error");
  function failed() {
    error.textContent = box.getAttribute("data-failed");
    error.hidden = false;
  }

  document.getElementById("passkey-sign-in").addEventListener("click", function () {
    error.hidden = true;
    post(box.getAttribute("data-start"), {})
      .then(function (started) {
        var options = started.options.publicKey;
        options.challenge = toBytes(options.challenge);
        (options.allowCredentials || []).forEach(function (credential) {
          credential.id = toBytes(credential.id);
        });
        return navigator.credentials.get({ publicKey: options }).then(function (credential) {
          var response = credential.response;
          var answer = {
            id: credential.id,
            rawId: toText(credential.rawId),
            type: credential.type,
            extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
            response: {
              authenticatorData: toText(response.authenticatorData),
              clientDataJSON: toText(response.clientDataJSON),
              signature: toText(response.signature),
              userHandle: toText(response.userHandle)
            }
          };
          var remember = form.querySelector("input[name='remember']");
          return post(box.getAttribute("data-finish"), {
            handle: started.handle,
            credential: JSON.stringify(answer),
            request: field("request"),
            return_to: field("return_to"),
            remember: remember && remember.checked ? "yes" : ""
          });
        });
      })
      .then(function (done) {
        window.location.assign(done.location);
      })
      .catch(failed);
  });
  box.hidden = false;
})();
