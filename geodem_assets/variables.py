"""The census variables of the release, written down once: code, name, domain, kind, unit and valid range.

Every part of the platform that needs to know what a variable measures reads this table:
the validator (`geodem_assets.census`), the sample generator (`sample_data.census`), the
profiles and the cluster namers (through `geodem_assets.naming`).

Sources: the release's `census_variable_lookup.csv` (code, `Variable_Name`, `Domain`) and
the UK OAC 2021 variable list `OAC_variables.csv` (Wyszomierski et al. 2024, The
Geographical Journal 190(2), e12550; its `encoding` column is the OAC's own numbering,
`oac` here), which names the Census 2021 topic summary (TS table) each variable comes from.
Of the 60 variables, two are not percentages: `v01` (TS006, usual residents per km²) and
`v42` (TS038, the Standardised Illness Ratio). Every other one is a percentage of the OA
population its topic summary counts (usual residents, households, residents aged 16 and
over, ...), so it lies in 0-100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DENSITY = "density"
PERCENTAGE = "percentage"
RATIO = "ratio"
KINDS = (DENSITY, PERCENTAGE, RATIO)

# What each kind is, in words a reader (and a language model) can use.
KIND_MEANING = {
    DENSITY: "a density per square kilometre, not a share of residents",
    PERCENTAGE: "a percentage of the Output Area's relevant population (0-100)",
    RATIO: "a ratio × 100 (100 = the national age-standardised level), not a share of residents",
}


@dataclass(frozen=True)
class CensusVariable:
    """One census variable. `low`/`high` bound the valid values (inclusive); `high` may be inf."""

    code: str  # v01 .. v60, as in the census table and the lookup
    name: str  # Variable_Name in census_variable_lookup.csv
    domain: str  # Domain in census_variable_lookup.csv
    kind: str  # density | percentage | ratio
    unit: str  # what one unit of the value is
    table: str  # Census 2021 topic summary it comes from
    oac: str  # the variable's code in OAC_variables.csv (`encoding`)
    low: float = 0.0
    high: float = 100.0

    @property
    def is_share(self) -> bool:
        """True for a percentage of a population; False for a density or a ratio."""
        return self.kind == PERCENTAGE

    def label(self, name: str | None = None) -> str:
        """The name (or `name`) with what its value is: "Social rented (%)", "SIR (ratio ×100)"."""
        suffix = {PERCENTAGE: "%", DENSITY: "per km²", RATIO: "ratio ×100"}[self.kind]
        return f"{name or self.name} ({suffix})"


_RES = "% of usual residents"
_HH = "% of households"
_16 = "% of usual residents aged 16 and over"
_EMP = "% of usual residents aged 16 and over in employment"
_INF = math.inf


def _p(code: str, name: str, domain: str, unit: str, table: str, oac: str) -> CensusVariable:
    return CensusVariable(code, name, domain, PERCENTAGE, unit, table, oac)


_DEM, _ETH, _LIV, _RESI, _OTH, _EMPL = (
    "Demographic",
    "Ethnicity and Origins",
    "Living Arrangements",
    "Usual Residence",
    "Other",
    "Employment",
)

ALL_VARIABLES: tuple[CensusVariable, ...] = (
    CensusVariable(
        "v01",
        "Usual residents per square kilometre",
        _DEM,
        DENSITY,
        "usual residents per km²",
        "TS006",
        "v12",
        high=_INF,
    ),
    _p("v02", "Aged 4 years and under", _DEM, _RES, "TS007A", "v13"),
    _p("v03", "Aged 5 - 14 years", _DEM, _RES, "TS007A", "v14"),
    _p("v04", "Aged 25 - 44 years", _DEM, _RES, "TS007A", "v15"),
    _p("v05", "Aged 45 - 64 years", _DEM, _RES, "TS007A", "v16"),
    _p("v06", "Aged 65 - 84 years", _DEM, _RES, "TS007A", "v17"),
    _p("v07", "Aged 85 years and over", _DEM, _RES, "TS007A", "v18"),
    _p("v08", "Country of birth: Europe: United Kingdom", _ETH, _RES, "TS004", "v08"),
    _p("v09", "Country of birth: Europe: EU countries", _ETH, _RES, "TS004", "v09"),
    _p("v10", "Country of birth: Europe: Non-EU countries", _ETH, _RES, "TS004", "v10"),
    _p("v11", "Country of birth: Africa", _ETH, _RES, "TS004", "v11"),
    _p("v12", "Ethnic group: Bangladeshi", _ETH, _RES, "TS021", "v20"),
    _p("v13", "Ethnic group: Chinese", _ETH, _RES, "TS021", "v21"),
    _p("v14", "Ethnic group: Indian", _ETH, _RES, "TS021", "v22"),
    _p("v15", "Ethnic group: Pakistani", _ETH, _RES, "TS021", "v23"),
    _p("v16", "Ethnic group: Other Asian", _ETH, _RES, "TS021", "v24"),
    _p("v17", "Ethnic group: Black", _ETH, _RES, "TS021", "v25"),
    _p("v18", "Ethnic group: Mixed or Multiple ethnic groups", _ETH, _RES, "TS021", "v26"),
    _p("v19", "Ethnic group: White", _ETH, _RES, "TS021", "v27"),
    _p(
        "v20",
        "Cannot speak English well or at all",
        _ETH,
        "% of usual residents aged 3 and over",
        "TS029",
        "v29",
    ),
    _p("v21", "No religion", _ETH, _RES, "TS030", "v30"),
    _p("v22", "Christian", _ETH, _RES, "TS030", "v31"),
    _p("v23", "Other religion", _ETH, _RES, "TS030", "v32"),
    _p("v24", "Never married and never registered a civil partnership", _LIV, _16, "TS002", "v02"),
    _p("v25", "Married or in a registered civil partnership", _LIV, _16, "TS002", "v03"),
    _p("v26", "Separated or divorced", _LIV, _16, "TS002", "v04"),
    _p("v27", "One-person household", _LIV, _HH, "TS003", "v05"),
    _p("v28", "Families with no children", _LIV, _HH, "TS003", "v06"),
    _p("v29", "Families with dependent children", _LIV, _HH, "TS003", "v07"),
    _p("v30", "All household members have the same ethnic group", _LIV, _HH, "TS023", "v28"),
    _p("v31", "Lives in a communal establishment", _RESI, _RES, "TS001", "v01"),
    _p("v32", "Address 1 year ago is the same as the address of enumeration", _RESI, _RES, "TS019", "v19"),
    _p("v33", "Detached house or bungalow", _RESI, _HH, "TS044", "v35"),
    _p("v34", "Semi-detached house or bungalow", _RESI, _HH, "TS044", "v36"),
    _p("v35", "Terraced (including end-terrace) house or bungalow", _RESI, _HH, "TS044", "v37"),
    _p("v36", "Flat maisonette or apartment", _RESI, _HH, "TS044", "v38"),
    _p("v37", "Ownership or shared ownership", _RESI, _HH, "TS054", "v44"),
    _p("v38", "Social rented", _RESI, _HH, "TS054", "v42"),
    _p("v39", "Private rented", _RESI, _HH, "TS054", "v43"),
    _p("v40", "Occupancy rating of rooms: +1 or more", _RESI, _HH, "TS053", "v40"),
    _p("v41", "Occupancy rating of rooms: -1 or less", _RESI, _HH, "TS053", "v41"),
    CensusVariable(
        "v42",
        "SIR",
        _OTH,
        RATIO,
        "Standardised Illness Ratio: disabled residents observed ÷ expected at national age-specific rates × 100",
        "TS038",
        "v33",
        high=_INF,
    ),
    _p("v43", "Provides unpaid care", _OTH, "% of usual residents aged 5 and over", "TS039", "v34"),
    _p("v44", "2 or more cars or vans in household", _OTH, _HH, "TS045", "v39"),
    _p("v45", "Highest level of qualification: Level 1- 2 or Apprenticeship", _OTH, _16, "TS067", "v58"),
    _p("v46", "Highest level of qualification: Level 3 qualifications", _OTH, _16, "TS067", "v59"),
    _p("v47", "Highest level of qualification: Level 4 qualifications or above", _OTH, _16, "TS067", "v60"),
    _p("v48", "Hours worked: Part-time", _EMPL, _EMP, "TS059", "v45"),
    _p("v49", "Hours worked: Full-time", _EMPL, _EMP, "TS059", "v46"),
    _p("v50", "NS-SeC: L15 Full-time students", _EMPL, _16, "TS062", "v47"),
    _p("v51", "SOC: 1. Managers directors and senior officials", _EMPL, _EMP, "TS063", "v48"),
    _p("v52", "SOC: 2. Professional occupations", _EMPL, _EMP, "TS063", "v49"),
    _p("v53", "SOC: 3. Associate professional and technical occupations", _EMPL, _EMP, "TS063", "v50"),
    _p("v54", "SOC: 4. Administrative and secretarial occupations", _EMPL, _EMP, "TS063", "v51"),
    _p("v55", "SOC: 5. Skilled trades occupations", _EMPL, _EMP, "TS063", "v52"),
    _p("v56", "SOC: 6. Caring leisure and other service occupations", _EMPL, _EMP, "TS063", "v53"),
    _p("v57", "SOC: 7. Sales and customer service occupations", _EMPL, _EMP, "TS063", "v54"),
    _p("v58", "SOC: 8. Process plant and machine operatives", _EMPL, _EMP, "TS063", "v55"),
    _p("v59", "SOC: 9. Elementary occupations", _EMPL, _EMP, "TS063", "v56"),
    _p("v60", "Economically active: Unemployed", _EMPL, _16, "TS066", "v57"),
)

# The distributed census table leaves out the occupancy-rating variables v40 and v41.
NOT_IN_RELEASE = ("v40", "v41")
VARIABLES: tuple[CensusVariable, ...] = tuple(v for v in ALL_VARIABLES if v.code not in NOT_IN_RELEASE)
CODES: tuple[str, ...] = tuple(v.code for v in VARIABLES)
BY_CODE: dict[str, CensusVariable] = {v.code: v for v in ALL_VARIABLES}
BY_NAME: dict[str, CensusVariable] = {" ".join(v.name.split()).casefold(): v for v in ALL_VARIABLES}


def variable(code: str) -> CensusVariable:
    """The variable with this code (v01..v60); KeyError naming the code if there is none."""
    try:
        return BY_CODE[code]
    except KeyError:
        raise KeyError(f"no census variable {code!r} (known: v01..v60)") from None


def by_name(name: str) -> CensusVariable | None:
    """The variable with this lookup name (whitespace and case ignored), or None."""
    return BY_NAME.get(" ".join(str(name).split()).casefold())


def codes_of_kind(kind: str) -> tuple[str, ...]:
    """Codes of the release's variables of one kind, in code order."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    return tuple(v.code for v in VARIABLES if v.kind == kind)
