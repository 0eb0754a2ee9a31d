"""The built-in templates: every kind in English, German and French, under the kind's default
name (templates_model.default_name). An admin's saved template of the same kind, name and
locale replaces one; deleting it brings the built-in one back.

The emails are one layout: inline styles, tables, no images, scripts or external resources
(mail clients strip or block them), at most 600 px wide and fluid below that, and a footer
saying whose program it is, why the member receives it and how to unsubscribe. Copy is plain
Jinja (no markup): the HTML part autoescapes every value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from api.nudges.rules_model import NudgeKind
from api.nudges.templates_model import NudgeTemplate, default_name

LOCALES = ("en", "de", "fr")


@dataclass(frozen=True)
class _Copy:
    subject: str
    heading: str
    body: str
    button: str
    push_title: str
    push_body: str
    sms: str  # before the unsubscribe link


@dataclass(frozen=True)
class _Frame:
    hello: str  # with a name
    hello_anonymous: str
    why: str
    unsubscribe: str
    stop: str  # SMS: before the unsubscribe link
    colon: str = ":"  # between a label and its link in the text part


_FRAMES = {
    "en": _Frame(
        "Hi {{ member_name }},",
        "Hi,",
        "You receive this email because you are a member of the {{ shop_name }} loyalty "
        "program and agreed to hear from us.",
        "Unsubscribe",
        "Stop:",
    ),
    "de": _Frame(
        "Hallo {{ member_name }},",
        "Hallo,",
        "Sie erhalten diese E-Mail, weil Sie Mitglied im Treueprogramm von {{ shop_name }} "
        "sind und Nachrichten von uns zugestimmt haben.",
        "Abmelden",
        "Abmelden:",
    ),
    "fr": _Frame(
        "Bonjour {{ member_name }},",
        "Bonjour,",
        "Vous recevez cet e-mail parce que vous êtes membre du programme de fidélité de "
        "{{ shop_name }} et avez accepté de recevoir nos messages.",
        "Se désabonner",
        "STOP :",
        " :",
    ),
}

_COPY: dict[NudgeKind, dict[str, _Copy]] = {
    NudgeKind.POINTS_EXPIRING: {
        "en": _Copy(
            "{{ points|number }} points expire on {{ expires_on|date }}",
            "Your points are about to expire",
            "{{ points|number }} of your points expire on {{ expires_on|date }}. You have "
            "{{ balance|number }} points in total: use them before then so none go to waste.",
            "Use my points",
            "Your points expire soon",
            "{{ points|number }} points expire on {{ expires_on|date }}. Use them before "
            "they are gone.",
            "{{ shop_name }}: {{ points|number }} of your points expire on "
            "{{ expires_on|date }}. Use them: {{ links.action }}",
        ),
        "de": _Copy(
            "{{ points|number }} Punkte verfallen am {{ expires_on|date }}",
            "Ihre Punkte verfallen bald",
            "{{ points|number }} Ihrer Punkte verfallen am {{ expires_on|date }}. Sie haben "
            "insgesamt {{ balance|number }} Punkte: Lösen Sie sie vorher ein, damit keiner "
            "verloren geht.",
            "Punkte einlösen",
            "Ihre Punkte verfallen bald",
            "{{ points|number }} Punkte verfallen am {{ expires_on|date }}. Jetzt einlösen, "
            "bevor sie weg sind.",
            "{{ shop_name }}: {{ points|number }} Ihrer Punkte verfallen am "
            "{{ expires_on|date }}. Jetzt einlösen: {{ links.action }}",
        ),
        "fr": _Copy(
            "{{ points|number }} points expirent le {{ expires_on|date }}",
            "Vos points vont bientôt expirer",
            "{{ points|number }} de vos points expirent le {{ expires_on|date }}. Vous avez "
            "{{ balance|number }} points au total : utilisez-les d\u2019ici là pour "
            "n\u2019en perdre aucun.",
            "Utiliser mes points",
            "Vos points expirent bientôt",
            "{{ points|number }} points expirent le {{ expires_on|date }}. Utilisez-les avant "
            "qu\u2019il ne soit trop tard.",
            "{{ shop_name }} : {{ points|number }} de vos points expirent le "
            "{{ expires_on|date }}. Utilisez-les : {{ links.action }}",
        ),
    },
    NudgeKind.TIER_AT_RISK: {
        "en": _Copy(
            "Keep your {{ tier }} status",
            "Your {{ tier }} status is at risk",
            "Your tier is reviewed on {{ review_on|date }}. Earn {{ points_needed|number }} "
            "more points by then to stay {{ tier }} and keep your benefits.",
            "Shop now",
            "Keep your {{ tier }} status",
            "Earn {{ points_needed|number }} more points by {{ review_on|date }} to stay "
            "{{ tier }}.",
            "{{ shop_name }}: earn {{ points_needed|number }} more points by "
            "{{ review_on|date }} to keep your {{ tier }} status. {{ links.action }}",
        ),
        "de": _Copy(
            "Behalten Sie Ihren Status {{ tier }}",
            "Ihr Status {{ tier }} ist in Gefahr",
            "Ihr Status wird am {{ review_on|date }} überprüft. Sammeln Sie bis dahin noch "
            "{{ points_needed|number }} Punkte, um {{ tier }} zu bleiben und Ihre Vorteile zu "
            "behalten.",
            "Jetzt einkaufen",
            "Status {{ tier }} behalten",
            "Noch {{ points_needed|number }} Punkte bis zum {{ review_on|date }}, um "
            "{{ tier }} zu bleiben.",
            "{{ shop_name }}: Sammeln Sie bis zum {{ review_on|date }} noch "
            "{{ points_needed|number }} Punkte, um Ihren Status {{ tier }} zu behalten. "
            "{{ links.action }}",
        ),
        "fr": _Copy(
            "Conservez votre statut {{ tier }}",
            "Votre statut {{ tier }} est menacé",
            "Votre statut sera réévalué le {{ review_on|date }}. Cumulez encore "
            "{{ points_needed|number }} points d\u2019ici là pour rester {{ tier }} et garder vos "
            "avantages.",
            "Faire mes achats",
            "Conservez votre statut {{ tier }}",
            "Encore {{ points_needed|number }} points d\u2019ici le {{ review_on|date }} pour "
            "rester {{ tier }}.",
            "{{ shop_name }} : cumulez {{ points_needed|number }} points d\u2019ici le "
            "{{ review_on|date }} pour garder votre statut {{ tier }}. {{ links.action }}",
        ),
    },
    NudgeKind.REWARD_AFFORDABLE: {
        "en": _Copy(
            "You can now get {{ reward }}",
            "Your points are enough for {{ reward }}",
            "You have {{ balance|number }} points, and {{ reward }} costs {{ cost|number }}. "
            "Treat yourself: it is yours in a few clicks.",
            "Get my reward",
            "{{ reward }} is within reach",
            "You have {{ balance|number }} points: enough for {{ reward }} "
            "({{ cost|number }} points).",
            "{{ shop_name }}: you have {{ balance|number }} points, enough for {{ reward }}. "
            "Redeem: {{ links.action }}",
        ),
        "de": _Copy(
            "Sie können sich jetzt {{ reward }} holen",
            "Ihre Punkte reichen für {{ reward }}",
            "Sie haben {{ balance|number }} Punkte, und {{ reward }} kostet "
            "{{ cost|number }}. Gönnen Sie sich etwas: Mit wenigen Klicks gehört die Prämie "
            "Ihnen.",
            "Prämie einlösen",
            "{{ reward }} ist in Reichweite",
            "Sie haben {{ balance|number }} Punkte: genug für {{ reward }} "
            "({{ cost|number }} Punkte).",
            "{{ shop_name }}: Sie haben {{ balance|number }} Punkte, genug für {{ reward }}. "
            "Einlösen: {{ links.action }}",
        ),
        "fr": _Copy(
            "{{ reward }} est à votre portée",
            "Vos points suffisent pour {{ reward }}",
            "Vous avez {{ balance|number }} points et {{ reward }} en coûte "
            "{{ cost|number }}. Faites-vous plaisir : la récompense est à vous en quelques "
            "clics.",
            "Obtenir ma récompense",
            "{{ reward }} est à votre portée",
            "Vous avez {{ balance|number }} points : assez pour {{ reward }} "
            "({{ cost|number }} points).",
            "{{ shop_name }} : vous avez {{ balance|number }} points, assez pour "
            "{{ reward }}. En profiter : {{ links.action }}",
        ),
    },
    NudgeKind.CLOSE_TO_NEXT_TIER: {
        "en": _Copy(
            "Only {{ points_needed|number }} points to {{ tier }}",
            "You are close to {{ tier }}",
            "Just {{ points_needed|number }} more points and you reach {{ tier }}, with all "
            "the benefits that come with it.",
            "Shop now",
            "Almost {{ tier }}!",
            "Only {{ points_needed|number }} points to go until you reach {{ tier }}.",
            "{{ shop_name }}: only {{ points_needed|number }} points until you reach "
            "{{ tier }}. {{ links.action }}",
        ),
        "de": _Copy(
            "Nur noch {{ points_needed|number }} Punkte bis {{ tier }}",
            "{{ tier }} ist zum Greifen nah",
            "Nur noch {{ points_needed|number }} Punkte, und Sie erreichen {{ tier }} mit "
            "allen Vorteilen, die dazugehören.",
            "Jetzt einkaufen",
            "Fast {{ tier }}!",
            "Nur noch {{ points_needed|number }} Punkte bis {{ tier }}.",
            "{{ shop_name }}: Nur noch {{ points_needed|number }} Punkte bis {{ tier }}. "
            "{{ links.action }}",
        ),
        "fr": _Copy(
            "Plus que {{ points_needed|number }} points avant {{ tier }}",
            "{{ tier }} est tout proche",
            "Encore {{ points_needed|number }} points et vous atteignez {{ tier }}, avec tous "
            "les avantages qui vont avec.",
            "Faire mes achats",
            "Presque {{ tier }} !",
            "Plus que {{ points_needed|number }} points avant {{ tier }}.",
            "{{ shop_name }} : plus que {{ points_needed|number }} points avant {{ tier }}. "
            "{{ links.action }}",
        ),
    },
    NudgeKind.BIRTHDAY: {
        "en": _Copy(
            "Happy birthday from {{ shop_name }}!",
            "Happy birthday!",
            "{% if bonus_points %}To celebrate, we have added {{ bonus_points|number }} bonus "
            "points to your account: you now have {{ balance|number }} points.{% else %}"
            "Everyone at {{ shop_name }} wishes you a wonderful day. You have "
            "{{ balance|number }} points waiting for you.{% endif %}",
            "Treat yourself",
            "Happy birthday!",
            "{% if bonus_points %}{{ bonus_points|number }} bonus points are waiting for you."
            "{% else %}Have a wonderful day, from all of us at {{ shop_name }}.{% endif %}",
            "{{ shop_name }}: happy birthday!{% if bonus_points %} "
            "{{ bonus_points|number }} bonus points are in your account.{% endif %} "
            "{{ links.action }}",
        ),
        "de": _Copy(
            "Alles Gute zum Geburtstag von {{ shop_name }}!",
            "Alles Gute zum Geburtstag!",
            "{% if bonus_points %}Zur Feier des Tages haben wir Ihrem Konto "
            "{{ bonus_points|number }} Bonuspunkte gutgeschrieben: Sie haben jetzt "
            "{{ balance|number }} Punkte.{% else %}Das ganze Team von {{ shop_name }} wünscht "
            "Ihnen einen wunderschönen Tag. {{ balance|number }} Punkte warten auf Sie."
            "{% endif %}",
            "Gönnen Sie sich etwas",
            "Alles Gute zum Geburtstag!",
            "{% if bonus_points %}{{ bonus_points|number }} Bonuspunkte warten auf Sie."
            "{% else %}Einen wunderschönen Tag wünscht Ihnen {{ shop_name }}.{% endif %}",
            "{{ shop_name }}: Alles Gute zum Geburtstag!{% if bonus_points %} "
            "{{ bonus_points|number }} Bonuspunkte sind auf Ihrem Konto.{% endif %} "
            "{{ links.action }}",
        ),
        "fr": _Copy(
            "Joyeux anniversaire de la part de {{ shop_name }} !",
            "Joyeux anniversaire !",
            "{% if bonus_points %}Pour fêter ça, nous avons ajouté {{ bonus_points|number }} "
            "points bonus à votre compte : vous avez maintenant {{ balance|number }} points."
            "{% else %}Toute l\u2019équipe de {{ shop_name }} vous souhaite une excellente "
            "journée. {{ balance|number }} points vous attendent.{% endif %}",
            "Se faire plaisir",
            "Joyeux anniversaire !",
            "{% if bonus_points %}{{ bonus_points|number }} points bonus vous attendent."
            "{% else %}Toute l\u2019équipe de {{ shop_name }} vous souhaite une excellente journée."
            "{% endif %}",
            "{{ shop_name }} : joyeux anniversaire !{% if bonus_points %} "
            "{{ bonus_points|number }} points bonus vous attendent sur votre compte."
            "{% endif %} {{ links.action }}",
        ),
    },
    NudgeKind.WIN_BACK: {
        "en": _Copy(
            "We miss you at {{ shop_name }}",
            "It has been a while",
            "We have not seen you for {{ days_inactive|number }} days. Your "
            "{{ balance|number }} points are still here, ready when you are.",
            "Come back and shop",
            "We miss you",
            "Your {{ balance|number }} points are still waiting for you at {{ shop_name }}.",
            "{{ shop_name }}: we miss you! Your {{ balance|number }} points are waiting. "
            "{{ links.action }}",
        ),
        "de": _Copy(
            "Wir vermissen Sie bei {{ shop_name }}",
            "Lange nicht gesehen",
            "Seit {{ days_inactive|number }} Tagen waren Sie nicht mehr bei uns. Ihre "
            "{{ balance|number }} Punkte sind noch da und warten auf Sie.",
            "Jetzt wieder vorbeischauen",
            "Wir vermissen Sie",
            "Ihre {{ balance|number }} Punkte warten bei {{ shop_name }} auf Sie.",
            "{{ shop_name }}: Wir vermissen Sie! Ihre {{ balance|number }} Punkte warten auf "
            "Sie. {{ links.action }}",
        ),
        "fr": _Copy(
            "Vous nous manquez chez {{ shop_name }}",
            "Cela fait longtemps",
            "Nous ne vous avons pas vu depuis {{ days_inactive|number }} jours. Vos "
            "{{ balance|number }} points sont toujours là et vous attendent.",
            "Revenir faire un tour",
            "Vous nous manquez",
            "Vos {{ balance|number }} points vous attendent chez {{ shop_name }}.",
            "{{ shop_name }} : vous nous manquez ! Vos {{ balance|number }} points vous "
            "attendent. {{ links.action }}",
        ),
    },
    NudgeKind.REVIEW_REQUEST: {
        "en": _Copy(
            "How was your order {{ order_id }}?",
            "Tell us what you think",
            "Thank you for your order {{ order_id }}. {% if product_count > 1 %}How do you "
            "like your {{ product_count|number }} products?{% else %}How do you like your "
            "purchase?{% endif %} Your review takes a minute and helps other customers choose.",
            "Write a review",
            "How was your order?",
            "Tell us what you think of your order {{ order_id }}: it only takes a minute.",
            "{{ shop_name }}: how was your order {{ order_id }}? Leave a review: "
            "{{ links.action }}",
        ),
        "de": _Copy(
            "Wie gefällt Ihnen Ihre Bestellung {{ order_id }}?",
            "Ihre Meinung zählt",
            "Vielen Dank für Ihre Bestellung {{ order_id }}. {% if product_count > 1 %}Wie "
            "gefallen Ihnen Ihre {{ product_count|number }} Artikel?{% else %}Wie gefällt "
            "Ihnen Ihr Einkauf?{% endif %} Eine Bewertung dauert nur eine Minute und hilft "
            "anderen Kunden bei der Auswahl.",
            "Bewertung schreiben",
            "Wie war Ihre Bestellung?",
            "Sagen Sie uns, wie Ihnen Ihre Bestellung {{ order_id }} gefällt: Es dauert nur "
            "eine Minute.",
            "{{ shop_name }}: Wie gefällt Ihnen Ihre Bestellung {{ order_id }}? Jetzt "
            "bewerten: {{ links.action }}",
        ),
        "fr": _Copy(
            "Votre commande {{ order_id }} vous a-t-elle plu ?",
            "Donnez-nous votre avis",
            "Merci pour votre commande {{ order_id }}. {% if product_count > 1 %}Que "
            "pensez-vous de vos {{ product_count|number }} articles ?{% else %}Que pensez-vous "
            "de votre achat ?{% endif %} Votre avis ne prend qu\u2019une minute et aide les autres "
            "clients à choisir.",
            "Donner mon avis",
            "Votre commande vous a plu ?",
            "Dites-nous ce que vous pensez de votre commande {{ order_id }} : cela ne prend "
            "qu\u2019une minute.",
            "{{ shop_name }} : votre commande {{ order_id }} vous a plu ? Donnez votre avis : "
            "{{ links.action }}",
        ),
    },
    NudgeKind.NPS_SURVEY: {
        "en": _Copy(
            "A quick question from {{ shop_name }}",
            "Would you recommend us?",
            "How likely are you to recommend {{ shop_name }} to a friend or colleague? One "
            "click is all it takes, and your answer helps us improve.",
            "Answer the question",
            "One quick question",
            "Would you recommend {{ shop_name }} to a friend? Tell us in one tap.",
            "{{ shop_name }}: would you recommend us to a friend? Answer in one click: "
            "{{ links.action }}",
        ),
        "de": _Copy(
            "Eine kurze Frage von {{ shop_name }}",
            "Würden Sie uns weiterempfehlen?",
            "Wie wahrscheinlich ist es, dass Sie {{ shop_name }} einem Freund oder Kollegen "
            "empfehlen? Ein Klick genügt, und Ihre Antwort hilft uns, besser zu werden.",
            "Frage beantworten",
            "Eine kurze Frage",
            "Würden Sie {{ shop_name }} weiterempfehlen? Antworten Sie mit einem Tipp.",
            "{{ shop_name }}: Würden Sie uns weiterempfehlen? Mit einem Klick antworten: "
            "{{ links.action }}",
        ),
        "fr": _Copy(
            "Une petite question de {{ shop_name }}",
            "Nous recommanderiez-vous ?",
            "Quelle est la probabilité que vous recommandiez {{ shop_name }} à un ami ou un "
            "collègue ? Un clic suffit, et votre réponse nous aide à nous améliorer.",
            "Répondre",
            "Une petite question",
            "Recommanderiez-vous {{ shop_name }} à un ami ? Répondez en un geste.",
            "{{ shop_name }} : nous recommanderiez-vous à un ami ? Répondez en un clic : "
            "{{ links.action }}",
        ),
    },
}

_FONT = "font-family:Arial,Helvetica,sans-serif;"
_CELL = "word-break:break-word;overflow-wrap:anywhere;"


def _greeting(frame: _Frame) -> str:
    return f"{{% if member_name %}}{frame.hello}{{% else %}}{frame.hello_anonymous}{{% endif %}}"


def _html(locale: str, copy: _Copy, frame: _Frame) -> str:
    return f"""<!DOCTYPE html>
<html lang="{locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{{{ shop_name }}}}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="background-color:#f4f4f5;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="max-width:600px;background-color:#ffffff;border-radius:8px;">
<tr><td style="padding:24px 24px 8px 24px;{_FONT}{_CELL}font-size:14px;color:#6b7280;">\
{{{{ shop_name }}}}</td></tr>
<tr><td style="padding:8px 24px;{_FONT}{_CELL}">\
<h1 style="margin:0;font-size:22px;line-height:28px;color:#111827;">{copy.heading}</h1></td></tr>
<tr><td style="padding:8px 24px;{_FONT}{_CELL}font-size:16px;line-height:24px;color:#111827;">
<p style="margin:0 0 12px 0;">{_greeting(frame)}</p>
<p style="margin:0;">{copy.body}</p>
</td></tr>
<tr><td style="padding:16px 24px 24px 24px;{_FONT}">\
<a href="{{{{ links.action }}}}" style="display:inline-block;background-color:#111827;\
color:#ffffff;text-decoration:none;font-size:16px;line-height:20px;padding:12px 20px;\
border-radius:6px;">{copy.button}</a></td></tr>
</table>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="max-width:600px;">
<tr><td style="padding:16px 24px;{_FONT}{_CELL}font-size:12px;line-height:18px;color:#6b7280;">
<p style="margin:0 0 8px 0;">{frame.why}</p>
<p style="margin:0;"><a href="{{{{ links.unsubscribe }}}}" style="color:#6b7280;">\
{frame.unsubscribe}</a> &middot; <a href="{{{{ links.shop }}}}" style="color:#6b7280;">\
{{{{ shop_name }}}}</a></p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""


def _text(copy: _Copy, frame: _Frame) -> str:
    return (
        f"{_greeting(frame)}\n\n{copy.body}\n\n{copy.button}{frame.colon} {{{{ links.action }}}}"
        f"\n\n-- \n{frame.why}\n{frame.unsubscribe}{frame.colon} {{{{ links.unsubscribe }}}}\n"
        f"{{{{ shop_name }}}}{frame.colon} {{{{ links.shop }}}}\n"
    )


def _french(text: str) -> str:
    """French puts a no-break space before : ! ? (so they never start a line)."""
    for mark in (":", "!", "?"):
        text = text.replace(f" {mark}", f"\u00a0{mark}")
    return text


def _template(kind: NudgeKind, locale: str) -> NudgeTemplate:
    copy, frame = _COPY[kind][locale], _FRAMES[locale]
    built = NudgeTemplate(
        kind=kind,
        name=default_name(kind),
        locale=locale,
        email_subject=copy.subject,
        email_html=_html(locale, copy, frame),
        email_text=_text(copy, frame),
        sms_text=f"{copy.sms} {frame.stop} {{{{ links.unsubscribe }}}}",
        push_title=copy.push_title,
        push_body=copy.push_body,
    )
    if locale != "fr":
        return built
    return replace(
        built,
        email_subject=_french(built.email_subject),
        email_html=_french(built.email_html),
        email_text=_french(built.email_text),
        sms_text=_french(built.sms_text),
        push_title=_french(built.push_title),
        push_body=_french(built.push_body),
    )


# (kind, name, locale) -> the built-in template.
DEFAULTS: dict[tuple[NudgeKind, str, str], NudgeTemplate] = {
    (kind, default_name(kind), locale): _template(kind, locale)
    for kind in NudgeKind
    for locale in LOCALES
}
