"""The launchpad explains every run-config field, and choices are choices, not free strings."""

from dagster._config import ConfigTypeKind


def _config_fields():
    from definitions import defs

    repo = defs.get_repository_def()
    for key, assets_def in repo.assets_defs_by_key.items():
        if not assets_def.is_executable:  # the external userday_source
            continue
        field = assets_def.op.config_field
        if field is None or not hasattr(field.config_type, "fields"):  # no run config
            continue
        for name, sub in field.config_type.fields.items():
            yield key.to_user_string(), name, sub


def test_every_run_config_field_has_a_description():
    fields = list(_config_fields())
    assert len(fields) >= 10
    undescribed = [f"{asset}.{name}" for asset, name, f in fields if not (f.description or "").strip()]
    assert undescribed == []


def test_method_is_a_choice_in_the_launchpad():
    methods = [(asset, f) for asset, name, f in _config_fields() if name == "method"]
    assert {a for a, _ in methods} >= {"cluster_diagnostics", "supergroups", "subgroups"}
    for _, f in methods:
        assert f.config_type.kind == ConfigTypeKind.ENUM
        assert {v.config_value for v in f.config_type.enum_values} == {"fast", "reference"}


def test_every_resource_and_its_fields_are_described():
    from definitions import defs
    from resources.hll_resource import PostgresHLLResource
    from resources.parquet_warehouse import ParquetWarehouse

    classes = {type(r) for r in defs.resources.values()} | {PostgresHLLResource, ParquetWarehouse}
    for cls in classes:
        assert (cls.__doc__ or "").strip(), cls.__name__
        undescribed = [n for n, f in cls.model_fields.items() if not (f.description or "").strip()]
        assert undescribed == [], (cls.__name__, undescribed)
