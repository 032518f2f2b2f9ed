"""The storage root: checks that a folder the user picks is local, writable and ours alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import ipaddress
from pathlib import Path
import re
import shutil
import tempfile
from urllib.parse import urlsplit

MOUNTS_FILE = Path("/proc/self/mounts")
FOLDER_NAME = "local_doorbell"
# The default storage root, below the configuration folder: Home Assistant's media folders
# are served to every user by its local media source, past our permission checks.
DEFAULT_FOLDER = Path(FOLDER_NAME, "recordings")

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


def validate_root(
    path: Path,
    *,
    config_dir: Path,
    media_dirs: Iterable[str],
    mounts: str | None = None,
) -> Path:
    """Check a storage root, creating it if needed, and return it resolved.

    `media_dirs` are Home Assistant's media folders; `mounts` replaces the text of
    /proc/self/mounts, for tests.
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
    if media_folder_of(root, media_dirs) is not None:
        raise StorageError("media_folder")
    mount = _holding_mount(root, _read_mounts() if mounts is None else mounts)
    if mount is not None and _is_cloud(mount):
        raise StorageError("cloud_mount")
    if mount is not None and _is_loopback_share(mount):
        raise StorageError("loopback_mount")
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


def media_folder_of(path: Path, media_dirs: Iterable[str]) -> str | None:
    """Return the media folder a storage root overlaps, if any (blocking: resolves paths)."""
    root = path.resolve()
    for folder in media_dirs:
        media = Path(folder).resolve()
        # A media folder inside the root would serve the clips below it just the same.
        if root.is_relative_to(media) or media.is_relative_to(root):
            return folder
    return None


def default_root(config_dir: Path) -> Path:
    """Return the default storage root, in the configuration folder."""
    return config_dir / DEFAULT_FOLDER


def legacy_default_root(media_dirs: Mapping[str, str]) -> Path | None:
    """Return where earlier releases recorded by default: a folder in the first media folder."""
    first = next(iter(media_dirs.values()), None)
    return Path(first) / FOLDER_NAME if first else None


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


def _holding_mount(path: Path, mounts: str) -> tuple[str, str, str] | None:
    """Return the source, type and options of the mount that holds `path`."""
    best: tuple[int, tuple[str, str, str]] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        source, mount_point, fstype, options = (_unescape(field) for field in [*fields, ""][:4])
        depth = len(Path(mount_point).parts)
        # The deepest mount point that contains the path holds it; a later mount of the same
        # point hides an earlier one.
        if path.is_relative_to(mount_point) and (best is None or depth >= best[0]):
            best = (depth, (source, fstype, options))
    return None if best is None else best[1]


def _is_cloud(mount: tuple[str, str, str]) -> bool:
    """Tell whether a mount is a cloud storage file system."""
    source, fstype, _ = mount
    kind, _, subtype = fstype.lower().partition(".")
    # "fuse.rclone", or plain "fuse" with the tool's name as the source ("mountpoint-s3").
    return kind == "fuse" and (subtype or source.lower()) in CLOUD_FILESYSTEMS


def _is_loopback_share(mount: tuple[str, str, str]) -> bool:
    """Tell whether a mount is a network share served by this machine itself.

    A NAS at home is reached at its own address; a share from 127.0.0.1 is a gateway on
    this machine, which is how `rclone nfsmount` (NFS) and WebDAV bridges mount a cloud.
    """
    source, _, options = mount
    hosts = [_source_host(source)]
    hosts += [option[5:] for option in options.split(",") if option.startswith("addr=")]
    return any(_is_loopback(host) for host in hosts if host)


def _source_host(source: str) -> str:
    """Return the server named by a mount source: NFS host:/path, SMB //host/share, URLs, sshfs."""
    if "://" in source:
        return urlsplit(source).hostname or ""
    if source.startswith("//"):
        return source[2:].partition("/")[0]
    if source.startswith("["):  # NFS over IPv6: [::1]:/export
        return source[1:].partition("]")[0]
    host, colon, _ = source.rpartition("@")[2].partition(":")
    return host if colon else ""


def _is_loopback(host: str) -> bool:
    """Tell whether a host name or address is this machine's loopback."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


def _unescape(field: str) -> str:
    r"""Undo the octal escapes of /proc/self/mounts (a space is \040)."""
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match[1], 8)), field)
