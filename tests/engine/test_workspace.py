"""Workspace: provider factory (credentials from the environment, sandbox state), digest, provider choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.model import Config, Policy, ProviderConfig, ProviderKind, Targets
from reconciler.engine.build import build_provider, credentials_from_env, state_dir
from reconciler.engine.workspace import repository_digest, used_providers
from reconciler.errors import ConfigError
from reconciler.manifest.load import load_manifest_repository
from tests.support.paths import ROOT

ISPRING = ProviderConfig(
    "lms",
    ProviderKind.ISPRING,
    url="https://acme.ispringlearn.com",
    client_id_env="ISPRING_CLIENT_ID",
    client_secret_env="ISPRING_CLIENT_SECRET",
)


def test_credentials_come_from_the_variables_the_config_names() -> None:
    env = {"ISPRING_CLIENT_ID": "id-1", "ISPRING_CLIENT_SECRET": "s3cr3t-value"}
    credentials = credentials_from_env(ISPRING, env)
    assert (credentials.client_id, credentials.client_secret) == ("id-1", "s3cr3t-value")


def test_a_missing_secret_names_the_variable_never_a_value() -> None:
    with pytest.raises(ConfigError) as missing:
        credentials_from_env(ISPRING, {"ISPRING_CLIENT_ID": "id-visible"})
    assert "ISPRING_CLIENT_SECRET" in str(missing.value)
    assert "id-visible" not in str(missing.value)


def test_a_static_token_is_enough_for_ispring() -> None:
    config = ProviderConfig("lms", ProviderKind.ISPRING, url="https://x.invalid", token_env="ISPRING_TOKEN")
    assert credentials_from_env(config, {"ISPRING_TOKEN": "t"}).token == "t"


def test_litmos_needs_its_api_key_variable() -> None:
    config = ProviderConfig(
        "academy", ProviderKind.LITMOS, url="https://api.litmos.com/v1.svc", api_key_env="K"
    )
    with pytest.raises(ConfigError, match="K is not set"):
        credentials_from_env(config, {})


def test_a_missing_sandbox_file_is_a_config_error(tmp_path: Path) -> None:
    config = ProviderConfig("lms", ProviderKind.ISPRING, sandbox="nowhere.yaml")
    with pytest.raises(ConfigError, match=r"nowhere\.yaml"):
        build_provider(config, tmp_path, {})


def test_the_state_directory_keeps_itself_out_of_git(tmp_path: Path) -> None:
    path = state_dir(tmp_path)
    assert (path / ".gitignore").read_text() == "*\n"


def test_only_providers_that_policies_use_are_connected() -> None:
    providers = {
        "lms": ProviderConfig("lms", ProviderKind.ISPRING),
        "academy": ProviderConfig("academy", ProviderKind.LITMOS),
    }
    config = Config(root=".", providers=providers)
    policies = (Policy("p", Targets(), (), provider="academy"),)
    assert used_providers(config, policies) == ["academy"]


def test_a_lone_provider_owns_policies_that_do_not_name_one() -> None:
    config = Config(root=".", providers={"lms": ProviderConfig("lms", ProviderKind.ISPRING)})
    assert used_providers(config, (Policy("p", Targets(), ()),)) == ["lms"]


def test_the_manifest_digest_changes_with_any_policy_file(tmp_path: Path) -> None:
    root = _quickstart_copy(tmp_path)
    files = load_manifest_repository(str(root)).policy_files
    first = repository_digest(root, files)
    assert first == repository_digest(root, files)
    policy_file = root / files[0]
    policy_file.write_text(policy_file.read_text() + "\n# reviewed\n")
    assert repository_digest(root, files) != first


def _quickstart_copy(tmp_path: Path) -> Path:
    import shutil

    source = ROOT / "examples" / "quickstart"
    return Path(shutil.copytree(source, tmp_path / "qs", ignore=shutil.ignore_patterns(".enrollctl")))
