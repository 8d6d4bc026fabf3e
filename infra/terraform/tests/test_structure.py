"""Structure and security checks of infra/terraform, without terraform or providers.

python-hcl2 8.x keeps the quotes of keys and string values ('"name"'); `_clean` strips them.
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

TF_ROOT = Path(__file__).resolve().parent.parent
REPO = TF_ROOT.parent.parent
MODULES = sorted(p for p in (TF_ROOT / "modules").iterdir() if p.is_dir())
ENVS = sorted(p for p in (TF_ROOT / "envs").iterdir() if p.is_dir())
CONFIG_DIRS = MODULES + ENVS


def _clean(value):
    if isinstance(value, dict):
        return {_unquote(k): _clean(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return _unquote(value) if isinstance(value, str) else value


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def load_dir(directory: Path) -> dict[str, list]:
    """Every top-level block type of a configuration directory, merged over its .tf files."""
    blocks: dict[str, list] = {}
    for path in sorted(directory.glob("*.tf")):
        with open(path) as handle:
            for kind, entries in _clean(hcl2.load(handle)).items():
                blocks.setdefault(kind, []).extend(entries)
    return blocks


def resources(directory: Path, kind: str) -> dict[str, dict]:
    return {name: body for entry in load_dir(directory).get("resource", [])
            for rtype, named in entry.items() if rtype == kind for name, body in named.items()}


def declared_variables(directory: Path) -> dict[str, dict]:
    return {name: body for entry in load_dir(directory).get("variable", [])
            for name, body in entry.items()}


def _text(directory: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))


def _first(block):
    return block[0] if isinstance(block, list) else block


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=lambda p: p.name)
def test_every_variable_used_is_declared(directory):
    used = set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_]*)", _text(directory)))
    assert used - set(declared_variables(directory)) == set()


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=lambda p: p.name)
def test_module_calls_match_the_modules_they_call(directory):
    for entry in load_dir(directory).get("module", []):
        for name, call in entry.items():
            source = (directory / call["source"]).resolve()
            assert source.is_dir(), f"module {name}: source {call['source']} does not exist"
            variables = declared_variables(source)
            required = {k for k, v in variables.items() if "default" not in v}
            passed = set(call) - {"source", "depends_on", "providers", "count", "for_each"}
            assert required - passed == set(), f"module {name} misses {required - passed}"
            assert passed - set(variables) == set(), f"module {name} passes unknown {passed - set(variables)}"


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=lambda p: p.name)
def test_module_outputs_referenced_exist(directory):
    for module_name, output in re.findall(r"\bmodule\.([a-z_]+)\.([a-z_]+)", _text(directory)):
        calls = {n: c for e in load_dir(directory).get("module", []) for n, c in e.items()}
        source = (directory / calls[module_name]["source"]).resolve()
        outputs = {n for e in load_dir(source).get("output", []) for n in e}
        assert output in outputs, f"{directory.name}: module.{module_name}.{output} is not an output"


def test_makefile_outputs_exist_in_every_environment():
    makefile = (REPO / "Makefile").read_text()
    wanted = re.search(r"^INFRA_OUTPUTS\s*:?=\s*(.+)$", makefile, re.M).group(1).split()
    assert wanted
    for env in ENVS:
        keys = set(re.findall(r"^\s*(\w+)\s*=", (env / "outputs.tf").read_text(), re.M))
        assert set(wanted) <= keys, f"{env.name} lacks outputs {set(wanted) - keys}"


def test_tfvars_example_documents_every_variable():
    for env in ENVS:
        example = (env / "terraform.tfvars.example").read_text()
        for name in declared_variables(env):
            assert re.search(rf"^{name}\s*=", example, re.M), f"{env.name}: {name} undocumented"


def test_dev_and_prod_use_the_same_modules():
    sources = {env.name: [c["source"] for e in load_dir(env)["module"] for c in e.values()]
               for env in ENVS}
    assert set(sources) == {"dev", "prod"} and sources["dev"] == sources["prod"]


def test_cloud_sql_is_private_encrypted_backed_up_and_protected():
    instance = resources(TF_ROOT / "modules/cloudsql", "google_sql_database_instance")["mlmd"]
    settings = _first(instance["settings"])
    ip = _first(settings["ip_configuration"])
    backup = _first(settings["backup_configuration"])
    assert instance["database_version"].startswith("MYSQL_8")
    assert instance["deletion_protection"] is True
    assert ip["ipv4_enabled"] is False and ip["private_network"]
    assert ip["ssl_mode"] in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
    assert backup["enabled"] is True and backup["binary_log_enabled"] is True


def test_database_password_is_generated_kept_in_secret_manager_and_never_output():
    module = TF_ROOT / "modules/cloudsql"
    assert "mlmd" in resources(module, "random_password")
    user = resources(module, "google_sql_user")["mlmd"]
    assert user["password"] == "${random_password.mlmd.result}"
    version = resources(module, "google_secret_manager_secret_version")["mlmd_password"]
    assert version["secret_data"] == "${random_password.mlmd.result}"
    for directory in CONFIG_DIRS:
        for entry in load_dir(directory).get("output", []):
            for name, body in entry.items():
                assert "random_password" not in str(body.get("value")), f"{name} outputs the password"


def test_buckets_are_private_uniform_and_published_ones_versioned():
    buckets = resources(TF_ROOT / "modules/storage", "google_storage_bucket")
    assert set(buckets) == {"pipeline_root", "published"}
    for bucket in buckets.values():
        assert bucket["uniform_bucket_level_access"] is True
        assert bucket["public_access_prevention"] == "enforced"
    assert _first(buckets["published"]["versioning"])["enabled"] is True
    assert buckets["pipeline_root"]["lifecycle_rule"], "pipeline root needs lifecycle rules"
    published = _text(TF_ROOT / "modules/storage")
    for destination in ("serving", "hub", "mobile"):
        assert re.search(rf"^\s*{destination}\s*=", published, re.M)


def test_gke_is_private_with_workload_identity_shielded_and_managed():
    module = TF_ROOT / "modules/gke"
    cluster = resources(module, "google_container_cluster")["cluster"]
    assert _first(cluster["private_cluster_config"])["enable_private_nodes"] is True
    assert _first(cluster["workload_identity_config"])["workload_pool"]
    assert cluster["enable_shielded_nodes"] is True
    assert _first(cluster["release_channel"])["channel"]
    pool = resources(module, "google_container_node_pool")["pool"]
    management = _first(pool["management"])
    assert management["auto_upgrade"] is True and management["auto_repair"] is True
    assert _first(_first(pool["node_config"])["workload_metadata_config"])["mode"] == "GKE_METADATA"


def test_network_has_private_google_access_and_nat():
    module = TF_ROOT / "modules/network"
    assert resources(module, "google_compute_subnetwork")["subnet"]["private_ip_google_access"] is True
    assert "nat" in resources(module, "google_compute_router_nat")


def test_registry_and_kfp_are_provisioned():
    assert resources(TF_ROOT / "modules/registry", "google_artifact_registry_repository")
    kfp = TF_ROOT / "modules/kfp"
    assert "kfp" in resources(kfp, "null_resource")
    template = (kfp / "templates/kustomization.yaml.tftpl").read_text()
    assert "env/gcp?ref=${kfp_version}" in template  # upstream manifests at a pinned version


def test_no_service_account_keys_anywhere():
    for directory in CONFIG_DIRS:
        assert "google_service_account_key" not in _text(directory)
    iam = TF_ROOT / "modules/iam"
    bindings = resources(iam, "google_service_account_iam_member")
    assert bindings["pipeline_workload_identity"]["role"] == "roles/iam.workloadIdentityUser"
    for member in resources(iam, "google_project_iam_member").values():
        assert "roles/owner" not in str(member) and "roles/editor" not in str(member)
