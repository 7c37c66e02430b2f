import pytest

from partitions.regions import UnknownRegionError, get_region, load_regions, parse_regions


def test_region_file_holds_the_workshop_regions_and_uk():
    regions = load_regions()
    assert {
        "liverpool-city-region",
        "greater-manchester",
        "greater-london",
        "scotland",
        "northern-ireland",
        "wales",
        "uk",
    } <= set(regions)
    lcr = regions["liverpool-city-region"]
    assert lcr.k == 5 and lcr.subgroups == (3, 3, 4, 3, 3) and len(lcr.lads) == 6
    assert regions["uk"].lads is None
    assert regions["uk"].umap_epochs == 200 and lcr.umap_epochs is None  # Liverpool keeps the reference's 500
    assert lcr.depth is None and regions["uk"].depth == 3  # the workshop's two tiers; the OAC's three


def test_no_lad_belongs_to_two_regions():
    seen = {}
    for r in load_regions().values():
        for lad in r.lads or ():
            assert lad not in seen, f"{lad} in {seen.get(lad)} and {r.slug}"
            seen[lad] = r.slug


def test_unknown_region_error_lists_known_regions():
    with pytest.raises(UnknownRegionError, match="liverpool-city-region"):
        get_region("atlantis")


@pytest.mark.parametrize(
    "text, message",
    [
        ("regions:\n  - slug: Bad Slug\n    lads: [E1]\n", "slug"),
        ("regions:\n  - slug: a\n    lads: []\n", "lads"),
        (
            "regions:\n  - slug: a\n    lads: [E1]\n    k: 3\n    subgroups: [2, 2]\n",
            "2 subgroup counts for k=3",
        ),
        ("regions:\n  - slug: a\n    lads: [E1]\n  - slug: a\n    lads: [E2]\n", "duplicate"),
        (
            "regions:\n  - slug: a\n    lads: [E1]\n    umap_epochs: 0\n",
            "umap_epochs must be a positive integer",
        ),
        ("regions:\n  - slug: a\n    lads: [E1]\n    depth: 4\n", "depth must be 2 or 3"),
        ("regions:\n  - slug: a\n    lads: [E1]\n    groups: [2, 2]\n", "groups are a depth-3 tier"),
        ("regions:\n  - slug: a\n    lads: [E1]\n    depth: 3\n    subgroups: [2, 2]\n", "give groups too"),
        (
            "regions:\n  - slug: a\n    lads: [E1]\n    depth: 3\n    groups: [2, 2]\n    subgroups: [2, 2, 2]\n",
            "3 subgroup counts for the 4 groups",
        ),
        (
            "regions:\n  - slug: a\n    lads: [E1]\n    depth: 3\n    k: 3\n    groups: [2, 2]\n",
            "2 group counts for k=3",
        ),
        ("regions:\n  - slug: a\n    lads: [E1]\n    depth: 3\n    groups: [2, 0]\n", "positive integers"),
    ],
)
def test_bad_region_entries_name_the_problem(text, message):
    with pytest.raises(ValueError, match=message):
        parse_regions(text, "test.yaml")
