"""The backup guard: a repair issue when backups could carry recordings out of the house."""

from __future__ import annotations

from datetime import timedelta
import hashlib
import logging
from pathlib import Path

from homeassistant.components.backup import (
    BackupAgent,
    BackupManager,
    BackupPlatformEvent,
    Folder,
    async_get_manager,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.hassio import is_hassio
from homeassistant.helpers.start import async_at_started

from .clips import libraries
from .const import DOMAIN
from .issues import async_raise_issue
from .recording.archive.storage import inside_config_dir

_LOGGER = logging.getLogger(__name__)

ISSUE_BACKUP = "backup_uploads_recordings"  # the configuration folder, in every backup
ISSUE_BACKUP_FOLDER = "backup_uploads_media"  # a Supervisor folder, in backups including it
# Agents are loaded and dropped without an event (a sign-in to Home Assistant Cloud, an
# integration reloaded), so a periodic look catches what the platform event does not.
CHECK_INTERVAL = timedelta(minutes=10)
# The machine's own disk: Core's backups folder, the Supervisor's, and the Supervisor's network
# storage mounts (NFS or SMB shares, as for the storage root itself, the owner's NAS). Every
# other agent hands the archive to code that may send it anywhere: Home Assistant Cloud,
# Google Drive, OneDrive, Dropbox, S3, but also SFTP or WebDAV servers, which may be at home
# or not; the owner who knows can ignore the issue.
LOCAL_AGENT_DOMAINS = frozenset({"backup", "hassio"})
# Folders the Supervisor backs up when a backup includes them.
SUPERVISOR_FOLDERS = {Path("/media"): Folder.MEDIA, Path("/share"): Folder.SHARE}
# What the Supervisor calls the configuration folder, which every backup holds.
CONFIG_FOLDER = "homeassistant"


def is_local_agent(agent_id: str) -> bool:
    """Tell whether a backup agent keeps backups on this machine or its own network storage."""
    return agent_id.partition(".")[0] in LOCAL_AGENT_DOMAINS


def backup_folder(root: Path, *, config_dir: Path, supervisor: bool) -> str | None:
    """Return the backed-up folder a storage root lies in, if any (blocking: resolves paths)."""
    if inside_config_dir(root, config_dir):
        return CONFIG_FOLDER
    resolved = root.resolve()
    for path, folder in SUPERVISOR_FOLDERS.items():
        if supervisor and resolved.is_relative_to(path):
            return folder
    return None


@callback
def async_setup_backup_guard(hass: HomeAssistant) -> None:
    """Look again when Home Assistant has started, when agents come, and every few minutes."""

    async def _async_recheck(_now: object = None) -> None:
        await async_recheck_backups(hass)

    @callback
    def _platform_added(_event: BackupPlatformEvent) -> None:
        hass.async_create_task(async_recheck_backups(hass), eager_start=False)

    if (manager := _manager(hass)) is not None:
        manager.async_subscribe_platform_events(_platform_added)
    async_at_started(hass, _async_recheck)
    async_track_time_interval(hass, _async_recheck, CHECK_INTERVAL, cancel_on_shutdown=True)


async def async_recheck_backups(hass: HomeAssistant) -> None:
    """Check the storage root of every loaded doorbell, dropping issues of roots gone."""
    for root in {library.root for library in libraries(hass)}:
        await async_check_backups(hass, root)
    _drop_stale_issues(hass, set())


async def async_check_backups(hass: HomeAssistant, root: Path) -> None:
    """Raise the repair issue of a storage root that backups may upload, or clear it."""
    config_dir = Path(hass.config.config_dir)
    supervisor = is_hassio(hass)
    root, folder = await hass.async_add_executor_job(
        lambda: (root.resolve(), backup_folder(root, config_dir=config_dir, supervisor=supervisor))
    )
    agents = _remote_agents(hass, folder)
    issue_id = _issue_id(root)
    if not agents:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    else:
        if ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None:
            _LOGGER.warning(
                "Recordings in %s go into backups, which %s may upload outside your home",
                root,
                ", ".join(agent.agent_id for agent in agents),
            )
        async_raise_issue(
            hass,
            issue_id,
            ISSUE_BACKUP if folder == CONFIG_FOLDER else ISSUE_BACKUP_FOLDER,
            {
                "root": str(root),
                "agents": ", ".join(sorted(agent.name for agent in agents)),
                "folder": str(folder),
            },
        )
    _drop_stale_issues(hass, {issue_id})


def _manager(hass: HomeAssistant) -> BackupManager | None:
    """Return the backup manager, or None where the backup integration is not loaded."""
    try:
        return async_get_manager(hass)
    except HomeAssistantError:
        return None


def _remote_agents(hass: HomeAssistant, folder: str | None) -> list[BackupAgent]:
    """Return the agents that may upload the recordings in a backed-up folder out of the house."""
    if folder is None or (manager := _manager(hass)) is None:
        return []
    # A Supervisor folder is only in the backups that include it: the automatic ones as the
    # owner configured them once; a manual backup is a choice made each time.
    included = manager.config.data.create_backup.include_folders or []
    if folder != CONFIG_FOLDER and folder not in included:
        return []
    return [
        agent for agent_id, agent in manager.backup_agents.items() if not is_local_agent(agent_id)
    ]


def _drop_stale_issues(hass: HomeAssistant, keep: set[str]) -> None:
    """Delete the backup issues of storage roots no loaded doorbell uses any more."""
    live = keep | {_issue_id(library.root) for library in libraries(hass)}
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(f"{ISSUE_BACKUP}_") and issue_id not in live:
            ir.async_delete_issue(hass, DOMAIN, issue_id)


def _issue_id(root: Path) -> str:
    """Return the backup issue id of a (resolved) storage root."""
    return f"{ISSUE_BACKUP}_{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"
