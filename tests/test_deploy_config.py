"""The deployment files say what we mean: store classes that import, and who may reach whom.

Rasa 3.6 replaces a `tracker_store` class it cannot import with an in-memory store and one warning,
so a misspelled class path would pass every other check and lose conversations in production.
The NetworkPolicies and Compose networks are read here as data (no cluster, no Docker engine) and
checked against the intent: the action server (it has no authentication) only for Rasa, PostgreSQL
and Redis only for Rasa and the retention job, Rasa only for the ingress controller.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest
import yaml
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.utils.common import class_from_module_path
from rasa.utils.endpoints import EndpointConfig

from cramp_ops import endpoints_check

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PRODUCTION = DEPLOY / "endpoints.production.yml"
K8S = DEPLOY / "k8s"
DNS, POSTGRES, REDIS, ACTIONS, RASA, HTTPS = 53, 5432, 6379, 5055, 5005, 443


def documents(path: Path) -> List[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


# ---- store classes ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "section, base", [("tracker_store", TrackerStore), ("lock_store", LockStore)]
)
def test_every_production_store_class_imports_as_a_rasa_store(section, base):
    path = documents(PRODUCTION)[0][section]["type"]
    cls = class_from_module_path(path)
    assert issubclass(cls, base) and cls.__module__.startswith("cramp_ops.")


def test_the_check_accepts_the_endpoints_files_from_any_working_directory(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cramp_ops.endpoints_check",
            str(PRODUCTION),
            str(ROOT / "endpoints.yml"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "cramp_ops.tracker_store.ReconnectingSQLTrackerStore" in done.stdout
    assert "cramp_ops.lock_store.AtomicRedisLockStore" in done.stdout


def test_rasa_silently_falls_back_to_memory_for_a_misspelled_class():
    """Why the check exists: Rasa itself does not fail."""
    config = EndpointConfig(type="cramp_ops.tracker_store.ReconnectingSqlTrackerStore")
    with pytest.warns(UserWarning, match="not found"):
        assert isinstance(TrackerStore.create(config, Domain.empty()), InMemoryTrackerStore)


@pytest.mark.parametrize(
    "store_type, complaint",
    [
        ("cramp_ops.tracker_store.ReconnectingSqlTrackerStore", "does not import"),
        ("cramp_ops.trackerstore.ReconnectingSQLTrackerStore", "does not import"),
        ("cramp_ops.lock_store.AtomicRedisLockStore", "is not a TrackerStore"),
    ],
)
def test_the_check_refuses_a_class_rasa_could_not_use(tmp_path, capsys, store_type, complaint):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: {store_type}\n")
    assert endpoints_check.main([str(endpoints)]) == 1
    assert complaint in capsys.readouterr().err


def test_rasas_own_store_names_are_left_to_rasa(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\nlock_store:\n  type: redis\n")
    assert endpoints_check.store_classes(endpoints) == {}


def test_the_retention_command_is_the_installed_console_script():
    (script,) = entry_points(group="console_scripts", name="cramp-retention")
    assert script.value == "cramp_ops.retention:main"
    (cronjob,) = documents(K8S / "retention-cronjob.yaml")
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][0] == "cramp-retention"
    compose = documents(DEPLOY / "docker-compose.yml")[0]
    assert "exec cramp-retention " in compose["services"]["retention"]["command"][-1]


# ---- Kubernetes: manifests and NetworkPolicies ----------------------------------------------------
@functools.lru_cache(maxsize=None)
def manifests() -> List[dict]:
    (kustomization,) = documents(K8S / "kustomization.yaml")
    return [doc for name in kustomization["resources"] for doc in documents(K8S / name)]


def pod_labels() -> Dict[str, Dict[str, str]]:
    """Workload name -> the labels of the pods it runs."""
    pods = {}
    for doc in manifests():
        if doc["kind"] == "Deployment":
            pods[doc["metadata"]["name"]] = doc["spec"]["template"]["metadata"]["labels"]
        elif doc["kind"] == "CronJob":
            template = doc["spec"]["jobTemplate"]["spec"]["template"]
            pods[doc["metadata"]["name"]] = template["metadata"]["labels"]
    return pods


def policies() -> List[dict]:
    return [doc for doc in manifests() if doc["kind"] == "NetworkPolicy"]


def selects(selector: dict, labels: Dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels are read by these tests"
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def rules(labels: Dict[str, str], direction: str) -> Iterator[Tuple[dict, Set[Tuple[str, int]]]]:
    """(peer, ports) for every rule of `direction` ("ingress"/"egress") that applies to `labels`."""
    side = "from" if direction == "ingress" else "to"
    for policy in policies():
        spec = policy["spec"]
        if direction.capitalize() in spec["policyTypes"] and selects(spec["podSelector"], labels):
            for rule in spec.get(direction, []):
                ports = {(p.get("protocol", "TCP"), p["port"]) for p in rule["ports"]}
                for peer in rule[side]:
                    yield peer, ports


def reaches(labels: Dict[str, str], port: int) -> bool:
    return any(port in {number for _, number in ports} for _, ports in rules(labels, "egress"))


def test_every_kubernetes_file_parses_and_the_policies_are_applied():
    (kustomization,) = documents(K8S / "kustomization.yaml")
    assert "network-policies.yaml" in kustomization["resources"]
    for path in K8S.glob("*.yaml"):
        assert documents(path), path


def test_the_namespace_denies_everything_by_default():
    default = [
        p["spec"]
        for p in policies()
        if p["spec"]["podSelector"] == {} and {"Ingress", "Egress"} <= set(p["spec"]["policyTypes"])
    ]
    assert default and not default[0].get("ingress") and not default[0].get("egress")


def test_every_rule_names_its_peers_and_ports():
    """An empty `from`/`to` or `ports` would mean everyone or every port."""
    for policy in policies():
        for direction, side in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(direction, []):
                assert rule.get(side) and rule.get("ports"), (policy["metadata"]["name"], rule)


def test_every_workload_has_a_policy_of_its_own():
    own = [p["spec"]["podSelector"] for p in policies() if p["spec"]["podSelector"]]
    for name, labels in pod_labels().items():
        assert any(selects(selector, labels) for selector in own), name


def test_only_rasa_reaches_the_action_server():
    pods = pod_labels()
    ingress = list(rules(pods["actions"], "ingress"))
    assert ingress == [({"podSelector": {"matchLabels": pods["rasa"]}}, {("TCP", ACTIONS)})]
    assert [name for name, labels in pods.items() if reaches(labels, ACTIONS)] == ["rasa"]


def test_only_the_ingress_controller_reaches_rasa():
    ingress = list(rules(pod_labels()["rasa"], "ingress"))
    assert ingress and all(ports == {("TCP", RASA)} for _, ports in ingress)
    for peer, _ in ingress:
        namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        assert namespace == "ingress-nginx" and "ipBlock" not in peer


def test_nothing_reaches_the_retention_job():
    assert not list(rules(pod_labels()["retention"], "ingress"))


def test_only_rasa_and_the_retention_job_reach_the_databases():
    pods = pod_labels()
    assert {name for name, labels in pods.items() if reaches(labels, POSTGRES)} == {
        "rasa",
        "retention",
    }
    assert {name for name, labels in pods.items() if reaches(labels, REDIS)} == {"rasa"}


def test_the_action_server_calls_nothing_but_dns():
    ports = {port for _, ports in rules(pod_labels()["actions"], "egress") for port in ports}
    assert ports == {("UDP", DNS), ("TCP", DNS)}


def test_rasas_https_egress_excludes_private_and_metadata_ranges():
    blocks = [
        peer["ipBlock"]
        for peer, ports in rules(pod_labels()["rasa"], "egress")
        if "ipBlock" in peer
    ]
    assert blocks and all(
        {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(block["except"])
        for block in blocks
    )
    assert all(
        ports == {("TCP", HTTPS)}
        for peer, ports in rules(pod_labels()["rasa"], "egress")
        if "ipBlock" in peer
    )


# ---- Docker Compose networks -----------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def compose() -> dict:
    return documents(DEPLOY / "docker-compose.yml")[0]


def members(network: str) -> Set[str]:
    return {
        name
        for name, service in compose()["services"].items()
        if network in service.get("networks", [])
    }


def test_every_service_names_its_networks():
    declared = set(compose()["networks"])
    for name, service in compose()["services"].items():
        assert service.get("networks") and set(service["networks"]) <= declared, name


def test_the_action_server_and_the_stores_are_on_internal_networks_only():
    networks = compose()["networks"]
    rasa = {name for name in compose()["services"] if name.startswith("rasa")}
    for service in ("actions", "postgres", "redis"):
        for network in compose()["services"][service]["networks"]:
            assert (networks[network] or {}).get("internal") is True, (service, network)
            assert members(network) - {service, "actions", "postgres", "redis"} <= rasa | {
                "retention"
            }
    assert members(compose()["services"]["actions"]["networks"][0]) == rasa | {"actions"}
    assert not members(compose()["services"]["retention"]["networks"][0]) & {"actions", "nginx"}


def test_only_nginx_is_published_and_it_reaches_only_rasa():
    services = compose()["services"]
    assert [name for name, service in services.items() if service.get("ports")] == ["nginx"]
    reachable = set().union(*(members(network) for network in services["nginx"]["networks"]))
    assert reachable - {"nginx"} == {name for name in services if name.startswith("rasa")}
