"""deploy/Dockerfile read as text (there is no Docker engine here to build it)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib

import pytest

from tests.deploy import chart

DOCKERFILE = chart.ROOT / "deploy" / "Dockerfile"
IGNORE = chart.ROOT / "deploy" / "Dockerfile.dockerignore"
SECRET_NAME = re.compile(r"(?i)(KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|CREDENTIAL)")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        op, _, args = full.partition(" ")
        out.append((op.upper(), args.strip()))
    return out


@pytest.fixture(scope="module")
def steps():
    return instructions(DOCKERFILE.read_text())


def _env_names(args: str) -> list[str]:
    return [word.split("=", 1)[0] for word in shlex.split(args)]


def test_base_is_python_311_slim(steps):
    assert steps[0] == ("FROM", "python:3.11-slim")


def test_runs_as_a_non_root_user(steps):
    users = [args for op, args in steps if op == "USER"]
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"0", "root"}
    assert int(user) >= 1000
    last_user = max(i for i, (op, _) in enumerate(steps) if op == "USER")
    cmd = max(i for i, (op, _) in enumerate(steps) if op in {"CMD", "ENTRYPOINT"})
    assert last_user < cmd


def test_no_secret_is_baked_in(steps):
    names = [n for op, args in steps if op in {"ENV", "ARG"} for n in _env_names(args)]
    assert names and not [n for n in names if SECRET_NAME.search(n)], names
    copied = " ".join(args for op, args in steps if op in {"COPY", "ADD"})
    assert ".env" not in copied and "dagster.yaml" not in copied


def test_installs_the_hashed_lock_before_the_project_without_deps(steps):
    runs = [(i, args) for i, (op, args) in enumerate(steps) if op == "RUN"]
    lock = [i for i, a in runs if "--require-hashes" in a and "requirements.lock" in a]
    project = [i for i, a in runs if "--no-deps" in a and "/tmp/src" in a]
    assert lock and project and lock[0] < project[0]
    assert any(op == "COPY" and args.split()[0] == "requirements.lock" for op, args in steps)


def test_copies_every_package_the_project_installs(steps):
    pyproject = tomllib.loads((chart.ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    modules = set(pyproject["tool"]["setuptools"]["py-modules"])
    sources = {src for op, args in steps if op == "COPY" for src in args.split()[:-1]}
    assert packages <= sources
    assert {f"{m}.py" for m in modules} <= sources
    for src in sources:
        assert (chart.ROOT / src).exists(), src
    allowed = {line[1:] for line in IGNORE.read_text().splitlines() if line.startswith("!")}
    assert sources <= allowed, "a COPY source the .dockerignore leaves out of the build context"


def test_serves_the_definitions_module_on_3030(steps):
    assert ("EXPOSE", "3030") in steps
    (cmd,) = [json.loads(args) for op, args in steps if op == "CMD"]
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert cmd[cmd.index("-p") + 1] == "3030" and cmd[cmd.index("-m") + 1] == "definitions"
    values = chart.load_values()
    assert chart.code_location(values)["port"] == 3030
    assert chart.code_location(values)["codeServerArgs"] == ["-m", "definitions"]


@pytest.mark.parametrize(
    ("mutation", "test"),
    [
        (("USER 10001:10001", "USER root"), test_runs_as_a_non_root_user),
        (("NUMBA_CACHE_DIR=", "OPENAI_API_KEY=sk-x NUMBA_CACHE_DIR="), test_no_secret_is_baked_in),
        (
            ("pip install --require-hashes -r", "pip install -r"),
            test_installs_the_hashed_lock_before_the_project_without_deps,
        ),
    ],
)
def test_the_checks_catch_a_broken_dockerfile(mutation, test):
    old, new = mutation
    text = DOCKERFILE.read_text()
    assert old in text
    with pytest.raises(AssertionError):
        test(instructions(text.replace(old, new, 1)))


def test_pods_run_as_the_image_user(steps):
    # runAsNonRoot can only be verified by the kubelet for a numeric USER
    uid, gid = (int(x) for x in [args for op, args in steps if op == "USER"][-1].split(":"))
    values = chart.load_values()
    code_server = chart.code_location(values)["podSecurityContext"]
    run_pod = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["podSpecConfig"][
        "securityContext"
    ]
    for ctx in (code_server, run_pod):
        assert (ctx["runAsUser"], ctx["runAsGroup"], ctx["runAsNonRoot"]) == (uid, gid, True)
