"""A density or a ratio is described as a level, never as a share of residents, by the prompt and
the offline namer; the kinds come from the variable table through geodem_assets.naming."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodem_assets.naming import profiles_for_naming
from geodem_assets.variables import ALL_VARIABLES
from resources.namers import OfflineNamer
from resources.namers.prompt import INSTRUCTIONS, cluster_input
from resources.namers.vocabulary import describe

LOOKUP = Path(__file__).resolve().parents[2] / "sample_data" / "reference" / "census_variable_lookup.csv"
REGION = "Liverpool City Region"


@pytest.fixture(scope="module")
def profile():
    """Supergroup A of a region: far above average on SIR, density and social renting."""
    lookup = pd.read_csv(LOOKUP)
    sizes = pd.DataFrame(
        [
            {
                "level": "supergroup",
                "cluster": "A",
                "oas": 50,
                "pct_oas": 20.0,
                "population": 15000,
                "pct_population": 21.0,
            }
        ]
    )
    scores = pd.DataFrame(
        {
            "level": "supergroup",
            "basis": "raw",
            "cluster": "A",
            "variable": ["v42", "v01", "v38", "v37"],
            "score": [260.0, 240.0, 230.0, 30.0],
        }
    )
    (made,) = profiles_for_naming(sizes, scores, lookup)
    return made


def test_profiles_for_naming_carry_each_variables_kind_and_unit(profile):
    assert profile.kinds == {
        "SIR": "ratio",
        "Usual residents per square kilometre": "density",
        "Social rented": "percentage",
        "Ownership or shared ownership": "percentage",
    }
    assert "Standardised Illness Ratio" in profile.units["SIR"]
    assert profile.units["Social rented"] == "% of households"
    assert not profile.is_share("SIR") and profile.is_share("Social rented")


def test_the_prompt_describes_the_ratio_as_a_ratio(profile):
    text = cluster_input(profile, REGION, None, [])
    (sir,) = [line for line in text.splitlines() if line.startswith("- SIR:")]
    assert sir.startswith("- SIR: 260.0 (ratio, not a share of residents: Standardised Illness Ratio")
    (density,) = [line for line in text.splitlines() if line.startswith("- Usual residents")]
    assert "(density, not a share of residents: usual residents per km²)" in density
    assert "- Social rented: 230.0 (% of households)" in text
    assert "not a share of residents" in INSTRUCTIONS and "Standardised Illness Ratio" in INSTRUCTIONS


def test_the_offline_portrait_speaks_of_the_ratio_and_density_as_levels(profile):
    named = OfflineNamer().name_clusters([profile], REGION).names[0]
    text = named.description
    assert "a far higher level of illness and disability for its residents' ages" in text
    assert "a far higher population density" in text
    assert "far more social rented homes" in text
    assert "more residents recorded as" not in text and "more level" not in text


def test_every_density_and_ratio_in_the_table_reads_as_a_level_in_the_vocabulary():
    for variable in ALL_VARIABLES:
        descriptor = describe(variable.name, variable.domain, variable.is_share)
        assert (descriptor.kind == "level") == (not variable.is_share), variable
        # The vocabulary alone already agrees with the table.
        assert (describe(variable.name).kind == "level") == (not variable.is_share), variable


def test_an_unknown_ratio_is_a_level_not_residents():
    descriptor = describe("Fertility ratio", "Other", share=False)
    assert descriptor.kind == "level" and "residents" not in descriptor.phrase
    assert describe("Ethnic group: Roma", "Ethnicity and Origins").phrase == "residents recorded as 'roma'"
