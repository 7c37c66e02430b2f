"""Words for census variables: a noun phrase for pen portraits and name words for high and low scores.

A name takes at most three words from four slots, in this order: a life stage ("Student", "Elderly"),
a character ("Multicultural", "Hard-Pressed"), a setting ("Urban", "Suburban") and a head
noun ("Flats", "Homeowners").
"""

from __future__ import annotations

from dataclasses import dataclass

from resources.namers.rules import HIGH

SLOTS = ("lifestage", "character", "setting", "head")


@dataclass(frozen=True)
class Concept:
    slot: str
    word: str


@dataclass(frozen=True)
class Descriptor:
    """How to speak of one variable. `kind` "count" reads more/fewer (a share of people or
    homes), "level" higher/lower (a density or a ratio, never a share of residents)."""

    phrase: str
    kind: str = "count"
    high: Concept | None = None
    low: Concept | None = None


def _c(slot: str, word: str) -> Concept:
    return Concept(slot, word)


MULTICULTURAL = _c("character", "Multicultural")
COSMOPOLITAN = _c("character", "Cosmopolitan")
WORKING = _c("character", "Working")
PROFESSIONAL = _c("character", "Professional")
HARD_PRESSED = _c("character", "Hard-Pressed")
URBAN = _c("setting", "Urban")
SUBURBAN = _c("setting", "Suburban")

# Keyed by the census lookup's Variable_Name (UK 2021 OAC unified variables).
_TABLE: dict[str, Descriptor] = {
    "Usual residents per square kilometre": Descriptor("population density", "level", URBAN, SUBURBAN),
    "Aged 4 years and under": Descriptor("children under school age", high=_c("lifestage", "Young")),
    "Aged 5 - 14 years": Descriptor("school-age children", high=_c("head", "Families")),
    "Aged 25 - 44 years": Descriptor("adults aged twenty-five to forty-four", high=_c("lifestage", "Young")),
    "Aged 45 - 64 years": Descriptor("adults aged forty-five to sixty-four", high=_c("lifestage", "Mature")),
    "Aged 65 - 84 years": Descriptor(
        "people aged sixty-five to eighty-four", high=_c("lifestage", "Retired")
    ),
    "Aged 85 years and over": Descriptor("people aged eighty-five and over", high=_c("lifestage", "Elderly")),
    "Country of birth: Europe: United Kingdom": Descriptor(
        "people born in the United Kingdom", low=COSMOPOLITAN
    ),
    "Country of birth: Europe: EU countries": Descriptor(
        "people born in other EU countries", high=COSMOPOLITAN
    ),
    "Country of birth: Europe: Non-EU countries": Descriptor(
        "people born in European countries outside the EU", high=COSMOPOLITAN
    ),
    "Country of birth: Africa": Descriptor("people born in Africa", high=MULTICULTURAL),
    "Ethnic group: Bangladeshi": Descriptor("residents of Bangladeshi ethnicity", high=MULTICULTURAL),
    "Ethnic group: Chinese": Descriptor("residents of Chinese ethnicity", high=MULTICULTURAL),
    "Ethnic group: Indian": Descriptor("residents of Indian ethnicity", high=MULTICULTURAL),
    "Ethnic group: Pakistani": Descriptor("residents of Pakistani ethnicity", high=MULTICULTURAL),
    "Ethnic group: Other Asian": Descriptor("residents of other Asian ethnicities", high=MULTICULTURAL),
    "Ethnic group: Black": Descriptor("Black residents", high=MULTICULTURAL),
    "Ethnic group: Mixed or Multiple ethnic groups": Descriptor(
        "residents of mixed or multiple ethnicities", high=MULTICULTURAL
    ),
    "Ethnic group: White": Descriptor("White residents", low=MULTICULTURAL),
    "Cannot speak English well or at all": Descriptor(
        "people who cannot speak English well or at all", high=MULTICULTURAL
    ),
    "No religion": Descriptor("people with no religion", high=_c("character", "Secular")),
    "Christian": Descriptor("Christians"),
    "Other religion": Descriptor("people of faiths other than Christianity", high=MULTICULTURAL),
    "Never married and never registered a civil partnership": Descriptor(
        "people who have never married or formed a civil partnership", high=_c("lifestage", "Single")
    ),
    "Married or in a registered civil partnership": Descriptor(
        "people who are married or in a civil partnership", high=_c("head", "Couples")
    ),
    "Separated or divorced": Descriptor("separated or divorced people"),
    "One-person household": Descriptor("one-person households", high=_c("head", "Singles")),
    "Families with no children": Descriptor("families without children", high=_c("head", "Couples")),
    "Families with dependent children": Descriptor(
        "families with dependent children", high=_c("head", "Families")
    ),
    "All household members have the same ethnic group": Descriptor(
        "households whose members all share one ethnic group"
    ),
    "Lives in a communal establishment": Descriptor(
        "people living in communal establishments", high=_c("character", "Communal")
    ),
    "Address 1 year ago is the same as the address of enumeration": Descriptor(
        "people still at the address they lived at a year earlier",
        high=_c("character", "Settled"),
        low=_c("character", "Transient"),
    ),
    "Detached house or bungalow": Descriptor("detached houses and bungalows", high=SUBURBAN, low=URBAN),
    "Semi-detached house or bungalow": Descriptor("semi-detached homes", high=_c("head", "Semis")),
    "Terraced (including end-terrace) house or bungalow": Descriptor(
        "terraced houses", high=_c("head", "Terraces")
    ),
    "Flat maisonette or apartment": Descriptor(
        "flats and maisonettes", high=_c("head", "Flats"), low=SUBURBAN
    ),
    "Ownership or shared ownership": Descriptor(
        "owner-occupied homes", high=_c("head", "Homeowners"), low=_c("head", "Renters")
    ),
    "Social rented": Descriptor(
        "social rented homes", high=_c("head", "Social Renters"), low=_c("head", "Homeowners")
    ),
    "Private rented": Descriptor("privately rented homes", high=_c("head", "Private Renters")),
    "Occupancy rating of rooms: +1 or more": Descriptor(
        "homes with rooms to spare", high=_c("character", "Spacious")
    ),
    "Occupancy rating of rooms: -1 or less": Descriptor(
        "overcrowded homes", high=_c("character", "Overcrowded")
    ),
    # The Standardised Illness Ratio: disability relative to what the residents' ages predict.
    "SIR": Descriptor("level of illness and disability for its residents' ages", "level", high=HARD_PRESSED),
    "Provides unpaid care": Descriptor("unpaid carers"),
    "2 or more cars or vans in household": Descriptor(
        "households with two or more cars or vans", high=SUBURBAN, low=URBAN
    ),
    "Highest level of qualification: Level 1- 2 or Apprenticeship": Descriptor(
        "people whose highest qualifications are GCSEs or an apprenticeship", high=WORKING
    ),
    "Highest level of qualification: Level 3 qualifications": Descriptor(
        "people whose highest qualifications are A levels or equivalent"
    ),
    "Highest level of qualification: Level 4 qualifications or above": Descriptor(
        "people with degree-level qualifications", high=PROFESSIONAL, low=WORKING
    ),
    "Hours worked: Part-time": Descriptor("part-time workers"),
    "Hours worked: Full-time": Descriptor("full-time workers"),
    "NS-SeC: L15 Full-time students": Descriptor("full-time students", high=_c("lifestage", "Student")),
    "SOC: 1. Managers directors and senior officials": Descriptor(
        "managers and senior officials", high=_c("character", "Affluent")
    ),
    "SOC: 2. Professional occupations": Descriptor("people in professional occupations", high=PROFESSIONAL),
    "SOC: 3. Associate professional and technical occupations": Descriptor(
        "people in associate professional and technical jobs", high=PROFESSIONAL
    ),
    "SOC: 4. Administrative and secretarial occupations": Descriptor(
        "people in administrative and secretarial jobs"
    ),
    "SOC: 5. Skilled trades occupations": Descriptor("people in skilled trades", high=WORKING),
    "SOC: 6. Caring leisure and other service occupations": Descriptor(
        "people in care and leisure jobs", high=WORKING
    ),
    "SOC: 7. Sales and customer service occupations": Descriptor(
        "people in sales and customer service jobs", high=WORKING
    ),
    "SOC: 8. Process plant and machine operatives": Descriptor("plant and machine operatives", high=WORKING),
    "SOC: 9. Elementary occupations": Descriptor("people in elementary occupations", high=WORKING),
    "Economically active: Unemployed": Descriptor(
        "unemployed people", high=HARD_PRESSED, low=_c("character", "Comfortable")
    ),
}

# Words for variables outside the table, by the lookup's Domain.
_DOMAIN_CONCEPTS: dict[str, Concept] = {
    "Ethnicity and Origins": _c("character", "Diverse"),
    "Living Arrangements": _c("head", "Households"),
    "Usual Residence": _c("head", "Residents"),
    "Employment": WORKING,
}

# Diversity among students, graduates and private renters reads as cosmopolitan; among
# families and social renters as multicultural (the 2011 OAC draws the same line).
_COSMOPOLITAN_SIGNS = (
    "NS-SeC: L15 Full-time students",
    "Highest level of qualification: Level 4 qualifications or above",
    "Private rented",
)


_SOCIAL_RENTED = "Social rented"
_OWNED = "Ownership or shared ownership"


def _key(variable: str) -> str:
    return " ".join(variable.split()).casefold()


_BY_KEY = {_key(name): descriptor for name, descriptor in _TABLE.items()}


def known_variables() -> list[str]:
    return list(_TABLE)


def describe(variable: str, domain: str | None = None, share: bool = True) -> Descriptor:
    """The descriptor of a variable by name; unknown names get a plain phrase and a domain word.

    share=False (a density or a ratio, from the variable's kind) always gives a "level"
    descriptor, so such a variable is never read as more or fewer residents.
    """
    found = _BY_KEY.get(_key(variable))
    if found is not None:
        if share or found.kind == "level":
            return found
        return Descriptor(f"level of {found.phrase}", "level", found.high, found.low)
    label = variable.split(":")[-1].strip().lower()
    if not share:
        return Descriptor(f"level of '{label}'", "level", high=_DOMAIN_CONCEPTS.get(domain or ""))
    return Descriptor(f"residents recorded as '{label}'", high=_DOMAIN_CONCEPTS.get(domain or ""))


def concept_for(variable: str, score: float, domain: str | None, scores: dict[str, float]) -> Concept | None:
    """The name word a variable lends a cluster at this index score (above 100 high, below low)."""
    descriptor = describe(variable, domain)
    concept = descriptor.high if score >= 100 else descriptor.low
    if _key(variable) == _key(_SOCIAL_RENTED) and concept is not None and score < 100:
        # Little social renting means owners only where ownership is at least average too;
        # among students and young professionals it means private renting instead.
        owned = {_key(name): value for name, value in scores.items()}.get(_key(_OWNED))
        if owned is None or owned < 100:
            return None
    if concept == MULTICULTURAL:
        by_key = {_key(name): value for name, value in scores.items()}
        if any(by_key.get(_key(sign), 100.0) > HIGH for sign in _COSMOPOLITAN_SIGNS):
            return COSMOPOLITAN
    return concept


# Words that cannot describe the same neighbourhoods at once, in groups of two sides: a name
# never holds words from both sides of a group. Tenure and life stage are the ones readers
# notice ("Student ... Homeowners" under "Retired ... Homeowners").
CONTRADICTIONS: tuple[tuple[frozenset[str], frozenset[str]], ...] = (
    (frozenset({"Homeowners"}), frozenset({"Renters", "Social Renters", "Private Renters"})),
    (frozenset({"Student", "Young"}), frozenset({"Retired", "Elderly", "Mature"})),
    (frozenset({"Urban"}), frozenset({"Suburban"})),
    (frozenset({"Comfortable", "Affluent"}), frozenset({"Hard-Pressed"})),
    (frozenset({"Settled"}), frozenset({"Transient"})),
    (frozenset({"Spacious"}), frozenset({"Overcrowded"})),
)


def contradicts(a: str, b: str) -> bool:
    """True when words `a` and `b` sit on opposite sides of one of CONTRADICTIONS."""
    return any((a in one and b in other) or (a in other and b in one) for one, other in CONTRADICTIONS)


def _all_concepts() -> dict[str, Concept]:
    found = {c.word: c for d in _TABLE.values() for c in (d.high, d.low) if c is not None}
    found.update({c.word: c for c in _DOMAIN_CONCEPTS.values()})
    return found


def concepts_in(name: str) -> list[Concept]:
    """The vocabulary's words found in a name, longest match first ("Social Renters" is one word
    of the vocabulary); words the vocabulary does not hold are skipped."""
    known = _all_concepts()
    tokens = name.split()
    found, i = [], 0
    while i < len(tokens):
        pair = " ".join(tokens[i : i + 2])
        if i + 1 < len(tokens) and pair in known:
            found.append(known[pair])
            i += 2
            continue
        if tokens[i] in known:
            found.append(known[tokens[i]])
        i += 1
    return found
