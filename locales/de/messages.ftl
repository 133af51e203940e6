# Texte, die die Seiten in Rust bilden (src/web): Fehlerseiten, Hinweise, Ablehnungen.

## Fehlerseiten
error-failed-title = Etwas ist schiefgelaufen
error-failed-message = Bitte versuchen Sie es später erneut.
error-unavailable-title = Vorübergehend nicht verfügbar
error-unavailable-message = Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es in ein paar Sekunden erneut.
error-form-expired-title = Dieses Formular ist abgelaufen
error-form-expired-message = Zu Ihrer Sicherheit konnte das Formular nicht angenommen werden. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
error-timeout-title = Zeitüberschreitung
error-timeout-message = Das Formular kam zu langsam an. Bitte versuchen Sie es erneut.
error-too-many-requests-title = Zu viele Anfragen
error-too-many-requests-message = Zu viele Versuche aus Ihrem Netzwerk. Versuchen Sie es in etwa einer Minute erneut.
error-not-found-title = Seite nicht gefunden
error-not-found-message = Unter dieser Adresse gibt es keine Seite. Prüfen Sie die Adresse oder beginnen Sie neu in Ihrem Konto.
error-method-title = Diese Seite kann das nicht
error-method-message = Öffnen Sie die Seite über einen Link oder ihr Formular und versuchen Sie es erneut.
error-incomplete-title = Diese Adresse ist unvollständig
error-incomplete-message = Dem Link, dem Sie gefolgt sind, fehlt etwas, oder er ist beschädigt. Gehen Sie zurück zur Anwendung oder zu Ihrem Konto und beginnen Sie neu.
error-unreadable-title = Dieses Formular kann nicht gelesen werden
error-unreadable-message = Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
next-account = Zu Ihrem Konto
next-sign-in-again = Erneut anmelden

## Autorisierung und Anmeldung
authorize-refused-title = Diese Anfrage kann nicht abgeschlossen werden
authorize-expired-title = Diese Anmeldeanfrage ist abgelaufen
authorize-expired-message = Gehen Sie zurück zur Anwendung und beginnen Sie neu.
login-wrong-credentials = Benutzername oder Passwort ist falsch.
login-passkey-required = Ihr Konto meldet sich nur mit einem Passkey an: Nutzen Sie „Mit einem Passkey anmelden“.
login-too-many-attempts = Zu viele Versuche. { $try_again } Wenn Sie Ihr Passwort zurücksetzen, wird Ihr Konto sofort entsperrt.
try-again-in =
    { $minutes ->
        [one] Versuchen Sie es in etwa 1 Minute erneut.
       *[other] Versuchen Sie es in etwa { $minutes } Minuten erneut.
    }
otp-start-again-title = Erneut anmelden
otp-start-again-message = Diese Anmeldung ist abgelaufen oder hatte zu viele falsche Codes. Melden Sie sich erneut an, oder gehen Sie zurück zur Anwendung und beginnen Sie neu.
otp-wrong-code = Falscher Code. Versuchen Sie es erneut.
too-many-attempts-title = Zu viele Versuche
logout-refused-title = Diese Abmeldeanfrage kann nicht abgeschlossen werden
signed-out-title = Abgemeldet
signed-out-message = Sie sind abgemeldet.

## Links und Adressen
link-invalid-title = Dieser Link ist nicht mehr gültig
email-changed-title = E-Mail-Adresse geändert
email-changed-message = Ihr Konto verwendet jetzt die neue Adresse.
email-link-invalid-message = Fordern Sie in Ihrem Konto einen neuen Bestätigungslink an.
address-taken-title = Adresse bereits vergeben
address-taken-message = Ein anderes Konto verwendet diese Adresse.
reset-link-invalid-message = Links zum Zurücksetzen funktionieren einmal, für kurze Zeit, und nur der neueste. Fordern Sie einen neuen Link an.
reset-ask-new-link = Neuen Link anfordern
restore-done-title = Ihre E-Mail-Adresse ist wiederhergestellt
restore-done-message = Das Konto verwendet wieder { $email }, und alle seine Sitzungen wurden abgemeldet. Wählen Sie jetzt ein neues Passwort: Fordern Sie einen Link zum Zurücksetzen an, er kommt an diese Adresse.
restore-link-invalid-message = Er wurde bereits verwendet oder ist älter als 7 Tage. Bitten Sie Ihre Administration um Hilfe.
restore-taken-message = Ein anderes Konto verwendet diese Adresse inzwischen. Bitten Sie Ihre Administration um Hilfe.

## Kontobereich
password-locked = Zu viele falsche Passwörter: Das Ändern des Passworts ist gesperrt. { $try_again } Wenn Sie Ihr Passwort zurücksetzen, wird Ihr Konto sofort entsperrt.
security-start-again = Beginnen Sie die Einrichtung erneut.
security-wrong-code = Dieser Code stimmt nicht. Prüfen Sie die Uhrzeit auf Ihrem Gerät und versuchen Sie es erneut.
security-wrong-password-or-code = Passwort oder Code ist falsch.
security-turn-on-first = Schalten Sie zuerst die Bestätigung in zwei Schritten ein.

## Hinweise (einmal nach einem Formular gezeigt)
notice-saved = Gespeichert.
notice-email-sent = Wir haben einen Bestätigungslink an die neue Adresse gesendet. Ihre Adresse ändert sich, sobald Sie ihn öffnen.
notice-password-changed = Passwort geändert. Alle anderen Geräte wurden abgemeldet.
notice-device-signed-out = Abgemeldet.
notice-others-signed-out = Alle anderen Geräte wurden abgemeldet.
notice-access-removed = Zugriff entfernt.
notice-totp-on = Die Bestätigung in zwei Schritten ist eingeschaltet.
notice-totp-off = Die Bestätigung in zwei Schritten ist ausgeschaltet.
notice-reset-sent = Falls es ein Konto mit dieser Adresse gibt, haben wir einen Link gesendet. Er funktioniert einmal und für kurze Zeit.
notice-reset-done = Passwort geändert, und alle Sitzungen wurden abgemeldet. Melden Sie sich mit dem neuen Passwort an.
notice-signed-out = Sie sind abgemeldet.
notice-already-signed-in = Sie sind angemeldet. Diese Anmeldeanfrage ist abgeschlossen: Fahren Sie in der Anwendung fort oder hier in Ihrem Konto.

## Ablehnungen aus den Diensten und Protokollregeln (src/web/words.rs ordnet sie hier zu)
refusal-too-large = Die Anfrage ist zu groß oder hat zu viele Parameter.
refusal-malformed = Die Anfrage ist fehlerhaft.
refusal-not-registered = Die Anwendung, die Sie hierher geschickt hat, ist nicht registriert.
refusal-no-longer-registered = Die Anwendung, die Sie hierher geschickt hat, ist nicht mehr registriert.
refusal-no-client = Die Anwendung hat nicht angegeben, wer sie ist.
refusal-two-clients = Die Anwendung hat sich mehr als einmal benannt.
refusal-two-redirects = Die Anwendung hat mehr als eine Rücksprungadresse angegeben.
refusal-redirect-gone = Die Rücksprungadresse dieser Anwendung ist nicht mehr registriert.
refusal-redirect-unregistered = Die Anwendung möchte zu einer Adresse zurück, die sie nicht registriert hat.
refusal-no-redirect = Diese Anwendung hat keine registrierte Rücksprungadresse.
refusal-which-redirect = Die Anwendung hat nicht angegeben, zu welcher ihrer Adressen es zurückgehen soll.
refusal-logout-too-long = Die Anwendung hat eine zu lange Abmeldeanfrage gesendet.
refusal-logout-unverified = Die Anwendung hat eine Abmeldeanfrage gesendet, die wir nicht prüfen können. Gehen Sie zurück zur Anwendung und melden Sie sich dort erneut ab.
refusal-logout-two-clients = Die Abmeldeanfrage nennt zwei verschiedene Anwendungen.
refusal-logout-no-client = Die Abmeldeanfrage möchte zu einer Adresse zurück, ohne zu sagen, für welche Anwendung.
refusal-logout-unregistered = Die Abmeldeanfrage möchte zu einer Adresse zurück, die diese Anwendung nicht registriert hat.
problem-not-an-email = Das ist keine E-Mail-Adresse.
problem-passwords-differ = Die beiden Passwörter stimmen nicht überein.
problem-current-password-wrong = Das aktuelle Passwort ist falsch.
problem-name-too-long = Verwenden Sie höchstens { $max } Zeichen für Ihren Namen.
problem-password-short = Verwenden Sie mindestens 12 Zeichen.
problem-password-long = Verwenden Sie höchstens 256 Zeichen.
problem-password-personal = Verwenden Sie nicht Ihren Benutzernamen oder Ihre E-Mail-Adresse.
problem-password-common = Dieses Passwort ist zu verbreitet oder zu einfach.
