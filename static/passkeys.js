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

  // An authenticator's answer to `navigator.credentials.get`, as the server reads it (JSON).
  function assertion(credential) {
    var response = credential.response;
    return JSON.stringify({
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
    });
  }

  // Goes where the server says once a ceremony is done.
  function go(done) {
    window.location.assign(done.location);
  }

  // Shows the box's words for a failure (its own for "sign in again"); a failure that names
  // a page (the second factor's step is gone) goes there.
  function fail(box, errorBox, error) {
    if (error && error.location) {
      window.location.assign(error.location);
      return;
    }
    var words = error && error.message === "sign_in_again" ? box.getAttribute("data-sign-in-again") : null;
    errorBox.textContent = words || box.getAttribute("data-failed");
    errorBox.hidden = false;
  }

  // Runs `ceremony` when `button` is pressed; shows the box's words for a failure. A press
  // while a ceremony is under way does nothing (a second request would be refused by the
  // browser, "a request is already pending", and its failure shown over a ceremony going on).
  function offer(box, button, errorBox, ceremony) {
    var busy = false;
    button.addEventListener("click", function () {
      if (busy) {
        return;
      }
      busy = true;
      errorBox.hidden = true;
      ceremony()
        .then(go)
        .catch(function (error) {
          busy = false;
          fail(box, errorBox, error);
        });
    });
    box.hidden = false;
  }

  var signIn = document.getElementById("passkey");
  var loginForm = document.querySelector("form[action='/login']");
  if (signIn && loginForm) {
    // The passkey autofill's request (conditional mediation) while it waits, and whether the
    // button was pressed (then the autofill does not start).
    var conditional = null;
    var pressed = false;

    // One sign-in: a new ceremony from the server, the authenticator's answer (`mediation`
    // and `signal` for the autofill's), and the answer back to the server.
    var signInCeremony = function (mediation, signal, progress) {
      return post(signIn.getAttribute("data-start"), {}).then(function (started) {
        var options = started.options.publicKey;
        options.challenge = toBytes(options.challenge);
        credentialIds(options.allowCredentials);
        var request = { publicKey: options };
        if (mediation) {
          request.mediation = mediation;
          request.signal = signal;
        }
        return navigator.credentials.get(request).then(function (credential) {
          if (progress) {
            progress.answered = true;
          }
          var remember = loginForm.querySelector("input[name='remember']");
          return post(signIn.getAttribute("data-finish"), {
            handle: started.handle,
            credential: assertion(credential),
            request: value(loginForm, "request"),
            return_to: value(loginForm, "return_to"),
            remember: remember && remember.checked ? "yes" : ""
          });
        });
      });
    };

    var signInError = document.getElementById("passkey-error");
    // The button's ceremony ends the autofill's first: a browser takes one request at a time.
    offer(signIn, document.getElementById("passkey-sign-in"), signInError, function () {
      pressed = true;
      if (conditional) {
        conditional.abort();
        conditional = null;
      }
      return signInCeremony();
    });

    // Passkey autofill: the name field (`autocomplete="username webauthn"`) offers the
    // browser's passkeys; one picked signs in as the button does. Its failures are shown
    // only once a passkey was picked: until then the person has asked for nothing. The
    // server keeps a ceremony 5 minutes: a page left open starts a fresh one every 4.
    var RENEW_MS = 4 * 60 * 1000;
    var autofill = function () {
      if (pressed) {
        return;
      }
      var controller = new AbortController();
      var progress = { answered: false };
      conditional = controller;
      var renew = window.setTimeout(function () {
        if (conditional === controller && !progress.answered) {
          controller.abort();
          autofill();
        }
      }, RENEW_MS);
      signInCeremony("conditional", controller.signal, progress)
        .then(go)
        .catch(function (error) {
          window.clearTimeout(renew);
          if (conditional === controller) {
            conditional = null;
          }
          if (progress.answered && !controller.signal.aborted) {
            fail(signIn, signInError, error);
          }
        });
    };
    if (window.AbortController && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable()
        .then(function (available) {
          if (available) {
            autofill();
          }
        })
        .catch(function () {});
    }
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
          return post(second.getAttribute("data-finish"), {
            handle: started.handle,
            credential: assertion(credential),
            return_to: value(document, "return_to"),
            remember: value(document, "remember")
          });
        });
      });
    });
  }
})();
