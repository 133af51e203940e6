// Passkeys on the pages: "Sign in with a passkey" on the sign-in page, "Add a passkey" on the
// security page. Without JavaScript, or in a browser without WebAuthn, both stay hidden and the
// forms work as they are. With it: ask the server for a ceremony (a form post under the page's
// CSRF token), let the browser's authenticator answer, send the answer back, and go where the
// server says.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
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

  function value(scope, name) {
    var input = scope.querySelector("input[name='" + name + "']");
    return input ? input.value : "";
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    body.append("csrf_token", value(document, "csrf_token"));
    Object.keys(fields).forEach(function (name) {
      body.append(name, fields[name]);
    });
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) {
          var error = new Error(json.error || "refused");
          error.location = json.location;
          throw error;
        }
        return json;
      });
    });
  }

  function credentialIds(list) {
    (list || []).forEach(function (credential) {
      credential.id = toBytes(credential.id);
    });
  }

  // Runs `ceremony` when `button` is pressed; shows the box's words for a failure.
  function offer(box, button, errorBox, ceremony) {
    button.addEventListener("click", function () {
      errorBox.hidden = true;
      ceremony()
        .then(function (done) {
          window.location.assign(done.location);
        })
        .catch(function (error) {
          if (error && error.location) {
            window.location.assign(error.location);
            return;
          }
          var words = error && error.message === "sign_in_again" ? box.getAttribute("data-sign-in-again") : null;
          errorBox.textContent = words || box.getAttribute("data-failed");
          errorBox.hidden = false;
        });
    });
    box.hidden = false;
  }

  var signIn = document.getElementById("passkey");
  var loginForm = document.querySelector("form[action='/login']");
  if (signIn && loginForm) {
    offer(signIn, document.getElementById("passkey-sign-in"), document.getElementById("passkey-error"), function () {
      return post(signIn.getAttribute("data-start"), {}).then(function (started) {
        var options = started.options.publicKey;
        options.challenge = toBytes(options.challenge);
        credentialIds(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options }).then(function (credential) {
          var response = credential.response;
          var remember = loginForm.querySelector("input[name='remember']");
          return post(signIn.getAttribute("data-finish"), {
            handle: started.handle,
            credential: JSON.stringify({
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
            }),
            request: value(loginForm, "request"),
            return_to: value(loginForm, "return_to"),
            remember: remember && remember.checked ? "yes" : ""
          });
        });
      });
    });
  }

  var add = document.getElementById("passkey-add");
  if (add) {
    offer(add, document.getElementById("passkey-add-button"), document.getElementById("passkey-add-error"), function () {
      return post(add.getAttribute("data-start"), {}).then(function (started) {
        var options = started.options.publicKey;
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        credentialIds(options.excludeCredentials);
        return navigator.credentials.create({ publicKey: options }).then(function (credential) {
          var response = credential.response;
          return post(add.getAttribute("data-finish"), {
            handle: started.handle,
            name: document.getElementById("passkey-name").value,
            credential: JSON.stringify({
              id: credential.id,
              rawId: toText(credential.rawId),
              type: credential.type,
              extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
              response: {
                attestationObject: toText(response.attestationObject),
                clientDataJSON: toText(response.clientDataJSON),
                transports: response.getTransports ? response.getTransports() : undefined
              }
            })
          });
        });
      });
    });
  }

  // The second factor after a password: the person's own passkeys (the server lists them).
  var second = document.getElementById("passkey-second");
  if (second) {
    offer(second, document.getElementById("passkey-second-button"), document.getElementById("passkey-second-error"), function () {
      return post(second.getAttribute("data-start"), {}).then(function (started) {
        var options = started.options.publicKey;
        options.challenge = toBytes(options.challenge);
        credentialIds(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options }).then(function (credential) {
          var response = credential.response;
          return post(second.getAttribute("data-finish"), {
            handle: started.handle,
            credential: JSON.stringify({
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
            }),
            return_to: value(document, "return_to"),
            remember: value(document, "remember")
          });
        });
      });
    });
  }
})();
