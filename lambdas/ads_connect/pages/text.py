# ruff: noqa: RUF001 - Japanese text is written with its own full-width punctuation
"""Every word a public page shows, in every language the pages speak, and the choice of language.

One table (``TEXT``): message key -> language -> text. Texts are plain text with ``$name``
placeholders (``string.Template``); ``pages/views.py`` escapes them and what is substituted.
``tests/unit/connect/test_page_text.py`` fails when a language lacks a key or a placeholder.
Region names are here too, keyed by region code; the marketplaces listed beside them come from
``ads_connect.regions`` (the one region table).

The language follows the browser's ``Accept-Language`` (RFC 9110 section 12.5.4: quality values,
``q=0`` means "not acceptable"); English when nothing offered matches. The choice changes only
the words and ``<html lang>``: never a status, a header that protects the page, or what happens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from ads_connect.regions import Region


class Language(StrEnum):
    EN = "en"
    DE = "de"
    FR = "fr"
    ES = "es"
    IT = "it"
    JA = "ja"


DEFAULT_LANGUAGE: Final = Language.EN
# A header longer than this is read only this far (browsers send well under 200 characters).
MAX_ACCEPT_LANGUAGE_CHARS: Final = 1024
_RANGE = re.compile(r"^([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*$")
_QUALITY = re.compile(r"^[qQ]=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")


def negotiate_language(accept_language: str | None) -> Language:
    """The supported language the browser prefers most: highest quality first, then the order
    the header lists them in. Malformed entries are skipped; ``*`` and unknown languages match
    nothing here, so they fall back to English."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranks: dict[Language, tuple[float, int]] = {}
    refused: set[Language] = set()
    for position, entry in enumerate(accept_language[:MAX_ACCEPT_LANGUAGE_CHARS].split(",")):
        tag, *parameters = [part.strip() for part in entry.split(";")]
        match = _RANGE.match(tag)
        if match is None:
            continue
        quality = 1.0
        if parameters:
            q = _QUALITY.match(parameters[0])
            if q is None or len(parameters) > 1:
                continue
            quality = float(q.group(1))
        try:
            language = Language(match.group(1).lower())
        except ValueError:
            continue
        if quality == 0:
            refused.add(language)
        else:
            ranks[language] = max(ranks.get(language, (0.0, 0)), (quality, -position))
    acceptable = {language: rank for language, rank in ranks.items() if language not in refused}
    return max(acceptable, key=acceptable.__getitem__) if acceptable else DEFAULT_LANGUAGE


REGION_NAMES: Final[Mapping[Region, Mapping[Language, str]]] = {
    Region.NA: {
        Language.EN: "North America",
        Language.DE: "Nordamerika",
        Language.FR: "Amérique du Nord",
        Language.ES: "Norteamérica",
        Language.IT: "Nord America",
        Language.JA: "北米",
    },
    Region.EU: {
        Language.EN: "Europe, Middle East and India",
        Language.DE: "Europa, Naher Osten und Indien",
        Language.FR: "Europe, Moyen-Orient et Inde",
        Language.ES: "Europa, Oriente Medio e India",
        Language.IT: "Europa, Medio Oriente e India",
        Language.JA: "ヨーロッパ・中東・インド",
    },
    Region.FE: {
        Language.EN: "Far East",
        Language.DE: "Ferner Osten",
        Language.FR: "Extrême-Orient",
        Language.ES: "Lejano Oriente",
        Language.IT: "Estremo Oriente",
        Language.JA: "極東",
    },
}

_EN, _DE, _FR, _ES, _IT, _JA = Language

TEXT: Final[Mapping[str, Mapping[Language, str]]] = {
    # ---- landing page ------------------------------------------------------------------------
    "landing.title": {
        _EN: "Connect Amazon Ads to $app",
        _DE: "Amazon Ads mit $app verbinden",
        _FR: "Connecter Amazon Ads à $app",
        _ES: "Conectar Amazon Ads con $app",
        _IT: "Collega Amazon Ads a $app",
        _JA: "Amazon Ads を $app に接続",
    },
    "landing.heading": {
        _EN: "Connect your Amazon Ads account",
        _DE: "Verbinden Sie Ihr Amazon Ads-Konto",
        _FR: "Connectez votre compte Amazon Ads",
        _ES: "Conecte su cuenta de Amazon Ads",
        _IT: "Collega il tuo account Amazon Ads",
        _JA: "Amazon Ads アカウントを接続する",
    },
    "landing.intro": {
        _EN: "$app is asking for access to your Amazon Ads account on behalf of $tenant.",
        _DE: "$app bittet im Auftrag von $tenant um Zugriff auf Ihr Amazon Ads-Konto.",
        _FR: "$app demande l'accès à votre compte Amazon Ads pour le compte de $tenant.",
        _ES: "$app solicita acceso a su cuenta de Amazon Ads en nombre de $tenant.",
        _IT: "$app chiede l'accesso al tuo account Amazon Ads per conto di $tenant.",
        _JA: "$app が $tenant に代わって、お客様の Amazon Ads アカウントへのアクセスを求めています。",
    },
    "landing.shared_heading": {
        _EN: "What will be shared",
        _DE: "Was geteilt wird",
        _FR: "Ce qui sera partagé",
        _ES: "Qué se compartirá",
        _IT: "Cosa verrà condiviso",
        _JA: "共有される内容",
    },
    "landing.shared_profiles": {
        _EN: "Your advertising profiles (account names, marketplaces, account types).",
        _DE: "Ihre Werbeprofile (Kontonamen, Marktplätze, Kontotypen).",
        _FR: "Vos profils publicitaires (noms de compte, places de marché, types de compte).",
        _ES: "Sus perfiles publicitarios (nombres de cuenta, marketplaces, tipos de cuenta).",
        _IT: "I tuoi profili pubblicitari (nomi degli account, marketplace, tipi di account).",
        _JA: "広告プロファイル（アカウント名、マーケットプレイス、アカウントの種類）。",
    },
    "landing.shared_permission": {
        _EN: "Permission to manage campaigns and read reports for those profiles, as your Amazon user may.",
        _DE: "Die Berechtigung, für diese Profile Kampagnen zu verwalten und Berichte zu lesen, "
        "soweit Ihr Amazon-Benutzer das darf.",
        _FR: "L'autorisation de gérer les campagnes et de lire les rapports de ces profils, "
        "dans la limite des droits de votre utilisateur Amazon.",
        _ES: "Permiso para gestionar campañas y leer informes de esos perfiles, en la medida en "
        "que su usuario de Amazon pueda hacerlo.",
        _IT: "L'autorizzazione a gestire le campagne e leggere i report di quei profili, nei "
        "limiti dei permessi del tuo utente Amazon.",
        _JA: "お客様の Amazon ユーザーに許可されている範囲で、これらのプロファイルのキャンペーンを管理し、"
        "レポートを閲覧する権限。",
    },
    "landing.privacy": {
        _EN: "You will sign in on Amazon's own page and approve access there. $app never sees your "
        "Amazon password or payment details, and you can remove its access in your Amazon account "
        "at any time.",
        _DE: "Sie melden sich auf Amazons eigener Seite an und erteilen dort den Zugriff. $app sieht "
        "niemals Ihr Amazon-Passwort oder Ihre Zahlungsdaten, und Sie können den Zugriff jederzeit "
        "in Ihrem Amazon-Konto entziehen.",
        _FR: "Vous vous connecterez sur la page d'Amazon et y approuverez l'accès. $app ne voit "
        "jamais votre mot de passe Amazon ni vos moyens de paiement, et vous pouvez retirer cet "
        "accès à tout moment dans votre compte Amazon.",
        _ES: "Iniciará sesión en la propia página de Amazon y aprobará allí el acceso. $app nunca ve "
        "su contraseña de Amazon ni sus datos de pago, y puede retirar su acceso en su cuenta de "
        "Amazon en cualquier momento.",
        _IT: "Accederai dalla pagina di Amazon e approverai lì l'accesso. $app non vede mai la tua "
        "password Amazon né i tuoi dati di pagamento, e puoi revocarne l'accesso dal tuo account "
        "Amazon in qualsiasi momento.",
        _JA: "Amazon 自身のページでサインインし、そこでアクセスを承認します。$app が Amazon のパスワードや"
        "支払い情報を見ることはありません。アクセスは Amazon アカウントからいつでも取り消せます。",
    },
    "landing.region_question": {
        _EN: "Where is your Amazon Ads account?",
        _DE: "Wo befindet sich Ihr Amazon Ads-Konto?",
        _FR: "Où se trouve votre compte Amazon Ads ?",
        _ES: "¿Dónde está su cuenta de Amazon Ads?",
        _IT: "Dove si trova il tuo account Amazon Ads?",
        _JA: "Amazon Ads アカウントはどの地域にありますか？",
    },
    "landing.fixed_region": {
        _EN: "Amazon region: $region",
        _DE: "Amazon-Region: $region",
        _FR: "Région Amazon : $region",
        _ES: "Región de Amazon: $region",
        _IT: "Regione Amazon: $region",
        _JA: "Amazon の地域: $region",
    },
    "landing.continue": {
        _EN: "Continue to Amazon",
        _DE: "Weiter zu Amazon",
        _FR: "Continuer vers Amazon",
        _ES: "Continuar a Amazon",
        _IT: "Continua su Amazon",
        _JA: "Amazon へ進む",
    },
    "landing.expires": {
        _EN: "This link expires at $expires.",
        _DE: "Dieser Link läuft am $expires ab.",
        _FR: "Ce lien expire le $expires.",
        _ES: "Este enlace caduca el $expires.",
        _IT: "Questo link scade il $expires.",
        _JA: "このリンクの有効期限は $expires です。",
    },
    # ---- result page -------------------------------------------------------------------------
    "success.title": {
        _EN: "Amazon Ads connected",
        _DE: "Amazon Ads verbunden",
        _FR: "Amazon Ads connecté",
        _ES: "Amazon Ads conectado",
        _IT: "Amazon Ads collegato",
        _JA: "Amazon Ads を接続しました",
    },
    "success.heading": {
        _EN: "Amazon Ads is connected",
        _DE: "Amazon Ads ist verbunden",
        _FR: "Amazon Ads est connecté",
        _ES: "Amazon Ads está conectado",
        _IT: "Amazon Ads è collegato",
        _JA: "Amazon Ads が接続されました",
    },
    "success.body": {
        _EN: "$tenant is now connected to $app in $region.",
        _DE: "$tenant ist jetzt in der Region $region mit $app verbunden.",
        _FR: "$tenant est maintenant connecté à $app dans la région $region.",
        _ES: "$tenant ya está conectado a $app en la región $region.",
        _IT: "$tenant è ora collegato a $app nella regione $region.",
        _JA: "$tenant は $region で $app に接続されました。",
    },
    "success.profiles_heading": {
        _EN: "Connected profiles",
        _DE: "Verbundene Profile",
        _FR: "Profils connectés",
        _ES: "Perfiles conectados",
        _IT: "Profili collegati",
        _JA: "接続されたプロファイル",
    },
    "success.column_account": {
        _EN: "Account",
        _DE: "Konto",
        _FR: "Compte",
        _ES: "Cuenta",
        _IT: "Account",
        _JA: "アカウント",
    },
    "success.column_marketplace": {
        _EN: "Marketplace",
        _DE: "Marktplatz",
        _FR: "Place de marché",
        _ES: "Marketplace",
        _IT: "Marketplace",
        _JA: "マーケットプレイス",
    },
    "success.column_type": {
        _EN: "Type",
        _DE: "Typ",
        _FR: "Type",
        _ES: "Tipo",
        _IT: "Tipo",
        _JA: "種類",
    },
    "success.column_access": {
        _EN: "Access",
        _DE: "Zugriff",
        _FR: "Accès",
        _ES: "Acceso",
        _IT: "Accesso",
        _JA: "アクセス",
    },
    "success.column_profile_id": {
        _EN: "Profile id",
        _DE: "Profil-ID",
        _FR: "ID du profil",
        _ES: "ID de perfil",
        _IT: "ID profilo",
        _JA: "プロファイル ID",
    },
    "success.unnamed": {
        _EN: "(unnamed)",
        _DE: "(ohne Namen)",
        _FR: "(sans nom)",
        _ES: "(sin nombre)",
        _IT: "(senza nome)",
        _JA: "（名前なし）",
    },
    "success.access_edit": {
        _EN: "edit",
        _DE: "bearbeiten",
        _FR: "modification",
        _ES: "edición",
        _IT: "modifica",
        _JA: "編集",
    },
    "success.access_view": {
        _EN: "view",
        _DE: "ansehen",
        _FR: "lecture",
        _ES: "lectura",
        _IT: "visualizzazione",
        _JA: "閲覧",
    },
    "success.view_only": {
        _EN: "Your Amazon user has view-only access: reports can be read, campaigns cannot be changed.",
        _DE: "Ihr Amazon-Benutzer hat nur Lesezugriff: Berichte können gelesen, Kampagnen aber "
        "nicht geändert werden.",
        _FR: "Votre utilisateur Amazon a un accès en lecture seule : les rapports peuvent être lus, "
        "les campagnes ne peuvent pas être modifiées.",
        _ES: "Su usuario de Amazon tiene acceso de solo lectura: se pueden leer los informes, pero "
        "no modificar las campañas.",
        _IT: "Il tuo utente Amazon ha accesso in sola lettura: i report si possono leggere, le "
        "campagne non si possono modificare.",
        _JA: "お客様の Amazon ユーザーは閲覧のみの権限です。"
        "レポートは閲覧できますが、キャンペーンは変更できません。",
    },
    "success.close": {
        _EN: "You can close this window.",
        _DE: "Sie können dieses Fenster schließen.",
        _FR: "Vous pouvez fermer cette fenêtre.",
        _ES: "Puede cerrar esta ventana.",
        _IT: "Puoi chiudere questa finestra.",
        _JA: "このウィンドウは閉じてかまいません。",
    },
    "success.no_profiles_heading": {
        _EN: "No advertising profiles yet",
        _DE: "Noch keine Werbeprofile",
        _FR: "Aucun profil publicitaire pour l'instant",
        _ES: "Todavía no hay perfiles publicitarios",
        _IT: "Ancora nessun profilo pubblicitario",
        _JA: "広告プロファイルはまだありません",
    },
    "profiles.empty": {
        _EN: "Amazon returned no advertising profiles. Profiles appear only after the account's "
        "first campaign, or the account may be in another Amazon region.",
        _DE: "Amazon hat keine Werbeprofile geliefert. Profile erscheinen erst nach der ersten "
        "Kampagne des Kontos, oder das Konto liegt in einer anderen Amazon-Region.",
        _FR: "Amazon n'a renvoyé aucun profil publicitaire. Les profils n'apparaissent qu'après la "
        "première campagne du compte, ou le compte se trouve dans une autre région Amazon.",
        _ES: "Amazon no devolvió ningún perfil publicitario. Los perfiles aparecen solo después de "
        "la primera campaña de la cuenta, o la cuenta puede estar en otra región de Amazon.",
        _IT: "Amazon non ha restituito profili pubblicitari. I profili compaiono solo dopo la "
        "prima campagna dell'account, oppure l'account si trova in un'altra regione Amazon.",
        _JA: "Amazon から広告プロファイルが返されませんでした。プロファイルはアカウントで最初のキャンペーンを"
        "作成した後に表示されます。または、アカウントが別の Amazon 地域にある可能性があります。",
    },
    "profiles.pending": {
        _EN: "Your advertising profiles are still being discovered. They will be checked again "
        "automatically; there is nothing more to do.",
        _DE: "Ihre Werbeprofile werden noch ermittelt. Sie werden automatisch erneut geprüft; "
        "Sie müssen nichts weiter tun.",
        _FR: "Vos profils publicitaires sont encore en cours de découverte. Ils seront vérifiés à "
        "nouveau automatiquement ; vous n'avez rien d'autre à faire.",
        _ES: "Sus perfiles publicitarios aún se están detectando. Se volverán a comprobar "
        "automáticamente; no tiene que hacer nada más.",
        _IT: "I tuoi profili pubblicitari sono ancora in fase di rilevamento. Verranno "
        "ricontrollati automaticamente; non devi fare altro.",
        _JA: "広告プロファイルはまだ確認中です。自動的に再確認されますので、これ以上の操作は必要ありません。",
    },
    "profiles.propagating": {
        _EN: "Amazon has not listed your profiles yet. A newly linked profile can take up to an "
        "hour to appear; it will be checked again automatically.",
        _DE: "Amazon hat Ihre Profile noch nicht aufgelistet. Ein neu verknüpftes Profil kann bis "
        "zu einer Stunde brauchen; es wird automatisch erneut geprüft.",
        _FR: "Amazon n'a pas encore listé vos profils. Un profil nouvellement lié peut mettre "
        "jusqu'à une heure à apparaître ; il sera vérifié à nouveau automatiquement.",
        _ES: "Amazon aún no ha listado sus perfiles. Un perfil recién vinculado puede tardar hasta "
        "una hora en aparecer; se volverá a comprobar automáticamente.",
        _IT: "Amazon non ha ancora elencato i tuoi profili. Un profilo appena collegato può "
        "impiegare fino a un'ora per comparire; verrà ricontrollato automaticamente.",
        _JA: "Amazon はまだプロファイルを一覧に表示していません。新しくリンクされたプロファイルの表示には"
        "最大 1 時間かかることがあります。自動的に再確認されます。",
    },
    "profiles.not_allow_listed": {
        _EN: "Amazon did not yet accept this application for the Ads API. A newly approved "
        "application can take a while to be allow-listed; your profiles will be checked again "
        "automatically.",
        _DE: "Amazon hat diese Anwendung noch nicht für die Ads API zugelassen. Bis eine neu "
        "freigegebene Anwendung freigeschaltet ist, kann es etwas dauern; Ihre Profile werden "
        "automatisch erneut geprüft.",
        _FR: "Amazon n'accepte pas encore cette application pour l'API Ads. L'activation d'une "
        "application nouvellement approuvée peut prendre un certain temps ; vos profils seront "
        "vérifiés à nouveau automatiquement.",
        _ES: "Amazon aún no acepta esta aplicación para la API de Ads. Una aplicación recién "
        "aprobada puede tardar un tiempo en habilitarse; sus perfiles se volverán a comprobar "
        "automáticamente.",
        _IT: "Amazon non accetta ancora questa applicazione per l'API Ads. L'abilitazione di "
        "un'applicazione appena approvata può richiedere un po' di tempo; i tuoi profili verranno "
        "ricontrollati automaticamente.",
        _JA: "Amazon はまだこのアプリケーションを Ads API 用に受け付けていません。"
        "新しく承認されたアプリケーションが有効になるまで時間がかかることがあります。"
        "プロファイルは自動的に再確認されます。",
    },
    # ---- every page --------------------------------------------------------------------------
    "help.footer": {
        _EN: "Questions? Contact $contact.",
        _DE: "Fragen? Wenden Sie sich an $contact.",
        _FR: "Des questions ? Contactez $contact.",
        _ES: "¿Preguntas? Contacte con $contact.",
        _IT: "Domande? Contatta $contact.",
        _JA: "ご不明な点は $contact までお問い合わせください。",
    },
    "error.reference": {
        _EN: "Reference: $reference.",
        _DE: "Referenz: $reference.",
        _FR: "Référence : $reference.",
        _ES: "Referencia: $reference.",
        _IT: "Riferimento: $reference.",
        _JA: "参照番号: $reference",
    },
    "error.contact": {
        _EN: "For help, contact $contact and quote this reference.",
        _DE: "Hilfe erhalten Sie bei $contact; bitte nennen Sie diese Referenz.",
        _FR: "Pour obtenir de l'aide, contactez $contact en indiquant cette référence.",
        _ES: "Para obtener ayuda, contacte con $contact e indique esta referencia.",
        _IT: "Per assistenza contatta $contact indicando questo riferimento.",
        _JA: "お問い合わせは $contact まで。その際はこの参照番号をお伝えください。",
    },
    "error.contact_unset": {
        _EN: "Quote it if you contact support.",
        _DE: "Bitte nennen Sie sie, wenn Sie den Support kontaktieren.",
        _FR: "Indiquez-la si vous contactez l'assistance.",
        _ES: "Indíquela si contacta con el soporte.",
        _IT: "Indicalo se contatti l'assistenza.",
        _JA: "サポートへのお問い合わせの際にお伝えください。",
    },
    "error.amazon_code": {
        _EN: "(error code: $code)",
        _DE: "(Fehlercode: $code)",
        _FR: "(code d'erreur : $code)",
        _ES: "(código de error: $code)",
        _IT: "(codice di errore: $code)",
        _JA: "（エラーコード: $code）",
    },
    # ---- failure pages: heading, message, hint -------------------------------------------------
    "hint.ask_new_link": {
        _EN: "Ask the company that sent you this link for a new one.",
        _DE: "Bitten Sie das Unternehmen, das Ihnen diesen Link geschickt hat, um einen neuen.",
        _FR: "Demandez un nouveau lien à l'entreprise qui vous a envoyé celui-ci.",
        _ES: "Pida un enlace nuevo a la empresa que le envió este.",
        _IT: "Chiedi un nuovo link all'azienda che ti ha inviato questo.",
        _JA: "このリンクを送ってきた会社に新しいリンクを依頼してください。",
    },
    "hint.start_again": {
        _EN: "Please start again from the link you were given.",
        _DE: "Bitte beginnen Sie erneut mit dem Link, den Sie erhalten haben.",
        _FR: "Veuillez recommencer à partir du lien que vous avez reçu.",
        _ES: "Vuelva a empezar desde el enlace que recibió.",
        _IT: "Ricomincia dal link che hai ricevuto.",
        _JA: "受け取ったリンクからもう一度やり直してください。",
    },
    "failure.session_unknown.heading": {
        _EN: "This link is not valid",
        _DE: "Dieser Link ist ungültig",
        _FR: "Ce lien n'est pas valide",
        _ES: "Este enlace no es válido",
        _IT: "Questo link non è valido",
        _JA: "このリンクは無効です",
    },
    "failure.session_unknown.message": {
        _EN: "We could not find this connection link.",
        _DE: "Wir konnten diesen Verbindungslink nicht finden.",
        _FR: "Nous n'avons pas trouvé ce lien de connexion.",
        _ES: "No hemos encontrado este enlace de conexión.",
        _IT: "Non abbiamo trovato questo link di collegamento.",
        _JA: "この接続リンクが見つかりませんでした。",
    },
    "failure.session_expired.heading": {
        _EN: "This link has expired",
        _DE: "Dieser Link ist abgelaufen",
        _FR: "Ce lien a expiré",
        _ES: "Este enlace ha caducado",
        _IT: "Questo link è scaduto",
        _JA: "このリンクは期限切れです",
    },
    "failure.session_expired.message": {
        _EN: "Connection links are valid for a limited time.",
        _DE: "Verbindungslinks sind nur begrenzte Zeit gültig.",
        _FR: "Les liens de connexion sont valables pendant une durée limitée.",
        _ES: "Los enlaces de conexión son válidos durante un tiempo limitado.",
        _IT: "I link di collegamento sono validi per un tempo limitato.",
        _JA: "接続リンクの有効期間は限られています。",
    },
    "failure.session_used.heading": {
        _EN: "This link was already used",
        _DE: "Dieser Link wurde bereits verwendet",
        _FR: "Ce lien a déjà été utilisé",
        _ES: "Este enlace ya se ha utilizado",
        _IT: "Questo link è già stato usato",
        _JA: "このリンクは使用済みです",
    },
    "failure.session_used.message": {
        _EN: "This connection link has already connected an account.",
        _DE: "Mit diesem Verbindungslink wurde bereits ein Konto verbunden.",
        _FR: "Ce lien de connexion a déjà servi à connecter un compte.",
        _ES: "Este enlace de conexión ya ha conectado una cuenta.",
        _IT: "Questo link di collegamento ha già collegato un account.",
        _JA: "この接続リンクですでにアカウントが接続されています。",
    },
    "failure.session_revoked.heading": {
        _EN: "This link was withdrawn",
        _DE: "Dieser Link wurde zurückgezogen",
        _FR: "Ce lien a été retiré",
        _ES: "Este enlace se ha retirado",
        _IT: "Questo link è stato ritirato",
        _JA: "このリンクは取り消されました",
    },
    "failure.session_revoked.message": {
        _EN: "The provider withdrew this connection link, so it can no longer connect an account.",
        _DE: "Der Anbieter hat diesen Verbindungslink zurückgezogen; er kann kein Konto mehr verbinden.",
        _FR: "Le fournisseur a retiré ce lien de connexion : il ne peut plus connecter de compte.",
        _ES: "El proveedor retiró este enlace de conexión, así que ya no puede conectar una cuenta.",
        _IT: "Il fornitore ha ritirato questo link di collegamento, che non può più collegare un account.",
        _JA: "提供元がこの接続リンクを取り消したため、アカウントを接続できなくなりました。",
    },
    "failure.invalid_region.heading": {
        _EN: "Please choose a region",
        _DE: "Bitte wählen Sie eine Region",
        _FR: "Veuillez choisir une région",
        _ES: "Elija una región",
        _IT: "Scegli una regione",
        _JA: "地域を選択してください",
    },
    "failure.invalid_region.message": {
        _EN: "Choose the Amazon region where your advertising account lives.",
        _DE: "Wählen Sie die Amazon-Region, in der sich Ihr Werbekonto befindet.",
        _FR: "Choisissez la région Amazon où se trouve votre compte publicitaire.",
        _ES: "Elija la región de Amazon en la que está su cuenta publicitaria.",
        _IT: "Scegli la regione Amazon in cui si trova il tuo account pubblicitario.",
        _JA: "広告アカウントがある Amazon の地域を選択してください。",
    },
    "failure.cross_site_request.heading": {
        _EN: "Please start from the connection page",
        _DE: "Bitte beginnen Sie auf der Verbindungsseite",
        _FR: "Veuillez commencer depuis la page de connexion",
        _ES: "Empiece desde la página de conexión",
        _IT: "Inizia dalla pagina di collegamento",
        _JA: "接続ページから始めてください",
    },
    "failure.cross_site_request.message": {
        _EN: "This request did not come from the connection page, so nothing was started.",
        _DE: "Diese Anfrage kam nicht von der Verbindungsseite, daher wurde nichts gestartet.",
        _FR: "Cette demande ne provient pas de la page de connexion : rien n'a été lancé.",
        _ES: "Esta solicitud no procede de la página de conexión, así que no se ha iniciado nada.",
        _IT: "Questa richiesta non proviene dalla pagina di collegamento, quindi non è stato avviato nulla.",
        _JA: "このリクエストは接続ページから送信されていないため、何も開始されていません。",
    },
    "failure.cross_site_request.hint": {
        _EN: "Open the link you were given and press the button on that page.",
        _DE: "Öffnen Sie den Link, den Sie erhalten haben, und klicken Sie auf die Schaltfläche auf dieser "
        "Seite.",
        _FR: "Ouvrez le lien que vous avez reçu et appuyez sur le bouton de cette page.",
        _ES: "Abra el enlace que recibió y pulse el botón de esa página.",
        _IT: "Apri il link che hai ricevuto e premi il pulsante su quella pagina.",
        _JA: "受け取ったリンクを開き、そのページのボタンを押してください。",
    },
    "failure.state_missing.heading": {
        _EN: "Something is missing",
        _DE: "Es fehlt etwas",
        _FR: "Il manque quelque chose",
        _ES: "Falta algo",
        _IT: "Manca qualcosa",
        _JA: "情報が不足しています",
    },
    "failure.state_missing.message": {
        _EN: "Amazon sent you back without the information we need.",
        _DE: "Amazon hat Sie ohne die benötigten Informationen zurückgeschickt.",
        _FR: "Amazon vous a renvoyé sans les informations dont nous avons besoin.",
        _ES: "Amazon le ha devuelto sin la información que necesitamos.",
        _IT: "Amazon ti ha rimandato indietro senza le informazioni di cui abbiamo bisogno.",
        _JA: "Amazon から必要な情報が届きませんでした。",
    },
    "failure.state_unknown.heading": {
        _EN: "This sign-in cannot be completed",
        _DE: "Diese Anmeldung kann nicht abgeschlossen werden",
        _FR: "Cette connexion ne peut pas être finalisée",
        _ES: "No se puede completar este inicio de sesión",
        _IT: "Questo accesso non può essere completato",
        _JA: "このサインインは完了できません",
    },
    "failure.state_unknown.message": {
        _EN: "This sign-in response is unknown or was already used.",
        _DE: "Diese Anmeldeantwort ist unbekannt oder wurde bereits verwendet.",
        _FR: "Cette réponse de connexion est inconnue ou a déjà été utilisée.",
        _ES: "Esta respuesta de inicio de sesión es desconocida o ya se ha utilizado.",
        _IT: "Questa risposta di accesso è sconosciuta o è già stata usata.",
        _JA: "このサインインの応答は不明か、すでに使用されています。",
    },
    "failure.state_expired.heading": {
        _EN: "This sign-in took too long",
        _DE: "Diese Anmeldung hat zu lange gedauert",
        _FR: "Cette connexion a pris trop de temps",
        _ES: "Este inicio de sesión ha tardado demasiado",
        _IT: "Questo accesso ha richiesto troppo tempo",
        _JA: "サインインに時間がかかりすぎました",
    },
    "failure.state_expired.message": {
        _EN: "The sign-in must be completed within 10 minutes.",
        _DE: "Die Anmeldung muss innerhalb von 10 Minuten abgeschlossen werden.",
        _FR: "La connexion doit être finalisée en moins de 10 minutes.",
        _ES: "El inicio de sesión debe completarse en 10 minutos.",
        _IT: "L'accesso deve essere completato entro 10 minuti.",
        _JA: "サインインは 10 分以内に完了する必要があります。",
    },
    "failure.state_other_browser.heading": {
        _EN: "Please finish in the same browser",
        _DE: "Bitte schließen Sie im selben Browser ab",
        _FR: "Veuillez terminer dans le même navigateur",
        _ES: "Termine en el mismo navegador",
        _IT: "Completa nello stesso browser",
        _JA: "同じブラウザーで完了してください",
    },
    "failure.state_other_browser.message": {
        _EN: "The sign-in was started in another browser or with cookies blocked.",
        _DE: "Die Anmeldung wurde in einem anderen Browser oder mit blockierten Cookies begonnen.",
        _FR: "La connexion a été commencée dans un autre navigateur ou avec les cookies bloqués.",
        _ES: "El inicio de sesión se empezó en otro navegador o con las cookies bloqueadas.",
        _IT: "L'accesso è stato avviato in un altro browser o con i cookie bloccati.",
        _JA: "サインインが別のブラウザー、または Cookie がブロックされた状態で開始されました。",
    },
    "failure.state_other_browser.hint": {
        _EN: "Start again from the link in this browser, with cookies allowed for this site.",
        _DE: "Beginnen Sie in diesem Browser erneut mit dem Link und erlauben Sie Cookies für diese Website.",
        _FR: "Recommencez depuis le lien dans ce navigateur, en autorisant les cookies pour ce site.",
        _ES: "Vuelva a empezar desde el enlace en este navegador, con las cookies permitidas para este "
        "sitio.",
        _IT: "Ricomincia dal link in questo browser, con i cookie consentiti per questo sito.",
        _JA: "このサイトの Cookie を許可したうえで、このブラウザーでリンクからやり直してください。",
    },
    "failure.cookie_conflict.heading": {
        _EN: "Please start again",
        _DE: "Bitte beginnen Sie erneut",
        _FR: "Veuillez recommencer",
        _ES: "Vuelva a empezar",
        _IT: "Ricomincia",
        _JA: "もう一度やり直してください",
    },
    "failure.cookie_conflict.message": {
        _EN: "Your browser sent this site's sign-in cookie in a form we cannot trust, so nothing was "
        "started or connected.",
        _DE: "Ihr Browser hat das Anmelde-Cookie dieser Website in einer Form gesendet, der wir nicht "
        "vertrauen können, daher wurde nichts gestartet oder verbunden.",
        _FR: "Votre navigateur a envoyé le cookie de connexion de ce site sous une forme à laquelle "
        "nous ne pouvons pas nous fier : rien n'a été lancé ni connecté.",
        _ES: "Su navegador envió la cookie de inicio de sesión de este sitio en una forma en la que "
        "no podemos confiar, así que no se ha iniciado ni conectado nada.",
        _IT: "Il tuo browser ha inviato il cookie di accesso di questo sito in una forma di cui non "
        "possiamo fidarci, quindi non è stato avviato né collegato nulla.",
        _JA: "ブラウザーから、このサイトのサインイン Cookie が信頼できない形式で送信されたため、"
        "何も開始・接続されていません。",
    },
    "failure.cookie_conflict.hint": {
        _EN: "Clear this site's cookies (or use a private window) and start again from the link you "
        "were given.",
        _DE: "Löschen Sie die Cookies dieser Website (oder nutzen Sie ein privates Fenster) und "
        "beginnen Sie erneut mit dem Link, den Sie erhalten haben.",
        _FR: "Effacez les cookies de ce site (ou utilisez une fenêtre de navigation privée) et "
        "recommencez à partir du lien que vous avez reçu.",
        _ES: "Borre las cookies de este sitio (o use una ventana privada) y vuelva a empezar desde "
        "el enlace que recibió.",
        _IT: "Cancella i cookie di questo sito (o usa una finestra privata) e ricomincia dal link "
        "che hai ricevuto.",
        _JA: "このサイトの Cookie を削除して（またはプライベートウィンドウを使って）、"
        "受け取ったリンクからもう一度やり直してください。",
    },
    "failure.consent_denied.heading": {
        _EN: "No access was granted",
        _DE: "Es wurde kein Zugriff gewährt",
        _FR: "Aucun accès n'a été accordé",
        _ES: "No se ha concedido acceso",
        _IT: "Nessun accesso è stato concesso",
        _JA: "アクセスは許可されませんでした",
    },
    "failure.consent_denied.message": {
        _EN: "You chose not to allow access to your Amazon Ads account. Nothing was connected.",
        _DE: "Sie haben den Zugriff auf Ihr Amazon Ads-Konto nicht erlaubt. Es wurde nichts verbunden.",
        _FR: "Vous avez choisi de ne pas autoriser l'accès à votre compte Amazon Ads. Rien n'a été connecté.",
        _ES: "Ha decidido no permitir el acceso a su cuenta de Amazon Ads. No se ha conectado nada.",
        _IT: "Hai scelto di non consentire l'accesso al tuo account Amazon Ads. Non è stato collegato nulla.",
        _JA: "Amazon Ads アカウントへのアクセスを許可しませんでした。何も接続されていません。",
    },
    "failure.consent_denied.hint": {
        _EN: "If that was a mistake, start again from the link you were given.",
        _DE: "Falls das ein Versehen war, beginnen Sie erneut mit dem Link, den Sie erhalten haben.",
        _FR: "S'il s'agit d'une erreur, recommencez à partir du lien que vous avez reçu.",
        _ES: "Si fue un error, vuelva a empezar desde el enlace que recibió.",
        _IT: "Se si è trattato di un errore, ricomincia dal link che hai ricevuto.",
        _JA: "誤って操作した場合は、受け取ったリンクからもう一度やり直してください。",
    },
    "failure.app_not_approved.heading": {
        _EN: "This application is not approved for Amazon Ads yet",
        _DE: "Diese Anwendung ist noch nicht für Amazon Ads freigegeben",
        _FR: "Cette application n'est pas encore approuvée pour Amazon Ads",
        _ES: "Esta aplicación aún no está aprobada para Amazon Ads",
        _IT: "Questa applicazione non è ancora approvata per Amazon Ads",
        _JA: "このアプリケーションはまだ Amazon Ads の承認を受けていません",
    },
    "failure.app_not_approved.message": {
        _EN: "Amazon answered invalid_scope: the application's Login with Amazon profile is not "
        "(yet) approved and linked for the Amazon Ads API.",
        _DE: "Amazon antwortete invalid_scope: Das Login-with-Amazon-Profil der Anwendung ist "
        "(noch) nicht für die Amazon Ads API freigegeben und verknüpft.",
        _FR: "Amazon a répondu invalid_scope : le profil Login with Amazon de l'application n'est "
        "pas (encore) approuvé ni lié à l'API Amazon Ads.",
        _ES: "Amazon respondió invalid_scope: el perfil de Login with Amazon de la aplicación "
        "(todavía) no está aprobado ni vinculado a la API de Amazon Ads.",
        _IT: "Amazon ha risposto invalid_scope: il profilo Login with Amazon dell'applicazione "
        "non è (ancora) approvato e collegato all'API Amazon Ads.",
        _JA: "Amazon から invalid_scope が返されました。アプリケーションの Login with Amazon "
        "プロファイルが Amazon Ads API 用に（まだ）承認・リンクされていません。",
    },
    "failure.app_not_approved.hint": {
        _EN: "For the operator: apply for Ads API access and link the approved application to "
        "this Security Profile (see the deployment guide). Nothing is wrong with your account.",
        _DE: "Für den Betreiber: Ads-API-Zugang beantragen und die freigegebene Anwendung mit "
        "diesem Security Profile verknüpfen (siehe Deployment-Anleitung). Mit Ihrem Konto ist "
        "alles in Ordnung.",
        _FR: "Pour l'opérateur : demandez l'accès à l'API Ads et liez l'application approuvée à "
        "ce Security Profile (voir le guide de déploiement). Votre compte n'est pas en cause.",
        _ES: "Para el operador: solicite acceso a la API de Ads y vincule la aplicación aprobada a "
        "este Security Profile (consulte la guía de despliegue). Su cuenta no tiene ningún problema.",
        _IT: "Per l'operatore: richiedi l'accesso all'API Ads e collega l'applicazione approvata "
        "a questo Security Profile (vedi la guida al deployment). Il tuo account non ha problemi.",
        _JA: "運営者の方へ: Ads API へのアクセスを申請し、"
        "承認されたアプリケーションをこの Security Profile にリンクしてください（デプロイガイドを参照）。"
        "お客様のアカウントに問題はありません。",
    },
    "failure.amazon_error.heading": {
        _EN: "Amazon could not complete the sign-in",
        _DE: "Amazon konnte die Anmeldung nicht abschließen",
        _FR: "Amazon n'a pas pu finaliser la connexion",
        _ES: "Amazon no ha podido completar el inicio de sesión",
        _IT: "Amazon non ha potuto completare l'accesso",
        _JA: "Amazon でサインインを完了できませんでした",
    },
    "failure.amazon_error.message": {
        _EN: "Amazon returned an error.",
        _DE: "Amazon hat einen Fehler gemeldet.",
        _FR: "Amazon a renvoyé une erreur.",
        _ES: "Amazon ha devuelto un error.",
        _IT: "Amazon ha restituito un errore.",
        _JA: "Amazon からエラーが返されました。",
    },
    "failure.code_rejected.heading": {
        _EN: "Amazon did not accept this sign-in",
        _DE: "Amazon hat diese Anmeldung nicht akzeptiert",
        _FR: "Amazon n'a pas accepté cette connexion",
        _ES: "Amazon no ha aceptado este inicio de sesión",
        _IT: "Amazon non ha accettato questo accesso",
        _JA: "Amazon はこのサインインを受け付けませんでした",
    },
    "failure.code_rejected.message": {
        _EN: "The sign-in code expired or was already used.",
        _DE: "Der Anmeldecode ist abgelaufen oder wurde bereits verwendet.",
        _FR: "Le code de connexion a expiré ou a déjà été utilisé.",
        _ES: "El código de inicio de sesión ha caducado o ya se ha utilizado.",
        _IT: "Il codice di accesso è scaduto o è già stato usato.",
        _JA: "サインインコードの有効期限が切れたか、すでに使用されています。",
    },
    "failure.amazon_unreachable.heading": {
        _EN: "Amazon is not answering",
        _DE: "Amazon antwortet nicht",
        _FR: "Amazon ne répond pas",
        _ES: "Amazon no responde",
        _IT: "Amazon non risponde",
        _JA: "Amazon から応答がありません",
    },
    "failure.amazon_unreachable.message": {
        _EN: "We could not reach Amazon to finish connecting your account.",
        _DE: "Wir konnten Amazon nicht erreichen, um Ihr Konto fertig zu verbinden.",
        _FR: "Nous n'avons pas pu joindre Amazon pour terminer la connexion de votre compte.",
        _ES: "No hemos podido contactar con Amazon para terminar de conectar su cuenta.",
        _IT: "Non siamo riusciti a contattare Amazon per completare il collegamento del tuo account.",
        _JA: "アカウントの接続を完了するために Amazon に接続できませんでした。",
    },
    "failure.amazon_unreachable.hint": {
        _EN: "Please try again in a few minutes from the link you were given.",
        _DE: "Bitte versuchen Sie es in ein paar Minuten erneut mit dem Link, den Sie erhalten haben.",
        _FR: "Veuillez réessayer dans quelques minutes à partir du lien que vous avez reçu.",
        _ES: "Vuelva a intentarlo dentro de unos minutos desde el enlace que recibió.",
        _IT: "Riprova tra qualche minuto dal link che hai ricevuto.",
        _JA: "数分後に、受け取ったリンクからもう一度お試しください。",
    },
    "failure.client_not_configured.heading": {
        _EN: "Connecting is not available yet",
        _DE: "Verbinden ist noch nicht möglich",
        _FR: "La connexion n'est pas encore disponible",
        _ES: "La conexión aún no está disponible",
        _IT: "Il collegamento non è ancora disponibile",
        _JA: "接続はまだご利用いただけません",
    },
    "failure.client_not_configured.message": {
        _EN: "The operator has not finished setting up the Amazon application.",
        _DE: "Der Betreiber hat die Einrichtung der Amazon-Anwendung noch nicht abgeschlossen.",
        _FR: "L'opérateur n'a pas fini de configurer l'application Amazon.",
        _ES: "El operador no ha terminado de configurar la aplicación de Amazon.",
        _IT: "L'operatore non ha ancora completato la configurazione dell'applicazione Amazon.",
        _JA: "運営者が Amazon アプリケーションの設定を完了していません。",
    },
    "failure.client_not_configured.hint": {
        _EN: "For the operator: fill in the LWA client id and secret (see the deployment guide).",
        _DE: "Für den Betreiber: LWA-Client-ID und -Secret eintragen (siehe Deployment-Anleitung).",
        _FR: "Pour l'opérateur : renseignez l'identifiant et le secret client LWA (voir le guide de "
        "déploiement).",
        _ES: "Para el operador: introduzca el ID y el secreto de cliente de LWA (consulte la guía de "
        "despliegue).",
        _IT: "Per l'operatore: inserisci l'ID client e il segreto LWA (vedi la guida al deployment).",
        _JA: "運営者の方へ: LWA のクライアント ID とシークレットを設定してください（デプロイガイドを参照）。",
    },
    "failure.client_rejected.heading": {
        _EN: "Connecting is not available right now",
        _DE: "Verbinden ist gerade nicht möglich",
        _FR: "La connexion n'est pas disponible pour le moment",
        _ES: "La conexión no está disponible en este momento",
        _IT: "Il collegamento non è disponibile al momento",
        _JA: "現在、接続はご利用いただけません",
    },
    "failure.client_rejected.message": {
        _EN: "Amazon did not accept the application's credentials.",
        _DE: "Amazon hat die Zugangsdaten der Anwendung nicht akzeptiert.",
        _FR: "Amazon n'a pas accepté les identifiants de l'application.",
        _ES: "Amazon no ha aceptado las credenciales de la aplicación.",
        _IT: "Amazon non ha accettato le credenziali dell'applicazione.",
        _JA: "Amazon がアプリケーションの認証情報を受け付けませんでした。",
    },
    "failure.client_rejected.hint": {
        _EN: "For the operator: the LWA client secret is wrong or was rotated; set the current one.",
        _DE: "Für den Betreiber: Das LWA-Client-Secret ist falsch oder wurde rotiert; tragen Sie das "
        "aktuelle ein.",
        _FR: "Pour l'opérateur : le secret client LWA est erroné ou a été renouvelé ; renseignez l'actuel.",
        _ES: "Para el operador: el secreto de cliente de LWA es incorrecto o se ha rotado; introduzca el "
        "actual.",
        _IT: "Per l'operatore: il segreto client LWA è errato o è stato ruotato; inserisci quello attuale.",
        _JA: "運営者の方へ: LWA のクライアントシークレットが誤っているか更新されています。"
        "現在のものを設定してください。",
    },
    "failure.connection_busy.heading": {
        _EN: "Please try again in a minute",
        _DE: "Bitte versuchen Sie es in einer Minute erneut",
        _FR: "Veuillez réessayer dans une minute",
        _ES: "Vuelva a intentarlo en un minuto",
        _IT: "Riprova tra un minuto",
        _JA: "1 分後にもう一度お試しください",
    },
    "failure.connection_busy.message": {
        _EN: "Your account is being updated by another request right now, so nothing was changed.",
        _DE: "Ihr Konto wird gerade von einer anderen Anfrage aktualisiert, daher wurde nichts geändert.",
        _FR: "Votre compte est en cours de mise à jour par une autre demande : rien n'a été modifié.",
        _ES: "Otra solicitud está actualizando su cuenta en este momento, así que no se ha cambiado nada.",
        _IT: "Il tuo account è in fase di aggiornamento da un'altra richiesta, quindi non è stato "
        "modificato nulla.",
        _JA: "現在、別のリクエストでアカウントを更新中のため、何も変更されていません。",
    },
    "failure.connection_busy.hint": {
        _EN: "Start again from the link you were given in a minute.",
        _DE: "Beginnen Sie in einer Minute erneut mit dem Link, den Sie erhalten haben.",
        _FR: "Recommencez dans une minute à partir du lien que vous avez reçu.",
        _ES: "Vuelva a empezar dentro de un minuto desde el enlace que recibió.",
        _IT: "Tra un minuto ricomincia dal link che hai ricevuto.",
        _JA: "1 分後に、受け取ったリンクからもう一度やり直してください。",
    },
    "failure.reconsent_not_saved.heading": {
        _EN: "Your account was not reconnected",
        _DE: "Ihr Konto wurde nicht erneut verbunden",
        _FR: "Votre compte n'a pas été reconnecté",
        _ES: "Su cuenta no se ha vuelto a conectar",
        _IT: "Il tuo account non è stato ricollegato",
        _JA: "アカウントは再接続されませんでした",
    },
    "failure.reconsent_not_saved.message": {
        _EN: (
            "Something failed on our side while saving the new connection. Your existing connection "
            "is unchanged and keeps working."
        ),
        _DE: (
            "Beim Speichern der neuen Verbindung ist bei uns etwas fehlgeschlagen. Ihre bestehende "
            "Verbindung ist unverändert und funktioniert weiter."
        ),
        _FR: (
            "Un problème de notre côté a empêché d'enregistrer la nouvelle connexion. Votre connexion "
            "existante est inchangée et continue de fonctionner."
        ),
        _ES: (
            "Algo falló por nuestra parte al guardar la nueva conexión. Su conexión existente no ha "
            "cambiado y sigue funcionando."
        ),
        _IT: (
            "Qualcosa non ha funzionato da parte nostra nel salvare il nuovo collegamento. Il "
            "collegamento esistente è invariato e continua a funzionare."
        ),
        _JA: (
            "新しい接続の保存中に当社側で問題が発生しました。"
            "既存の接続は変更されておらず、引き続き機能します。"
        ),
    },
    "failure.reconsent_not_saved.hint": {
        _EN: "Open the link again in a few minutes to finish reconnecting.",
        _DE: "Öffnen Sie den Link in einigen Minuten erneut, um die Verbindung abzuschließen.",
        _FR: "Rouvrez le lien dans quelques minutes pour terminer la reconnexion.",
        _ES: "Vuelva a abrir el enlace dentro de unos minutos para terminar de reconectar.",
        _IT: "Riapri il link tra qualche minuto per completare il ricollegamento.",
        _JA: "数分後にもう一度リンクを開いて、再接続を完了してください。",
    },
    "failure.reconnect_not_saved.heading": {
        _EN: "Your account was not reconnected",
        _DE: "Ihr Konto wurde nicht erneut verbunden",
        _FR: "Votre compte n'a pas été reconnecté",
        _ES: "Su cuenta no se ha vuelto a conectar",
        _IT: "Il tuo account non è stato ricollegato",
        _JA: "アカウントは再接続されませんでした",
    },
    "failure.reconnect_not_saved.message": {
        _EN: (
            "Something failed on our side while saving the new connection. Your account is still "
            "not connected."
        ),
        _DE: (
            "Beim Speichern der neuen Verbindung ist bei uns etwas fehlgeschlagen. Ihr Konto ist "
            "weiterhin nicht verbunden."
        ),
        _FR: (
            "Un problème de notre côté a empêché d'enregistrer la nouvelle connexion. Votre compte "
            "n'est toujours pas connecté."
        ),
        _ES: (
            "Algo falló por nuestra parte al guardar la nueva conexión. Su cuenta sigue sin estar conectada."
        ),
        _IT: (
            "Qualcosa non ha funzionato da parte nostra nel salvare il nuovo collegamento. Il tuo "
            "account non è ancora collegato."
        ),
        _JA: "新しい接続の保存中に当社側で問題が発生しました。アカウントはまだ接続されていません。",
    },
    "failure.session_in_progress.heading": {
        _EN: "This link is already being used",
        _DE: "Dieser Link wird bereits verwendet",
        _FR: "Ce lien est déjà en cours d'utilisation",
        _ES: "Este enlace ya se está utilizando",
        _IT: "Questo link è già in uso",
        _JA: "このリンクは現在使用中です",
    },
    "failure.session_in_progress.message": {
        _EN: "Another sign-in from this connection link is being completed right now, so this one was not "
        "used.",
        _DE: "Eine andere Anmeldung über diesen Verbindungslink wird gerade abgeschlossen, daher "
        "wurde diese nicht verwendet.",
        _FR: "Une autre connexion depuis ce lien est en cours de finalisation : celle-ci n'a pas été "
        "utilisée.",
        _ES: "Se está completando otro inicio de sesión desde este enlace de conexión, así que este no se "
        "ha utilizado.",
        _IT: "Un altro accesso da questo link di collegamento è in corso di completamento, quindi "
        "questo non è stato usato.",
        _JA: "この接続リンクからの別のサインインが現在処理中のため、今回のサインインは使用されませんでした。",
    },
    "failure.session_in_progress.hint": {
        _EN: "Wait a minute, then open the link again: it shows whether your account is connected.",
        _DE: "Warten Sie eine Minute und öffnen Sie den Link erneut: Er zeigt, ob Ihr Konto verbunden ist.",
        _FR: "Attendez une minute, puis rouvrez le lien : il indique si votre compte est connecté.",
        _ES: "Espere un minuto y vuelva a abrir el enlace: le mostrará si su cuenta está conectada.",
        _IT: "Attendi un minuto, poi riapri il link: ti mostrerà se il tuo account è collegato.",
        _JA: "1 分待ってからリンクをもう一度開いてください。アカウントが接続されたかどうかが表示されます。",
    },
    "failure.result_unknown.heading": {
        _EN: "Nothing to show",
        _DE: "Nichts anzuzeigen",
        _FR: "Rien à afficher",
        _ES: "Nada que mostrar",
        _IT: "Niente da mostrare",
        _JA: "表示する内容がありません",
    },
    "failure.result_unknown.message": {
        _EN: "This result page is unknown, expired, or belongs to another browser.",
        _DE: "Diese Ergebnisseite ist unbekannt, abgelaufen oder gehört zu einem anderen Browser.",
        _FR: "Cette page de résultat est inconnue, a expiré ou appartient à un autre navigateur.",
        _ES: "Esta página de resultados es desconocida, ha caducado o pertenece a otro navegador.",
        _IT: "Questa pagina dei risultati è sconosciuta, scaduta o appartiene a un altro browser.",
        _JA: "この結果ページは不明か、期限切れか、別のブラウザーのものです。",
    },
    "failure.bad_request.heading": {
        _EN: "This request cannot be handled",
        _DE: "Diese Anfrage kann nicht bearbeitet werden",
        _FR: "Cette demande ne peut pas être traitée",
        _ES: "No se puede procesar esta solicitud",
        _IT: "Questa richiesta non può essere gestita",
        _JA: "このリクエストは処理できません",
    },
    "failure.bad_request.message": {
        _EN: "The request was malformed.",
        _DE: "Die Anfrage war fehlerhaft.",
        _FR: "La demande était mal formée.",
        _ES: "La solicitud no tenía un formato válido.",
        _IT: "La richiesta non era valida.",
        _JA: "リクエストの形式が正しくありません。",
    },
    "failure.not_found.heading": {
        _EN: "Page not found",
        _DE: "Seite nicht gefunden",
        _FR: "Page introuvable",
        _ES: "Página no encontrada",
        _IT: "Pagina non trovata",
        _JA: "ページが見つかりません",
    },
    "failure.not_found.message": {
        _EN: "There is no page at this address.",
        _DE: "Unter dieser Adresse gibt es keine Seite.",
        _FR: "Il n'y a aucune page à cette adresse.",
        _ES: "No hay ninguna página en esta dirección.",
        _IT: "Non esiste alcuna pagina a questo indirizzo.",
        _JA: "このアドレスにページはありません。",
    },
    "failure.method_not_allowed.heading": {
        _EN: "Not allowed",
        _DE: "Nicht erlaubt",
        _FR: "Non autorisé",
        _ES: "No permitido",
        _IT: "Non consentito",
        _JA: "許可されていません",
    },
    "failure.method_not_allowed.message": {
        _EN: "This page cannot be used that way.",
        _DE: "Diese Seite kann so nicht verwendet werden.",
        _FR: "Cette page ne peut pas être utilisée de cette façon.",
        _ES: "Esta página no se puede usar de esa manera.",
        _IT: "Questa pagina non può essere usata in questo modo.",
        _JA: "このページはその方法では使用できません。",
    },
    "failure.internal.heading": {
        _EN: "Something went wrong",
        _DE: "Etwas ist schiefgelaufen",
        _FR: "Une erreur s'est produite",
        _ES: "Algo ha salido mal",
        _IT: "Qualcosa è andato storto",
        _JA: "問題が発生しました",
    },
    "failure.internal.message": {
        _EN: "We could not finish this request. Nothing was changed by the failed step.",
        _DE: "Wir konnten diese Anfrage nicht abschließen. Der fehlgeschlagene Schritt hat nichts geändert.",
        _FR: "Nous n'avons pas pu terminer cette demande. L'étape qui a échoué n'a rien modifié.",
        _ES: "No hemos podido completar esta solicitud. El paso fallido no ha cambiado nada.",
        _IT: "Non siamo riusciti a completare questa richiesta. Il passaggio non riuscito non ha modificato "
        "nulla.",
        _JA: "このリクエストを完了できませんでした。失敗した処理によって変更されたものはありません。",
    },
}


def text(key: str, language: Language) -> str:
    """The raw text (placeholders unfilled) of one message in one language."""
    return TEXT[key][language]
