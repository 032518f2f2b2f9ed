"""The storage root: checks that a folder the user picks is local, writable and ours alone."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import re
import shutil
import tempfile

MOUNTS_FILE = Path("/proc/self/mounts")
FOLDER_NAME = "local_doorbell"

# Folders of the configuration directory that Home Assistant or its tools own. "www" is
# served at /local/ without authentication; backups and .cloud can leave the house.
MANAGED_FOLDERS = (
    ".storage",
    ".cloud",
    "custom_components",
    "deps",
    "tts",
    "blueprints",
    "www",
    "backups",
    "image",
    "themes",
)

# FUSE file systems of cloud storage and sync tools: files written there go to a provider.
# Network file systems (NFS, SMB, sshfs to a NAS at home) are local and allowed.
CLOUD_FILESYSTEMS = frozenset(
    {
        "rclone",
        "s3fs",
        "gcsfuse",
        "goofys",
        "geesefs",
        "mountpoint-s3",
        "blobfuse",
        "blobfuse2",
        "onedriver",
        "onedrive",
        "google-drive-ocamlfuse",
        "gdfs",
        "dropbox",
        "mega",
        "megafuse",
        "pcloud",
        "juicefs",
        "ossfs",
        "cosfs",
        "obsfs",
    }
)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


class StorageError(Exception):
    """The folder cannot be the storage root; `key` names the reason for the translated error."""

    def __init__(self, key: str) -> None:
        """Record the reason."""
        super().__init__(key)
        self.key = key


def validate_root(path: Path, *, config_dir: Path, mounts: str | None = None) -> Path:
    """Check a storage root, creating it if needed, and return it resolved.

    `mounts` replaces the text of /proc/self/mounts, for tests.
    """
    if not path.is_absolute():
        raise StorageError("not_absolute")
    root = path.resolve()
    config = config_dir.resolve()
    # The configuration folder itself, or a folder that contains it: clips would mix with
    # Home Assistant's own files.
    if config.is_relative_to(root):
        raise StorageError("config_dir")
    if any(root.is_relative_to(config / name) for name in MANAGED_FOLDERS):
        raise StorageError("managed_folder")
    if _is_cloud(root, _read_mounts() if mounts is None else mounts):
        raise StorageError("cloud_mount")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError("not_creatable") from err
    try:
        # Created, written and deleted: some network shares allow the first but not the last.
        with tempfile.NamedTemporaryFile(dir=root, prefix=".local_doorbell-probe-") as probe:
            probe.write(b"probe")
            probe.flush()
    except OSError as err:
        raise StorageError("not_writable") from err
    return root


def inside_config_dir(path: Path, config_dir: Path) -> bool:
    """Tell whether a storage root lies in the configuration folder, which backups archive."""
    return path.resolve().is_relative_to(config_dir.resolve())


def default_root(media_dirs: Mapping[str, str], config_dir: Path) -> Path:
    """Return the default storage root: a folder in the first media directory."""
    first = next(iter(media_dirs.values()), None)
    return Path(first) / FOLDER_NAME if first else config_dir / "media" / FOLDER_NAME


def free_bytes(path: Path) -> int:
    """Return the free bytes of the file system a path is on (or will be, once created)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return shutil.disk_usage(path).free


def _read_mounts() -> str:
    """Return the mount table, or nothing where there is none (not Linux)."""
    try:
        return MOUNTS_FILE.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _is_cloud(path: Path, mounts: str) -> bool:
    """Tell whether the file system that holds `path` is a cloud storage mount."""
    best: tuple[int, str, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        source, mount_point, fstype = (_unescape(field) for field in fields[:3])
        depth = len(Path(mount_point).parts)
        # The deepest mount point that contains the path holds it; a later mount of the same
        # point hides an earlier one.
        if path.is_relative_to(mount_point) and (best is None or depth >= best[0]):
            best = (depth, source, fstype)
    if best is None:
        return False
    _, source, fstype = best
    kind, _, subtype = fstype.lower().partition(".")
    # "fuse.rclone", or plain "fuse" with the tool's name as the source ("mountpoint-s3").
    return kind == "fuse" and (subtype or source.lower()) in CLOUD_FILESYSTEMS


def _unescape(field: str) -> str:
    r"""Undo the octal escapes of /proc/self/mounts (a space is \040)."""
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match[1], 8)), field)
