"""The backup guard: a repair issue while backups could upload recordings out of the house."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import AsyncMock, Mock, patch

from homeassistant.components.backup import (
    BackupAgent,
    BackupAgentPlatformProtocol,
    Folder,
    async_get_manager,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    mock_platform,
)

from custom_components.local_doorbell.backup_guard import (
    CHECK_INTERVAL,
    ISSUE_BACKUP,
    async_check_backups,
    backup_folder,
    is_local_agent,
)
from custom_components.local_doorbell.const import CONF_STORAGE_ROOT, DOMAIN

from .conftest import AddEntry, wait_for

CLOUD = "fake_cloud"


def _agent(domain: str, name: str) -> Mock:
    agent = Mock(spec=BackupAgent)
    agent.domain = domain
    agent.name = name
    agent.unique_id = name.lower().replace(" ", "_")
    agent.agent_id = f"{domain}.{agent.unique_id}"
    return agent


async def _add_cloud_agent(hass: HomeAssistant) -> None:
    """Load an integration whose backup platform offers an agent that uploads elsewhere."""
    platform = Mock(
        async_get_backup_agents=AsyncMock(return_value=[_agent(CLOUD, "Fake Cloud")]),
        spec_set=BackupAgentPlatformProtocol,
    )
    mock_platform(hass, f"{CLOUD}.backup", platform)
    assert await async_setup_component(hass, CLOUD, {})
    await hass.async_block_till_done()


async def _setup_backup(hass: HomeAssistant, *, cloud: bool) -> None:
    if cloud:
        await _add_cloud_agent(hass)
    assert await async_setup_component(hass, "backup", {})
    await hass.async_block_till_done()


def _issues(hass: HomeAssistant) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith(ISSUE_BACKUP)
    ]


async def test_the_local_agent_alone_raises_nothing(
    hass: HomeAssistant, config_dir: Path, add_entry: AddEntry
) -> None:
    await _setup_backup(hass, cloud=False)
    assert list(async_get_manager(hass).backup_agents) == ["backup.local"]
    await add_entry({CONF_STORAGE_ROOT: str(config_dir / "recordings")})
    assert _issues(hass) == []


async def test_a_cloud_agent_and_a_root_in_the_config_folder(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path, add_entry: AddEntry
) -> None:
    await _setup_backup(hass, cloud=True)
    entry = await add_entry({CONF_STORAGE_ROOT: str(config_dir / "recordings")})
    (issue,) = _issues(hass)
    assert issue.translation_key == "backup_uploads_recordings"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "root": str((config_dir / "recordings").resolve()),
        "agents": "Fake Cloud",
        "folder": "homeassistant",
    }

    # Moving the recordings out of the configuration folder clears it.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_STORAGE_ROOT: str(tmp_path / "nas" / "doorbell")}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert _issues(hass) == []

    # Back in, and the doorbell removed: no recordings there any more, no issue.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_STORAGE_ROOT: str(config_dir / "recordings")}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert len(_issues(hass)) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert _issues(hass) == []


async def test_a_cloud_agent_and_the_default_root(
    hass: HomeAssistant, config_dir: Path, add_entry: AddEntry
) -> None:
    # The default root is in the configuration folder, which every backup holds: the owner
    # is told, as for any root there.
    await _setup_backup(hass, cloud=True)
    await add_entry()
    (issue,) = _issues(hass)
    assert issue.translation_key == "backup_uploads_recordings"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["root"] == str(
        (config_dir / "local_doorbell" / "recordings").resolve()
    )


async def test_without_the_backup_integration(
    hass: HomeAssistant, config_dir: Path, add_entry: AddEntry
) -> None:
    await add_entry({CONF_STORAGE_ROOT: str(config_dir / "recordings")})
    assert _issues(hass) == []


async def test_agents_that_come_and_go_are_noticed(
    hass: HomeAssistant, config_dir: Path, add_entry: AddEntry
) -> None:
    await _setup_backup(hass, cloud=False)
    await add_entry({CONF_STORAGE_ROOT: str(config_dir / "recordings")})
    assert _issues(hass) == []
    # An integration with a backup agent set up later, e.g. a cloud drive added from the UI.
    await _add_cloud_agent(hass)
    await wait_for(lambda: len(_issues(hass)) == 1)
    # Agents also go without an event (signing out of a cloud): the periodic look sees it.
    del async_get_manager(hass).backup_agents[f"{CLOUD}.fake_cloud"]
    async_fire_time_changed(hass, dt_util.utcnow() + CHECK_INTERVAL)
    await wait_for(lambda: _issues(hass) == [])


async def test_the_supervisor_media_folder_counts_when_backups_include_it(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    await _setup_backup(hass, cloud=True)
    root = Path("/media/local_doorbell")
    create_backup = async_get_manager(hass).config.data.create_backup
    with patch("custom_components.local_doorbell.backup_guard.is_hassio", return_value=True):
        await async_check_backups(hass, root)
        assert _issues(hass) == []
        create_backup.include_folders = [Folder.MEDIA]
        await async_check_backups(hass, root)
        (issue,) = _issues(hass)
        assert issue.translation_key == "backup_uploads_media"
        assert issue.translation_placeholders == {
            "root": str(root),
            "agents": "Fake Cloud",
            "folder": "media",
        }
        await async_check_backups(hass, root)  # still there: said once in the log
        assert len(_issues(hass)) == 1
        assert caplog.text.count("may upload outside your home") == 1
        create_backup.include_folders = [Folder.SHARE]
        await async_check_backups(hass, root)
        assert _issues(hass) == []


@pytest.mark.parametrize(
    ("agent_id", "local"),
    [
        ("backup.local", True),
        ("hassio.local", True),
        ("hassio.nas_backups", True),  # the Supervisor's network storage, the owner's NAS
        ("cloud.cloud", False),
        ("google_drive.0123", False),
        ("onedrive.abc", False),
        ("dropbox.abc", False),
        ("webdav.abc", False),
    ],
)
def test_which_agents_are_local(agent_id: str, local: bool) -> None:
    assert is_local_agent(agent_id) is local


@pytest.mark.parametrize(
    ("root", "supervisor", "folder"),
    [
        ("/config/media/local_doorbell", False, "homeassistant"),
        ("/config/media/local_doorbell", True, "homeassistant"),
        ("/config/../srv/local_doorbell", False, None),
        ("/media/local_doorbell", True, "media"),
        ("/media/local_doorbell", False, None),  # Core backs up only the configuration
        ("/share/doorbell", True, "share"),
        ("/mnt/nas/doorbell", True, None),
    ],
)
def test_which_roots_are_backed_up(root: str, supervisor: bool, folder: str | None) -> None:
    found = backup_folder(Path(root), config_dir=Path("/config"), supervisor=supervisor)
    assert found == folder
