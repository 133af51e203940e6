# Die gehosteten Seiten (templates/*.html). Meldungen für `fluent_html` dürfen Auszeichnungen
# enthalten; ihre Variablen werden maskiert.

## Gemeinsam
base-sign-out = Von { $brand } abmelden
sign-out = Abmelden
not-you = Nicht Sie?
cancel = Abbrechen
save = Speichern
back-to-sign-in = Zurück zur Anmeldung
field-password = Passwort
field-new-password = Neues Passwort (mindestens 12 Zeichen)
field-repeat = Wiederholen
field-email = E-Mail-Adresse

## Anmeldung
login-title = Anmelden
login-continue-to = um mit <strong>{ $client }</strong> fortzufahren
login-name = Benutzername oder E-Mail-Adresse
login-remember = Angemeldet bleiben
login-submit = Anmelden
login-forgot = Passwort vergessen?
login-passkey = Mit einem Passkey anmelden
login-passkey-failed = Der Passkey hat Sie nicht angemeldet. Versuchen Sie es noch einmal oder nutzen Sie Ihr Passwort.

## Zweiter Faktor
otp-title = Bestätigung in zwei Schritten
otp-lead = Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.
otp-code = Code
otp-submit = Bestätigen
otp-lead-passkey = Bestätigen Sie mit Ihrem Passkey, dass Sie es sind.
otp-passkey = Passkey verwenden
otp-passkey-failed = Der Passkey wurde nicht angenommen. Versuchen Sie es noch einmal.
otp-lead-or-code = Oder geben Sie den 6-stelligen Code aus Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.
otp-passkey-needs-script = Ihr Passkey braucht JavaScript, das in diesem Browser ausgeschaltet ist. Schalten Sie es ein oder melden Sie sich auf einem Gerät mit Ihrem Passkey an.

## Zustimmung
consent-title = Zugriff erlauben?
consent-heading = { $client } den Zugriff auf Ihr Konto erlauben?
consent-lead = Angemeldet als <strong>{ $username }</strong>. { $client } möchte:
consent-allow = Erlauben
consent-deny = Ablehnen
consent-return = Nach Ihrer Wahl geht es zurück zu { $host }.
consent-remove-later = Sie können diesen Zugriff später in Ihrem Konto wieder entfernen.
consent-heading-unverified = Einer nicht geprüften Anwendung den Zugriff auf Ihr Konto erlauben?
consent-unverified = Nicht geprüft
consent-lead-unverified = Angemeldet als <strong>{ $username }</strong>. Eine Anwendung, die angibt, <strong>{ $client }</strong> zu sein, möchte:
consent-unverified-explained = Niemand, der diesen Dienst betreibt, hat diese Anwendung geprüft: Ihr Name ist nur ihre eigene Angabe. Erlauben Sie den Zugriff nur, wenn Sie der Seite vertrauen, von der Sie kommen.
consent-client-id-host = Die Anwendung beschreibt sich unter <strong>{ $host }</strong>.
consent-return-unverified = Nach Ihrer Wahl geht es zurück zu <strong>{ $host }</strong>.
consent-asked-each-time = Sie werden jedes Mal gefragt, wenn diese Anwendung Zugriff möchte.

## Abmeldung
logout-title = Abmelden?
logout-app-asks = <strong>{ $app }</strong> bittet Sie, sich abzumelden.
logout-lead = Sie sind als <strong>{ $username }</strong> angemeldet. Die Abmeldung beendet diese Sitzung und den Zugriff der Anwendungen, die Sie darin genutzt haben.

## Passwort zurücksetzen
reset-title = Passwort zurücksetzen
reset-no-mail = Nach ein paar Minuten keine E-Mail erhalten? Prüfen Sie die Adresse und fordern Sie einen neuen Link an.
reset-lead = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Wir senden Ihnen einen Link, mit dem Sie ein neues Passwort wählen können.
reset-send = Link senden
reset-send-another = Neuen Link senden
reset-form-title = Neues Passwort wählen
reset-form-submit = Neues Passwort speichern

## E-Mail-Adresse zurücksetzen
restore-title = E-Mail-Adresse wiederherstellen
restore-lead = Die E-Mail-Adresse Ihres Kontos wurde geändert. Falls Sie das nicht waren, stellen Sie diese Adresse wieder her: Alle Sitzungen des Kontos werden abgemeldet, und offene Änderungen sowie Links zum Zurücksetzen des Passworts werden ungültig.
restore-submit = Meine Adresse wiederherstellen und überall abmelden
restore-it-was-me = Das war ich: zur Anmeldung

## Kontobereich
nav-label = Konto
nav-profile = Profil
nav-password = Passwort
nav-security = Sicherheit
nav-devices = Geräte
nav-apps = Apps
nav-activity = Aktivität
profile-username = Benutzername: <strong>{ $username }</strong>
profile-name = Name
profile-email = E-Mail-Adresse (derzeit { $email })
profile-change-email = E-Mail-Adresse ändern
profile-pending-email = Wartet auf Bestätigung: <strong>{ $email }</strong>. Öffnen Sie innerhalb einer Stunde den Link, den wir dorthin geschickt haben; bis dahin behält Ihr Konto die bisherige Adresse.
password-heading = Passwort ändern
password-current = Aktuelles Passwort
password-submit = Passwort ändern
password-fine = Wenn Sie Ihr Passwort ändern, werden alle anderen Geräte abgemeldet.
devices-heading = Wo Sie angemeldet sind
devices-this = Dieses Gerät
devices-last-seen = zuletzt aktiv am { $at }
devices-signed-in = angemeldet am { $at }
devices-sign-out-label = { $device } abmelden
devices-sign-out-confirm = { $device } abmelden? Die dort genutzten Apps verlieren ihren Zugriff.
devices-yes-sign-out-label = Ja, { $device } abmelden
devices-yes-sign-out = Ja, abmelden
devices-others = Überall sonst abmelden
devices-others-confirm = Alle anderen Geräte abmelden? Nur dieses bleibt angemeldet.
devices-others-yes = Ja, überall sonst abmelden
apps-heading = Apps mit Zugriff
apps-remove-label = Zugriff von { $app } entfernen
apps-remove = Zugriff entfernen
apps-remove-confirm = { $app } wird abgemeldet und muss erneut um Zugriff bitten.
apps-yes-remove-label = Ja, Zugriff von { $app } entfernen
apps-yes-remove = Ja, Zugriff entfernen
apps-none = Keine App hat Zugriff auf Ihr Konto.
activity-heading = Letzte Aktivitäten
activity-when = Wann
activity-what = Was
activity-result = Ergebnis
activity-from = Von

## Einstellungen der Bestätigung in zwei Schritten
security-codes-lead = Die Bestätigung in zwei Schritten ist eingeschaltet. Bewahren Sie diese Wiederherstellungscodes sicher auf: Jeder funktioniert einmal anstelle eines Codes. Sie werden nur angezeigt, bis Sie auf „Fertig“ klicken.
security-copy = Kopieren
security-download = Herunterladen
security-codes-done = Fertig, ich habe sie gespeichert
security-scan = Scannen Sie diesen Code mit Ihrer Authenticator-App oder geben Sie den Schlüssel ein, und geben Sie dann den 6-stelligen Code ein, den die App anzeigt.
security-qr-label = QR-Code Ihres Authenticator-Schlüssels
security-key = Schlüssel:
security-on-this-device = Auf diesem Gerät?
security-open-app = Öffnen Sie Ihre Authenticator-App,
security-to-add-key = um den Schlüssel hinzuzufügen.
security-code-from-app = Code aus der App
security-turn-on = Einschalten
security-is-on = Die Bestätigung in zwei Schritten ist für { $username } <strong>eingeschaltet</strong>.
security-new-codes = Neue Wiederherstellungscodes erstellen
security-new-codes-confirm = Ihre bisherigen Wiederherstellungscodes werden ungültig.
security-new-codes-yes = Ja, neue Codes erstellen
security-turn-off = Bestätigung in zwei Schritten ausschalten
security-current-code = Aktueller Code
security-turn-off-yes = Ja, ausschalten
security-is-off = Die Bestätigung in zwei Schritten ist für { $username } <strong>ausgeschaltet</strong>.
security-set-up = Authenticator-App einrichten

## Ein Gerät mit einem Code anmelden (/device)
device-title = Gerät verbinden
device-heading = Gerät verbinden
device-lead = Geben Sie den Code ein, den Ihr Gerät anzeigt.
device-code = Code
device-submit = Weiter
device-wrong-code = Dieser Code stimmt nicht oder ist abgelaufen. Prüfen Sie den Code auf Ihrem Gerät und geben Sie ihn erneut ein.
device-too-many = Zu viele falsche Codes.
device-confirm-heading = Dieses Gerät zulassen?
device-confirm-lead = Ein Gerät, das den Code { $code } anzeigt, gibt an, { $client } zu sein. Wenn Sie es zulassen, darf es:
device-confirm-scopes = Lassen Sie es nur zu, wenn Sie dies auf einem eigenen Gerät begonnen haben und der Code der dort angezeigte ist.
device-confirm-warning = Geben Sie nie einen Code ein, den Ihnen jemand anderes gegeben hat.
device-approve = Zulassen
device-deny = Ablehnen
device-approved-heading = Gerät verbunden
device-approved-lead = Sie können diese Seite schließen und zu Ihrem Gerät zurückkehren.
device-denied-heading = Gerät abgelehnt
device-denied-lead = Das Gerät hat keinen Zugriff erhalten. Sie können diese Seite schließen und zu Ihrem Gerät zurückkehren.
passkeys-title = Passkeys
passkeys-none = Noch keine Passkeys. Ein Passkey meldet Sie mit der Bildschirmsperre Ihres Geräts statt mit Ihrem Passwort an.
passkeys-second-step = Ein Passkey meldet Sie ohne Passwort an. Wenn Sie sich mit Ihrem Passwort anmelden, bestätigen Sie zusätzlich mit einem Passkey.
passkeys-required-add = Ihre Administration bittet Sie, einen Passkey hinzuzufügen. Danach melden Sie sich damit an, und Ihr Passwort allein meldet Sie nicht mehr an.
passkeys-required-on = Sie melden sich mit einem Passkey an: Ihr Passwort allein meldet Sie nicht mehr an.
passkeys-name = Name
passkeys-created = Hinzugefügt
passkeys-last-used = Zuletzt benutzt
passkeys-never = Nie
passkeys-rename = Umbenennen
passkeys-rename-yes = Namen speichern
passkeys-remove = Entfernen
passkeys-remove-yes = Ja, entfernen
passkeys-remove-last = Das ist Ihr letzter Passkey: Geben Sie Ihr Passwort ein, um ihn zu entfernen.
passkeys-add = Passkey hinzufügen
passkeys-default-name = Mein Passkey
passkeys-add-failed = Der Passkey wurde nicht hinzugefügt. Versuchen Sie es noch einmal.
passkeys-sign-in-again = Melden Sie sich zu Ihrer Sicherheit erneut an (innerhalb der letzten 5 Minuten), um Passkeys zu ändern.
passkeys-recent = Einen Passkey hinzuzufügen oder zu entfernen braucht eine Anmeldung innerhalb der letzten 5 Minuten.
passkeys-sign-in-link = Erneut anmelden
passkeys-wrong-password = Falsches Passwort: Der Passkey wurde nicht entfernt.
passkeys-bad-name = Der Name eines Passkeys hat 1 bis 64 Zeichen.
