# Was die Seiten für gespeicherte Begriffe sagen: Ereignisse und Ergebnisse, Zeiten, Scopes.

## Ereignisse (src/web/words.rs)
event-other = Andere Kontoaktivität
event-login = Angemeldet
event-login-failed = Anmeldeversuch abgelehnt
event-lockout = Anmeldung nach wiederholten Fehlversuchen gesperrt
event-otp = Bestätigungscode angenommen
event-otp-failed = Falscher Bestätigungscode
event-recovery-code-used = Wiederherstellungscode verwendet
event-totp-enabled = Bestätigung in zwei Schritten eingeschaltet
event-totp-disabled = Bestätigung in zwei Schritten ausgeschaltet
event-totp-disabled-failed = Versuch abgelehnt, die Bestätigung in zwei Schritten auszuschalten
event-reset-requested = Zurücksetzen des Passworts angefordert
event-reset-completed = Passwort zurückgesetzt
event-password-changed = Passwort geändert
event-password-changed-failed = Passwortänderung abgelehnt
event-token-issued = Eine App hat Zugriff erhalten
event-token-refreshed = Eine App hat ihren Zugriff erneuert
event-refresh-token-reuse = Ein alter Zugriffsschlüssel einer App wurde erneut verwendet; dieser Zugriff wurde beendet
event-token-revoked = Der Zugriff einer App wurde beendet
event-code-replay = Ein einmaliger Anmeldecode wurde zweimal verwendet; der damit erteilte Zugriff wurde beendet
event-logout = Abgemeldet
event-client-auth-failed = Eine App konnte sich nicht ausweisen
event-rate-limited = Zu viele Anfragen aus einem Netzwerk
event-account-created = Konto angelegt
event-account-disabled = Konto deaktiviert
event-account-enabled = Konto wieder aktiviert
event-account-changed = Kontodaten geändert
event-account-unlocked = Konto entsperrt
event-client-created = Eine App wurde registriert
event-client-updated = Die Einstellungen einer App wurden geändert
event-client-secret-rotated = Eine App hat ein neues Geheimnis erhalten
event-client-deleted = Eine App wurde entfernt
event-resource-created = Ein Dienst wurde registriert
event-resource-updated = Die Einstellungen eines Dienstes wurden geändert
event-resource-deleted = Ein Dienst wurde entfernt
event-admin-action = Eine Administratorin oder ein Administrator hat etwas geändert
event-device-authorization-started = Ein Gerät hat um Anmeldung gebeten
event-device-approved = Einem Gerät wurde mit einem Code Zugriff erlaubt
event-device-denied = Einem Gerät wurde der Zugriff verweigert
event-device-user-code-wrong = Ein falscher Gerätecode wurde eingegeben
event-device-code-redeemed = Ein Gerät hat Zugriff erhalten
event-client-registered = Eine App hat sich selbst registriert
event-client-registration-updated = Eine App hat ihre Registrierung geändert
event-client-registration-deleted = Eine App hat ihre Registrierung entfernt
event-registration-token-created = Ein Registrierungs-Token wurde erstellt
event-registration-token-refused = Ein Registrierungs-Token wurde abgelehnt
event-passkey-registered = Ein Passkey wurde hinzugefügt
event-passkey-registered-failed = Das Hinzufügen eines Passkeys wurde abgelehnt
event-passkey-used = Mit einem Passkey angemeldet
event-passkey-used-failed = Eine Anmeldung mit einem Passkey wurde abgelehnt
event-passkey-removed = Ein Passkey wurde entfernt
event-passkey-removed-failed = Das Entfernen eines Passkeys wurde abgelehnt
outcome-failed = Fehlgeschlagen
outcome-succeeded = Erfolgreich

## Zeiten, in UTC ("5. Dezember 2026, 14:03 UTC")
date-time = { $day }. { $month } { $year }, { $time } UTC
month-1 = Januar
month-2 = Februar
month-3 = März
month-4 = April
month-5 = Mai
month-6 = Juni
month-7 = Juli
month-8 = August
month-9 = September
month-10 = Oktober
month-11 = November
month-12 = Dezember

## Was ein Scope einer App erlaubt (Zustimmungsseite, Apps mit Zugriff)
scope-openid = Bestätigen, wer Sie sind
scope-profile = Ihren Namen und Ihre Profildaten sehen
scope-email = Ihre E-Mail-Adresse sehen
scope-address = Ihre Postanschrift sehen
scope-phone = Ihre Telefonnummer sehen
scope-offline_access = Verbunden bleiben, während Sie abwesend sind
scope-other = Zugriff auf „{ $scope }“

## Geräte (Geräteseite des Kontos)
device-browser-on = { $browser } unter { $os }
device-unknown = Unbekanntes Gerät
