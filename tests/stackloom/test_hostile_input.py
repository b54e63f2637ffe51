"""Hostile params files: whatever is in `params/acme/dev.yaml`, `build.py` either succeeds with lint-clean
templates or exits 2 with one paragraph naming the file; never a traceback, never a partial output/.

Every example runs the real command (`stackloom.cli.main`, a few as a subprocess of build.py) on a params
folder holding the hostile file next to a good one (vanity-market/preprod), over an output folder built
earlier from good files. After a failure that folder must be byte-identical; after a success the other
environment's files must be, and the hostile environment's templates must pass cfn-lint with the
project's configuration (`stackloom.audit.lint`).

Example counts are sized for CI (2 cores, the file in well under 2 minutes); `HOSTILE_EXAMPLES_SCALE=20`
multiplies them for a deeper local hunt. (The failures earlier hunts found are fixed; their regression
examples stay in the tests below.)
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stackloom import build as compiler
from stackloom import manifest as manifests
from stackloom.audit import lint
from stackloom.cli.main import main
from stackloom.output import write
from stackloom.params import MAX_BYTES, load_spec
from templates import spec as spec_module

from ..helpers import PARAMS, PROJECT

SYSTEM, ENVIRONMENT = "acme", "dev"
HOSTILE = Path(SYSTEM) / f"{ENVIRONMENT}.yaml"
NEIGHBOUR = Path("vanity-market") / "preprod.yaml"
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SCALE = float(os.environ.get("HOSTILE_EXAMPLES_SCALE", "1"))  # e.g. 20 for a deeper local run


def examples(count: int) -> int:
    return max(1, int(count * SCALE))


MAX_MESSAGE = 4000

BASE = {
    "system": SYSTEM,
    "environment": ENVIRONMENT,
    "region": "eu-central-1",
    "tags": {"Team": "payments"},
    "network": {"cidr": "10.20.0.0/16", "availability_zones": 2, "nat": "single"},
    "load_balancer": {"http_only": True},
    "repositories": {"api": {"name": "acme-api"}},
    "services": {
        "api": {
            "port": 8080,
            "cpu": 256,
            "memory": 512,
            "image": {"repository": "api", "tag": "v1"},
            "load_balancer": {"health_check_path": "/health", "priority": 10},
            "environment": {"MODE": "dev"},
            "secrets": {
                "TOKEN": {"ssm": "/acme/dev/token"},
                "API_KEY": {"secrets_manager": "acme/dev/api", "json_key": "key"},
            },
            "command": ["node", "server.js"],
            "connects_to": ["cache", "worker"],
        },
        "worker": {"port": 9000, "image": {"uri": "public.ecr.aws/acme/worker", "tag": "1.0"}},
    },
    "cache": {"nodes": 2},
    "database": {"enabled": False},
}

INTERESTING_TEXT = [
    "",
    " ",
    "\t",
    "\n",
    "0",
    "-1",
    "null",
    "~",
    "yes",
    "no",
    "NaN",
    ".inf",
    "1e309",
    "ünïcödé",
    "日本語",
    "Ω≈ç√",
    "\u202e\u2066",
    "\x00",
    "\x07bell",
    "a" * 300,
    "${AWS::AccountId}",
    "${Foo}",
    "{{resolve:secretsmanager:acme/dev/db:SecretString:password}}",
    "{{resolve:ssm:/acme/dev/x}}",
    '"quoted"',
    "back\\slash",
    "a:b",
    "a/b",
    "../../etc/passwd",
    "0.0.0.0/0",
    "10.20.0.0/16",
    "10.0.0.0/8",
    "256.0.0.0/16",
    "10.20.0.0/33",
    "arn:aws:iam::aws:policy/AdministratorAccess",
]


def texts(max_size: int, alphabet=None):
    """Any Unicode text, astral planes (emoji, CJK extensions) included; lone surrogates cannot be written
    to a UTF-8 file, so they are left out."""
    return st.text(alphabet=alphabet or st.characters(exclude_categories=("Cs",)), max_size=max_size)


# ---- running the command --------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def earlier_output(tmp_path_factory) -> Path:
    """An output folder built from good files (the hostile environment's good version included)."""
    folder = tmp_path_factory.mktemp("earlier-output")
    write(compiler.compile_environment(spec_module.parse(BASE)), folder)
    write(compiler.compile_environment(load_spec(PARAMS / NEIGHBOUR)), folder)
    return folder


@contextlib.contextmanager
def workspace(earlier: Path, content: bytes | None):
    """A params folder with the hostile file (None: none written) and the neighbour, and a copy of `earlier`."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as root:
        root = Path(root)
        params, output = root / "params", root / "output"
        (params / HOSTILE).parent.mkdir(parents=True)
        (params / NEIGHBOUR).parent.mkdir(parents=True)
        shutil.copyfile(PARAMS / NEIGHBOUR, params / NEIGHBOUR)
        if content is not None:
            (params / HOSTILE).write_bytes(content)
        shutil.copytree(earlier, output)
        yield params, output


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse
            code = stop.code
        except BaseException as error:  # noqa: BLE001 - exactly what must not happen
            raise AssertionError(f"uncaught {type(error).__name__}: {error} (a user would see a traceback)") from error
    return code, out.getvalue(), err.getvalue()


_LINTED: dict[str, list[str]] = {}


def lint_findings(env_dir: Path) -> list[str]:
    """cfn-lint findings for one built environment; identical template bodies are linted once per session."""
    findings = []
    region = manifests.load(env_dir).region  # each environment for its own region
    for path in lint.template_files(env_dir):
        key = hashlib.sha256(path.read_bytes() + region.encode()).hexdigest()
        if key not in _LINTED:
            _LINTED[key] = lint.lint_files([path], region)[path]
        findings += [f"{path.name}: {finding}" for finding in _LINTED[key]]
    return findings


def assert_survives(earlier: Path, content: bytes | None) -> tuple[int, str]:
    """Run the build on the hostile file and check the contract; returns (exit code, stderr)."""
    before = snapshot(earlier)
    with workspace(earlier, content) as (params, output):
        code, out, err = run_in_process(["build", "--params", str(params), "--output", str(output), "-q"])
        after = snapshot(output)
        assert "Traceback" not in out + err
        if code == 0:
            neighbour = {key: value for key, value in before.items() if key.startswith("vanity-market")}
            assert {key: after[key] for key in neighbour} == neighbour
            findings = lint_findings(output / SYSTEM / ENVIRONMENT)
            assert findings == [], "build succeeded but the templates are not lint-clean:\n" + "\n".join(findings)
        else:
            assert code == 2, (code, err)
            assert_one_paragraph(err, params / HOSTILE)
            assert after == before, "a failed build changed the output folder"
    return code, err


def assert_one_paragraph(err: str, path: Path) -> None:
    message = err.strip()
    assert message.startswith("error: "), err
    assert "\n\n" not in message, f"more than one paragraph:\n{err}"
    assert str(path) in message or f"{SYSTEM}/{ENVIRONMENT}" in message, f"the message does not name the file:\n{err}"
    assert len(message) <= MAX_MESSAGE, f"message of {len(message)} characters"


def dump(data) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000).encode("utf-8")


def test_the_good_base_builds_lint_clean(earlier_output):
    # GIVEN the unmodified base spec WHEN built THEN it succeeds and lints clean (the mutations start from a good file)
    code, _ = assert_survives(earlier_output, dump(BASE))
    assert code == 0


# ---- structured mutations of a good spec ---------------------------------------------------------

DELETE = object()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


def _get(data, path):
    for part in path:
        data = data[part]
    return data


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**31),
    st.integers(max_value=-(2**31)),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    texts(40),
    st.sampled_from(INTERESTING_TEXT),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(texts(12), st.sampled_from(INTERESTING_TEXT)), inner, max_size=4),
    ),
    max_leaves=8,
)


def _same_kind(base: dict, path):
    """A value of the same type as the base has there: passes type checks, tests the semantic ones."""
    current = _get(base, path)
    if isinstance(current, bool):
        return st.booleans()
    if isinstance(current, int):
        return st.one_of(st.integers(), st.integers(min_value=-2, max_value=70000))
    if isinstance(current, str):
        return st.one_of(
            texts(60),
            st.sampled_from(INTERESTING_TEXT),
            texts(40, alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_./:"),
        )
    if isinstance(current, list):
        return st.lists(st.one_of(texts(20), st.sampled_from(INTERESTING_TEXT)), max_size=4)
    if isinstance(current, dict):
        return st.dictionaries(
            st.one_of(texts(20), st.sampled_from(INTERESTING_TEXT)),
            st.one_of(texts(20), st.sampled_from(INTERESTING_TEXT)),
            max_size=3,
        )
    return values


def edit_lists(base: dict, skip=()):
    """Up to three edits of `base`: a same-kind value, any value or a deletion at a path, or a new key."""
    paths = [path for path in _paths(base) if path and not any(path[: len(s)] == s for s in skip)]
    mappings = [path for path in _paths(base) if isinstance(_get(base, path), dict)]
    edit = st.one_of(
        st.sampled_from(paths).flatmap(lambda path: st.tuples(st.just("set"), st.just(path), _same_kind(base, path))),
        st.tuples(st.just("set"), st.sampled_from(paths), st.one_of(values, st.just(DELETE))),
        st.tuples(
            st.just("add"),
            st.sampled_from(mappings),
            st.tuples(st.one_of(texts(20), st.sampled_from(INTERESTING_TEXT)), values),
        ),
    )
    return st.lists(edit, min_size=1, max_size=3)


def apply(edits_, base: dict = BASE) -> dict:
    data = copy.deepcopy(base)
    for kind, path, value in edits_:
        place = path if kind == "add" else path[:-1]
        try:
            parent = _get(data, place)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the place
        if kind == "add":
            if isinstance(parent, dict):
                key, item = value
                parent[key] = item
            continue
        last = path[-1]
        fits = isinstance(parent, dict) or (isinstance(parent, list) and isinstance(last, int) and last < len(parent))
        if not fits:
            continue
        if value is DELETE:
            if isinstance(parent, dict):
                parent.pop(last, None)
            else:
                parent.pop(last)
        else:
            parent[last] = value
    return data


@settings(max_examples=examples(60), **SETTINGS)
@given(edit_lists(BASE))
@example(
    [
        (
            "set",
            ("services", "api", "environment", "MODE"),
            "{{resolve:secretsmanager:acme/dev/db:SecretString:password}}",
        )
    ]
)
@example([("set", ("services", "api", "secrets", "API_KEY", "json_key"), "${AWS::AccountId}")])
@example([("set", ("services", "api", "port"), 10**400)])
@example([("set", ("tags",), {"aws:reserved": "x"})])
@example([("set", ("network",), DELETE)])
@example([("set", ("services",), {})])
@example([("add", (), ("0\n\n0", None))])  # found: a key's newlines split the error into paragraphs
def test_mutated_specs_build_clean_or_fail_clearly(earlier_output, edits_):
    # GIVEN a good spec with up to three hostile edits WHEN built THEN lint-clean output or one clear error
    assert_survives(earlier_output, dump(apply(edits_)))


RICH = copy.deepcopy(BASE)
RICH["load_balancer"] = {"name": "acme-alb", "dns": {"name": "api.dev.acme.example", "zone_name": "acme.example"}}
RICH["network"].update(availability_zones=["eu-central-1a", "eu-central-1b"], nat="per-az")
RICH["cluster"] = {
    "ec2_capacity": {"instance_type": "t3.small", "max_size": 3},
    "service_discovery_namespace": "acme.internal",
}
RICH["services"]["api"]["load_balancer"]["host_headers"] = ["api.dev.acme.example"]
RICH["services"]["api"].update(
    readonly_root_filesystem=True,
    writable_paths=["/tmp"],
    user="1000:1000",
    autoscaling={"min_capacity": 1, "max_capacity": 3},
    connects_to=["cache", "worker", "database"],
)
RICH["services"]["worker"].update(
    compute="ec2", health_check_command=["curl", "-f", "http://localhost:9000/"], extra_ports=[9001]
)
RICH["database"] = {"enabled": True, "instances": 2}


@settings(max_examples=examples(40), **SETTINGS)
@given(edit_lists(RICH))
def test_mutated_rich_specs_build_clean_or_fail_clearly(earlier_output, edits_):
    # GIVEN a spec using TLS/DNS, EC2 capacity, autoscaling, a database, with hostile edits WHEN built THEN as above
    assert_survives(earlier_output, dump(apply(edits_, RICH)))


# ---- networks: CIDRs that overlap, do not fit, or are not CIDRs ----------------------------------

octet = st.integers(min_value=0, max_value=255)
cidrs = st.one_of(
    st.builds(lambda a, b, c, d, p: f"{a}.{b}.{c}.{d}/{p}", octet, octet, octet, octet, st.integers(0, 33)),
    st.builds(
        lambda b, c, p: f"10.{b}.{c}.0/{p}",
        st.integers(0, 3),
        st.sampled_from([0, 16, 32, 48, 64, 128]),
        st.integers(16, 28),
    ),
    st.sampled_from(INTERESTING_TEXT),
)
networks = st.fixed_dictionaries(
    {"cidr": st.one_of(st.sampled_from(["10.20.0.0/16", "10.20.0.0/22", "10.20.0.0/24"]), cidrs)},
    optional={
        "availability_zones": st.one_of(
            st.integers(-1, 8),
            st.lists(
                st.sampled_from(["eu-central-1a", "eu-central-1b", "eu-central-1c", "us-east-1a", "x"]), max_size=7
            ),
        ),
        "subnet_prefix": st.integers(8, 32),
        "public_subnets": st.lists(cidrs, max_size=4),
        "private_subnets": st.lists(cidrs, max_size=4),
        "nat": st.sampled_from(["none", "single", "per-az", "two"]),
        "flow_logs": st.booleans(),
    },
)


@settings(max_examples=examples(40), **SETTINGS)
@given(networks)
@example(
    {
        "cidr": "10.20.0.0/16",
        "availability_zones": 2,
        "public_subnets": ["10.20.0.0/24", "10.20.0.0/25"],
        "private_subnets": ["10.20.2.0/24", "10.20.3.0/24"],
    }
)
@example({"cidr": "10.20.0.0/24", "availability_zones": 6, "subnet_prefix": 28})
@example({"cidr": "10.20.0.0/24", "availability_zones": 6, "subnet_prefix": 27})
def test_networks_build_clean_or_fail_clearly(earlier_output, network):
    # GIVEN CIDRs that overlap, do not fit, are not CIDRs, and AZ counts/lists that do not match WHEN built THEN as above
    assert_survives(earlier_output, dump({**BASE, "network": network}))


# ---- files that are not a spec at all -------------------------------------------------------------


def _billion_laughs() -> bytes:
    lines = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    lines += [
        f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]" for previous, name in zip("abcdefgh", "bcdefghi")
    ]
    return ("\n".join(lines) + "\n").encode()


def _nested(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


RAW = {
    "empty file": b"",
    "only whitespace": b"   \n\t\n",
    "only a comment": b"# nothing here\n",
    "null document": b"~\n",
    "scalar document": b"42\n",
    "list document": b"- system\n- acme\n",
    "non-UTF-8 bytes": b"system: acme\nenvironment: \xff\xfe\xfd\n",
    "UTF-16 with BOM": "system: acme\n".encode("utf-16"),
    "NUL bytes": b"system: acme\x00\nenvironment: dev\n",
    "billion laughs": _billion_laughs(),
    "merge key with alias": dump(BASE) + b"defaults: &d {nodes: 2}\ncache:\n  <<: *d\n",
    "duplicate top-level key": dump(BASE) + b"system: acme\n",
    "duplicate nested key": dump(BASE).replace(b"  nat: single\n", b"  nat: single\n  nat: per-az\n"),
    "python object tag": b"system: !!python/object/apply:os.system ['echo pwned']\n",
    "binary tag": b"system: !!binary aGVsbG8=\n",
    "set tag": b"services: !!set {a, b}\n",
    "timestamp as a name": b"system: 2001-12-14\nenvironment: dev\n",
    "unhashable key": b"? [a, b]\n: c\n",
    "deep list nesting": _nested(5000).encode(),
    "very deep list nesting": _nested(100_000).encode(),
    "deep mapping nesting": ("".join("  " * i + f"k{i}:\n" for i in range(2000)) + "  " * 2000 + "v\n").encode(),
    "integer with 5000 digits": dump(BASE).replace(b"port: 8080", b"port: " + b"9" * 5000),
    "hex integer beyond 64 bits": dump(BASE).replace(b"port: 8080", b"port: 0x" + b"F" * 40),
    "float overflow": dump(BASE).replace(b"port: 8080", b"port: 1e400"),
    "tab indentation": b"system: acme\nnetwork:\n\tcidr: 10.0.0.0/16\n",
    "unterminated quote": b"system: 'acme\n",
    "over the size limit": b"# " + b"x" * MAX_BYTES + b"\n",
    "huge key duplicated": b"k" * 200_000 + b": 1\n" + b"k" * 200_000 + b": 2\n",
}


@pytest.mark.parametrize("name", sorted(RAW))
def test_raw_hostile_files_fail_clearly(earlier_output, name):
    # GIVEN a file that is no spec at all (bombs, bad encodings, tags, nesting, sizes) WHEN built THEN exit 2, clearly
    code, err = assert_survives(earlier_output, RAW[name])
    assert code == 2


def test_a_directory_in_place_of_the_file(earlier_output):
    with workspace(earlier_output, None) as (params, output):
        (params / HOSTILE).mkdir()
        before = snapshot(output)
        code, _, err = run_in_process(["build", "--params", str(params), "--output", str(output), "-q"])
        assert code == 2 and "Traceback" not in err
        assert_one_paragraph(err, params / HOSTILE)
        assert snapshot(output) == before


@settings(max_examples=examples(30), **SETTINGS)
@given(
    st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")))
)
def test_random_bytes_fail_clearly(earlier_output, content):
    # GIVEN a file of random bytes or text WHEN built THEN (almost surely) one clear error, output untouched
    assert_survives(earlier_output, content)


@pytest.mark.parametrize("section", sorted(BASE))
def test_each_missing_top_level_section(earlier_output, section):
    data = {key: value for key, value in BASE.items() if key != section}
    code, err = assert_survives(earlier_output, dump(data))
    if section in ("network", "services"):
        assert code == 2 and section in err
    if section in ("system", "environment"):  # they default to the file's place (acme/dev.yaml)
        assert code == 0, err


# ---- a few as real processes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["billion laughs", "non-UTF-8 bytes", "very deep list nesting", "duplicate nested key"]
)
def test_real_process_survives_hostile_files(earlier_output, name):
    before = snapshot(earlier_output)
    with workspace(earlier_output, RAW[name]) as (params, output):
        result = subprocess.run(
            [sys.executable, str(PROJECT / "build.py"), "--params", str(params), "--output", str(output)],
            capture_output=True,
            text=True,
            cwd=PROJECT,
            timeout=120,
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr + result.stdout
        assert_one_paragraph(result.stderr, params / HOSTILE)
        assert snapshot(output) == before


# ---- known failures (outside loader/spec; for the owners of compiler.py / service.py / root.py) -------


def _variant(*edits_) -> bytes:
    data = copy.deepcopy(BASE)
    for where, value in edits_:
        place = data
        for part in where[:-1]:
            place = place.setdefault(part, {})
        place[where[-1]] = value
    return dump(data)


# Once known failures, each with the fix it got; the first group must now build lint-clean, the second must be
# refused with a message naming the field.
BUILDS_CLEAN = {
    # stackloom.render writes UTF-8 (ensure_ascii=False): no surrogate pair escapes that cfn-lint cannot parse
    "emoji in an environment value": _variant((("services", "api", "environment", "GREETING"), "hello \U0001f642")),
    # root parameters beyond the quota are packed into group stacks instead of a troposphere ValueError
    "100 services": _variant(
        (("services",), {**BASE["services"], **{f"s{i}": {"port": 9000, "image": {"uri": "x/y"}} for i in range(98)}})
    ),
    # service._volume_names appends the position when two paths would share a volume name
    "writable paths differing in case": _variant(
        (("services", "api", "readonly_root_filesystem"), True),
        (("services", "api", "writable_paths"), ["/tmp", "/TMP", "/a.b", "/a_b"]),
    ),
    # base.literal: text with ${ becomes a Fn::Sub with the ${! escape (E1029 otherwise)
    "a logical ID in ${} in a command": _variant(
        (("services", "api", "command"), ["sh", "-c", "echo ${TaskRole}"]),
        (("services", "api", "environment", "X"), "${ClusterName}"),
    ),
}
REFUSED = {
    # spec checks names against the lists cfn-lint ships (templates/catalog.py)
    "unknown EC2 instance type": (
        _variant(
            (("cluster", "ec2_capacity"), {"instance_type": "t3.mediun"}), (("services", "worker", "compute"), "ec2")
        ),
        "cluster.ec2_capacity.instance_type",
        "t3.medium",
    ),
    "unknown Aurora engine version": (
        _variant((("database", "engine_version"), "17.99")),
        "database.engine_version",
        None,
    ),
    "unknown cache node type": (
        _variant((("cache",), {"node_type": "cache.t4g.mikro"})),
        "cache.node_type",
        "cache.t4g.micro",
    ),
    "unknown Redis version": (_variant((("cache",), {"engine_version": "7.9"})), "cache.engine_version", None),
}


@pytest.mark.parametrize("name", sorted(BUILDS_CLEAN))
def test_former_failures_build_clean(earlier_output, name):
    code, err = assert_survives(earlier_output, BUILDS_CLEAN[name])
    assert code == 0, err


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_names_aws_does_not_know_are_refused(earlier_output, name):
    content, field, suggestion = REFUSED[name]
    code, err = assert_survives(earlier_output, content)
    assert code == 2 and field in err and "not one AWS accepts" in err, err
    if suggestion:
        assert f"did you mean {suggestion}" in err, err


# ---- regressions found by the tests above (fixed in templates/spec.py) ----------------------------


@pytest.mark.parametrize(
    "tags, message",
    [
        ({"aws:owner": "x"}, "aws: prefix is reserved"),
        ({"AWS:Owner": "x"}, "aws: prefix is reserved"),
        ({"Team": ""}, "1 to 255 characters"),
        ({"k" * 128: "x"}, "1 to 127 characters"),
        ({"Team": "x" * 256}, "1 to 255 characters"),
        ({"Team": "a;b"}, "characters ';' are not allowed"),
    ],
)
def test_tags_aws_would_refuse_are_spec_errors(tags, message):
    # found: `tags: {aws:reserved: x}` and `{Team: ""}` built templates that cfn-lint (E3024, E3033) rejects;
    # the limits are those of the strictest tagged type emitted (ECR: keys <= 127, values 1..255)
    with pytest.raises(ValueError, match=message):
        spec_module.parse({**BASE, "tags": tags})


def test_unicode_letters_are_fine_in_tags():
    assert spec_module.parse({**BASE, "tags": {"Équipe": "Zürich 2 ünïcödé"}}).tags == {"Équipe": "Zürich 2 ünïcödé"}


@pytest.mark.parametrize("json_key", ["a:b", "${Foo}", "", "with space"])
def test_json_keys_that_would_break_the_secret_reference_are_refused(json_key):
    # found: json_key goes into `${Arn}:<json_key>::` (a Fn::Sub): `${Foo}` made an invalid Sub, `:` shifts the fields
    data = copy.deepcopy(BASE)
    data["services"]["api"]["secrets"]["API_KEY"]["json_key"] = json_key
    with pytest.raises(ValueError, match="json_key"):
        spec_module.parse(data)


@pytest.mark.parametrize(
    "where, value, message",
    [
        (("load_balancer", "name"), "my alb!", "load_balancer.name"),  # was a troposphere ValueError: a traceback
        (("load_balancer", "name"), "internal-api", "load_balancer.name"),
        (("load_balancer", "name"), "-api", "load_balancer.name"),
        (("services", "api", "load_balancer", "health_check_path"), "/" + "x" * 1024, "health_check_path"),
        (("services", "api", "extra_ports"), [9000, 9000], "extra_ports lists 9000 more than once"),
        (("services", "api", "writable_paths"), ["/tmp", "/tmp"], "writable_paths lists /tmp more than once"),
        (("repositories", "api", "name"), "a" * 256, "repositories.api.name"),
        (("repositories", "api", "name"), "0", "repositories.api.name"),
    ],
)
def test_values_the_templates_cannot_carry_are_spec_errors(earlier_output, where, value, message):
    # found by probing the free-form fields: each built a template cfn-lint rejects (E3033, E3037) or crashed
    data = copy.deepcopy(BASE)
    place = data
    for part in where[:-1]:
        place = place[part]
    place[where[-1]] = value
    code, err = assert_survives(earlier_output, dump(data))
    assert code == 2 and message in err
