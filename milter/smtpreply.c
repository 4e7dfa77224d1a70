/*
 * smtpreply.c - what an incomplete complaint's 550 reply says.
 */
#include "smtpreply.h"

#include <stdio.h>
#include <string.h>

struct lang_text {
	const char *code;
	const char *intro;
	const char *missing;		/* "Missing: " */
	const char *item[4];		/* ticket, model, ticket_or_model, description */
	const char *service, *product, *unknown;
	const char *closing;
};

static const struct lang_text texts[] = {
	{ "nl", "Uw klacht is niet aangenomen: er ontbreken gegevens.", "Ontbreekt: ",
	  { "het ticketnummer van de servicedesk", "het model van de omvormer",
	    "het ticketnummer (serviceklacht) of het model van de omvormer (productklacht)",
	    "een beschrijving van het probleem" },
	  "Een serviceklacht vermeldt het ticketnummer en een beschrijving van het probleem.",
	  "Een productklacht vermeldt het model van de omvormer en een beschrijving van het probleem.",
	  "Vermeld bij een serviceklacht het ticketnummer, bij een productklacht het model van de omvormer, en beschrijf het probleem.",
	  "Vermeld ook het serienummer als u het weet, en stuur uw klacht opnieuw." },
	{ "en", "Your complaint was not accepted: information is missing.", "Missing: ",
	  { "the service desk ticket number", "the inverter model",
	    "the ticket number (service complaint) or the inverter model (product complaint)",
	    "a description of the problem" },
	  "A service complaint gives the ticket number and a description of the problem.",
	  "A product complaint gives the inverter model and a description of the problem.",
	  "Give the ticket number for a service complaint or the inverter model for a product complaint, and describe the problem.",
	  "Add the serial number if you know it, and send your complaint again." },
	{ "de", "Ihre Beschwerde wurde nicht angenommen: es fehlen Angaben.", "Es fehlt: ",
	  { "die Ticketnummer des Service", "das Modell des Wechselrichters",
	    "die Ticketnummer (Servicebeschwerde) oder das Modell des Wechselrichters (Produktreklamation)",
	    "eine Beschreibung des Problems" },
	  "Eine Servicebeschwerde nennt die Ticketnummer und beschreibt das Problem.",
	  "Eine Produktreklamation nennt das Modell des Wechselrichters und beschreibt das Problem.",
	  "Nennen Sie bei einer Servicebeschwerde die Ticketnummer, bei einer Produktreklamation das Modell des Wechselrichters, und beschreiben Sie das Problem.",
	  "Nennen Sie auch die Seriennummer, falls bekannt, und senden Sie Ihre Beschwerde erneut." },
	{ "fr", "Votre reclamation n'a pas ete acceptee : des informations manquent.", "Il manque : ",
	  { "le numero de ticket du service", "le modele de l'onduleur",
	    "le numero de ticket (reclamation service) ou le modele de l'onduleur (reclamation produit)",
	    "une description du probleme" },
	  "Une reclamation service indique le numero de ticket et decrit le probleme.",
	  "Une reclamation produit indique le modele de l'onduleur et decrit le probleme.",
	  "Indiquez le numero de ticket pour une reclamation service ou le modele de l'onduleur pour une reclamation produit, et decrivez le probleme.",
	  "Indiquez aussi le numero de serie si vous le connaissez, et renvoyez votre reclamation." },
};

static const struct lang_text *
lang_find(const char *code)
{
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].code, code) == 0)
			return &texts[i];
	return NULL;
}

static int
add_lang(const struct lang_text *t, const struct complaint *c,
    char lines[][SMTPREPLY_LINE_MAX], int n, int max)
{
	static const unsigned bits[4] = {
		MISSING_TICKET, MISSING_MODEL, MISSING_TICKET_OR_MODEL, MISSING_DESCRIPTION,
	};
	char buf[SMTPREPLY_LINE_MAX];
	size_t o;
	int first = 1;

	if (n + 4 > max)
		return n;
	snprintf(lines[n++], SMTPREPLY_LINE_MAX, "%s", t->intro);
	o = (size_t)snprintf(buf, sizeof(buf), "%s", t->missing);
	for (int i = 0; i < 4; i++) {
		if (!(c->missing & bits[i]))
			continue;
		o += (size_t)snprintf(buf + o, o < sizeof(buf) ? sizeof(buf) - o : 0, "%s%s",
		    first ? "" : ", ", t->item[i]);
		first = 0;
	}
	if (o + 2 > sizeof(buf))
		o = sizeof(buf) - 2;
	buf[o] = '.';
	buf[o + 1] = '\0';
	snprintf(lines[n++], SMTPREPLY_LINE_MAX, "%s", buf);
	snprintf(lines[n++], SMTPREPLY_LINE_MAX, "%s",
	    c->kind == KIND_SERVICE ? t->service : c->kind == KIND_PRODUCT ? t->product : t->unknown);
	snprintf(lines[n++], SMTPREPLY_LINE_MAX, "%s", t->closing);
	return n;
}

int
smtpreply_incomplete(const struct complaint *c, char lines[][SMTPREPLY_LINE_MAX], int max)
{
	const struct lang_text *own = lang_find(c->language);
	int n = 0;

	if (own != NULL && strcmp(own->code, "en") != 0)
		n = add_lang(own, c, lines, n, max);
	return add_lang(lang_find("en"), c, lines, n, max);
}
