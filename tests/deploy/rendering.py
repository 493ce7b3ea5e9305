"""Offline rendering of deploy/ for the tests: a small kustomize in Python, and `kustomize build` when a binary exists.

The resolver covers what deploy/k8s uses: resources (files and directories), configMapGenerator and
secretGenerator (literals, files, behavior: merge), labels, namespace, images, and patches (strategic
merge by kind and name or by target, and JSON 6902). Generated names get no hash suffix; every
lookup goes through references (envFrom, volumes), so the tests read the same with either renderer.
"""

from __future__ import annotations

import base64
import copy
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAYS = ("dev", "prod")
SERVICES = ("intake", "scoring", "ordering", "registry", "notify")

POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "Job", "DaemonSet")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PersistentVolume"}
# Strategic merge: lists of objects are merged by one of these keys, as the Kubernetes types declare.
MERGE_KEYS = ("name", "mountPath", "containerPort", "port")


def load_documents(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return [document for document in yaml.safe_load_all(stream) if document is not None]


# ----------------------------------------------------------------------------------------------------
# Strategic merge and JSON 6902
# ----------------------------------------------------------------------------------------------------


def _merge_key(base: list[Any], patch: list[Any]) -> str | None:
    items = base + patch
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in MERGE_KEYS:
        if all(key in item for item in items):
            return key
    return None


def strategic_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = strategic_merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list):
        key = _merge_key(base, patch)
        if key is None:
            return copy.deepcopy(patch)
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            index = next((i for i, old in enumerate(merged_list) if old[key] == item[key]), None)
            if index is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[index] = strategic_merge(merged_list[index], item)
        return merged_list
    return copy.deepcopy(patch)


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.lstrip("/").split("/")]


def _step(node: Any, part: str) -> Any:
    return node[int(part)] if isinstance(node, list) else node[part]


def json6902(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    result = copy.deepcopy(document)
    for operation in operations:
        *parents, last = _pointer(operation["path"])
        node: Any = result
        for part in parents:
            node = _step(node, part)
        op = operation["op"]
        if op == "test":
            assert _step(node, last) == operation["value"], f"JSON patch test failed at {operation['path']}"
        elif op == "remove":
            del node[int(last) if isinstance(node, list) else last]
        elif op in ("add", "replace"):
            value = copy.deepcopy(operation["value"])
            if isinstance(node, list):
                if last == "-":
                    node.append(value)
                elif op == "add":
                    node.insert(int(last), value)
                else:
                    node[int(last)] = value
            else:
                assert op == "add" or last in node, f"JSON patch replace of a missing {operation['path']}"
                node[last] = value
        else:
            raise NotImplementedError(f"JSON patch op {op!r}")
    return result


# ----------------------------------------------------------------------------------------------------
# Kustomize, the subset deploy/k8s uses
# ----------------------------------------------------------------------------------------------------


def _matches(obj: dict[str, Any], target: dict[str, Any]) -> bool:
    meta = obj["metadata"]
    if "kind" in target and obj["kind"] != target["kind"]:
        return False
    if "name" in target and not re.fullmatch(target["name"], meta["name"]):
        return False
    if "labelSelector" in target:
        labels = meta.get("labels") or {}
        for requirement in target["labelSelector"].split(","):
            key, _, value = requirement.partition("=")
            if labels.get(key.strip()) != value.strip():
                return False
    return True


def _generated(kind: str, generator: dict[str, Any], directory: Path) -> dict[str, Any]:
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for entry in generator.get("files", []):
        key, _, file_name = entry.rpartition("=")
        path = directory / file_name
        data[key or path.name] = path.read_text(encoding="utf-8")
    for env_file in generator.get("envs", []):
        for line in (directory / env_file).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                data[key.strip()] = value
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": generator["name"]}}
    if kind == "Secret":
        obj["type"] = generator.get("type", "Opaque")
        obj["data"] = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    else:
        obj["data"] = data
    return obj


def _apply_generators(objects: list[dict[str, Any]], kustomization: dict[str, Any], directory: Path) -> None:
    for field, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        for generator in kustomization.get(field, []):
            new = _generated(kind, generator, directory)
            existing = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == generator["name"]]
            behavior = generator.get("behavior", "create")
            if behavior == "create":
                assert not existing, f"{kind} {generator['name']} generated twice"
                objects.append(new)
                continue
            assert existing, f"{kind} {generator['name']}: behavior {behavior} but nothing to {behavior}"
            if behavior == "merge":
                existing[0]["data"] = {**existing[0].get("data", {}), **new["data"]}
            else:
                existing[0]["data"] = new["data"]


def _apply_patches(objects: list[dict[str, Any]], kustomization: dict[str, Any], directory: Path) -> None:
    for entry in kustomization.get("patches", []):
        content = yaml.safe_load(entry["patch"]) if "patch" in entry else None
        if content is None:
            content = yaml.safe_load((directory / entry["path"]).read_text(encoding="utf-8"))
        target = entry.get("target")
        if isinstance(content, list):
            assert target, f"a JSON 6902 patch needs a target: {entry}"
            selected = [i for i, o in enumerate(objects) if _matches(o, target)]
            assert selected, f"patch {entry} matches nothing"
            for i in selected:
                objects[i] = json6902(objects[i], content)
            continue
        selector = target or {"kind": content["kind"], "name": re.escape(content["metadata"]["name"])}
        selected = [i for i, o in enumerate(objects) if _matches(o, selector)]
        assert selected, f"patch {entry} matches nothing"
        body = {k: v for k, v in content.items() if k not in ("apiVersion", "kind", "metadata")}
        for i in selected:
            objects[i] = strategic_merge(objects[i], body)


def pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if obj["kind"] in POD_TEMPLATE_KINDS:
        yield obj["spec"]["template"]["spec"]
    elif obj["kind"] == "CronJob":
        yield obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for spec in pod_specs(obj):
        yield from spec.get("initContainers", [])
        yield from spec.get("containers", [])


def _apply_images(objects: list[dict[str, Any]], images: list[dict[str, Any]]) -> None:
    for obj in objects:
        for container in containers(obj):
            name, _, _tag = container["image"].partition(":")
            for image in images:
                if image["name"] == name:
                    tag = image.get("newTag", _tag)
                    container["image"] = f"{image.get('newName', name)}" + (f":{tag}" if tag else "")


def render_kustomization(directory: Path) -> list[dict[str, Any]]:
    """Objects of one kustomization directory, in the order kustomize applies its steps."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    objects: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        objects.extend(render_kustomization(path) if path.is_dir() else load_documents(path))
    _apply_generators(objects, kustomization, directory)
    _apply_patches(objects, kustomization, directory)
    for group in kustomization.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(group["pairs"])
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    _apply_images(objects, kustomization.get("images", []))
    return objects


def kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def render_with_kustomize(directory: Path) -> list[dict[str, Any]]:
    command = kustomize_command()
    assert command is not None
    result = subprocess.run([*command, str(directory)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"{' '.join(command)} {directory} failed:\n{result.stderr}"
    return [document for document in yaml.safe_load_all(result.stdout) if document is not None]


# ----------------------------------------------------------------------------------------------------
# The rendered objects, and fixtures
# ----------------------------------------------------------------------------------------------------


@dataclass
class Rendered:
    overlay: str
    renderer: str
    objects: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((o for o in self.of_kind(kind) if o["metadata"]["name"] == name), None)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = self.find(kind, name)
        assert found is not None, f"{self.overlay} ({self.renderer}): no {kind} {name}"
        return found

    def generated(self, kind: str, base_name: str) -> dict[str, Any] | None:
        """A generated ConfigMap or Secret by the name it was given (kustomize adds a hash suffix)."""
        pattern = re.compile(rf"{re.escape(base_name)}(-[a-z0-9]{{10}})?")
        return next((o for o in self.of_kind(kind) if pattern.fullmatch(o["metadata"]["name"])), None)

    def config_data(self, kind: str, name: str) -> dict[str, str]:
        obj = self.get(kind, name)
        data = obj.get("data") or {}
        if kind == "Secret":
            return {key: base64.b64decode(value).decode() for key, value in data.items()}
        return dict(data)


_cache: dict[tuple[str, str], Rendered] = {}


def rendered(overlay: str, renderer: str) -> Rendered:
    key = (overlay, renderer)
    if key not in _cache:
        directory = K8S / "overlays" / overlay
        objects = render_kustomization(directory) if renderer == "python" else render_with_kustomize(directory)
        _cache[key] = Rendered(overlay, renderer, objects)
    return _cache[key]
