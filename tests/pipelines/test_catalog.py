"""Every asset reaches the UI dressed: owners, kinds, a domain tag and a link to its code."""

import pytest

from common.catalog import dress


def _specs():
    from definitions import defs

    repo = defs.get_repository_def()
    return [a.specs_by_key[k] for k, a in repo.assets_defs_by_key.items()]


def test_every_asset_has_owners_kinds_domain_tag_and_code_reference():
    specs = _specs()
    assert len(specs) >= 17
    for spec in specs:
        name = spec.key.to_user_string()
        assert spec.owners and all(o.startswith("team:") for o in spec.owners), name
        assert 1 <= len(spec.kinds) <= 10, name
        assert spec.tags.get("domain"), name
        if name != "userday_source":  # an external asset: no code of ours materialises it
            assert "dagster/code_references" in spec.metadata, name


def test_an_asset_missing_from_the_catalog_is_named():
    import dagster as dg

    @dg.asset
    def uncatalogued():
        return None

    with pytest.raises(KeyError, match="uncatalogued"):
        dg.map_asset_specs(dress(["team:x"], {}, {}), [uncatalogued])
