# E-Mails (src/service/notify.rs, accounts.rs, lockout.rs). Jede Meldung ist ein Absatz; der
# Code setzt eine Leerzeile zwischen die Absätze. Reiner Text: keine Auszeichnungen.

mail-not-you = Falls Sie das nicht waren, setzen Sie Ihr Passwort jetzt unter { $issuer }/reset zurück und informieren Sie Ihre Administration.
mail-password-changed-subject = Ihr { $brand }-Passwort wurde geändert
mail-password-changed-others = Das Passwort des Kontos { $username } wurde soeben geändert, und alle anderen Sitzungen des Kontos wurden abgemeldet.
mail-password-changed-all = Das Passwort des Kontos { $username } wurde soeben geändert, und alle Sitzungen des Kontos wurden abgemeldet.
mail-password-changed-passkeys-kept = { $count ->
    [one] Ihr Passkey wurde nicht entfernt: Er meldet Sie weiterhin an.
   *[other] Ihre { $count } Passkeys wurden nicht entfernt: Sie melden Sie weiterhin an.
} Wenn Sie einen verloren haben oder jemand anderes ihn haben könnte, entfernen Sie ihn unter { $issuer }/account/security.
mail-email-changed-subject = Die E-Mail-Adresse Ihres { $brand }-Kontos wurde geändert
mail-email-changed-body = Die E-Mail-Adresse des Kontos { $username } wurde in { $new_email } geändert. E-Mails zum Konto gehen jetzt dorthin, nicht mehr hierher.
mail-email-changed-undo = Falls Sie das nicht waren, öffnen Sie innerhalb von 7 Tagen diesen Link, um diese Adresse wiederherzustellen und alle Sitzungen des Kontos abzumelden:
mail-email-changed-then = Setzen Sie danach Ihr Passwort zurück und informieren Sie Ihre Administration.
mail-email-changed-no-undo = Falls Sie das nicht waren, informieren Sie sofort Ihre Administration.
mail-totp-on-subject = Die Anmeldung in zwei Schritten ist für Ihr { $brand }-Konto eingeschaltet
mail-totp-on-body = Die Anmeldung in zwei Schritten wurde eingeschaltet: Zum Anmelden braucht es jetzt außer dem Passwort auch einen Code aus der Authenticator-App.
mail-totp-off-subject = Die Anmeldung in zwei Schritten ist für Ihr { $brand }-Konto ausgeschaltet
mail-totp-off-body = Die Anmeldung in zwei Schritten wurde ausgeschaltet: Zum Anmelden braucht es jetzt nur noch das Passwort.
mail-totp-account = Konto { $username }: { $what }
mail-by-operator = Diese Änderung hat Ihre Administration vorgenommen.
mail-passkey-added-subject = Ein Passkey wurde Ihrem { $brand }-Konto hinzugefügt
mail-passkey-added-body = Konto { $username }: Der Passkey „{ $name }“ wurde hinzugefügt. Mit ihm kann man sich jetzt ohne Passwort anmelden.
mail-passkey-removed-subject = Ein Passkey wurde von Ihrem { $brand }-Konto entfernt
mail-passkey-removed-body = Konto { $username }: Der Passkey „{ $name }“ wurde entfernt. Mit ihm kann man sich nicht mehr anmelden.
mail-recovery-subject = Bei Ihrem { $brand }-Konto wurde zur Anmeldung ein Wiederherstellungscode verwendet
mail-recovery-body = Jemand hat sich beim Konto { $username } mit einem Wiederherstellungscode statt mit einem Code aus der Authenticator-App angemeldet ({ $device }, von { $address }). Jeder Wiederherstellungscode funktioniert nur einmal. Falls Sie die Authenticator-App nicht mehr haben, richten Sie die Anmeldung in zwei Schritten auf der Sicherheitsseite Ihres Kontos neu ein.
mail-new-sign-in-subject = Neue Anmeldung bei Ihrem { $brand }-Konto
mail-new-sign-in-body = Beim Konto { $username } hat sich soeben { $device } angemeldet, von der Adresse { $address }.
mail-new-sign-in-was-you = Falls Sie das waren, ist nichts zu tun.
mail-device-named = ein Browser, der sich „{ $agent }“ nennt
mail-device-unnamed = ein Browser, der sich nicht zu erkennen gab
mail-email-confirm-subject = Bestätigen Sie Ihre neue E-Mail-Adresse bei { $brand }
mail-email-confirm-body = Um diese Adresse zur E-Mail-Adresse des Kontos { $username } zu machen, öffnen Sie innerhalb einer Stunde diesen Link:
mail-email-confirm-ignore = Falls Sie das nicht angefordert haben, ignorieren Sie diese Nachricht.
mail-reset-subject = Setzen Sie Ihr { $brand }-Passwort zurück
mail-reset-asked = Jemand hat angefordert, das Passwort des Kontos { $username } zurückzusetzen.
mail-reset-open =
    { $minutes ->
        [one] Um ein neues Passwort zu wählen, öffnen Sie innerhalb von 1 Minute diesen Link:
       *[other] Um ein neues Passwort zu wählen, öffnen Sie innerhalb von { $minutes } Minuten diesen Link:
    }
mail-reset-not-you = Falls Sie das nicht waren, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert.
mail-locked-subject = Ihr { $brand }-Konto wurde gesperrt
mail-locked-body = Das Konto { $username } wurde nach wiederholten Fehlversuchen gesperrt, sich anzumelden oder das Passwort zu bestätigen (falsche Passwörter oder Codes).
mail-locked-until = Es bleibt bis { $until } (UTC) gesperrt.
mail-locked-advice = Falls Sie das waren, warten Sie bis dahin. Falls nicht, versucht womöglich jemand, Ihr Passwort zu erraten: Wenn Sie Ihr Passwort unter { $issuer }/reset zurücksetzen, wird das Konto sofort entsperrt, und alle Sitzungen werden abgemeldet.
