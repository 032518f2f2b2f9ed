"""The storage root must be local, writable and no folder Home Assistant owns."""

from __future__ import annotations

from pathlib import Path
import shutil

import pytest

from custom_components.local_doorbell.recording.archive import storage
from custom_components.local_doorbell.recording.archive.storage import (
    StorageError,
    default_root,
    free_bytes,
    inside_config_dir,
    legacy_default_root,
    media_folder_of,
    validate_root,
)

MOUNTS = r"""
/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw,relatime 0 0
nas:/export/video /mnt/nas nfs4 rw,relatime 0 0
//nas/share /mnt/smb cifs rw,relatime 0 0
pi@nas:/srv /mnt/sshfs fuse.sshfs rw,nosuid,nodev 0 0
gdrive: /mnt/cloud fuse.rclone rw,nosuid,nodev 0 0
mybucket /mnt/cloud/bucket fuse.gcsfuse rw,nosuid 0 0
mountpoint-s3 /mnt/s3 fuse rw,nosuid 0 0
/dev/sdb1 /mnt/my\040drive fuse.s3fs rw 0 0
tmpfs /mnt/cloud/local tmpfs rw 0 0
/dev/sdc1 /mnt/usb fuseblk rw 0 0
127.0.0.1:/ /mnt/nfsmount nfs4 rw,vers=4.1,port=40123,addr=127.0.0.1 0 0
localhost:/ /mnt/nfs-by-name nfs rw,vers=3,port=40123,mountport=40123,addr=127.0.0.1 0 0
[::1]:/ /mnt/nfs6 nfs rw,port=40123 0 0
gateway:/ /mnt/nfs-named nfs rw,vers=3,addr=127.0.0.53 0 0
//127.0.0.1/cloud /mnt/smb-loop cifs rw,addr=127.0.0.1 0 0
http://127.0.0.1:8080/ /mnt/webdav fuse rw,nosuid 0 0
pi@localhost:/srv /mnt/sshfs-loop fuse.sshfs rw 0 0
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Return a Home Assistant configuration folder."""
    config = tmp_path / "config"
    (config / ".storage").mkdir(parents=True)
    return config


def key_of(path: Path, config: Path, mounts: str = "", media: tuple[str, ...] = ()) -> str:
    """Return the StorageError key validate_root raises for a path."""
    with pytest.raises(StorageError) as raised:
        validate_root(path, config_dir=config, media_dirs=media, mounts=mounts)
    assert str(raised.value) == raised.value.key
    return raised.value.key


def test_a_new_folder_is_created_and_resolved(tmp_path: Path, config: Path) -> None:
    wanted = tmp_path / "media" / ".." / "media" / "local_doorbell"
    root = validate_root(wanted, config_dir=config, media_dirs=(), mounts="")
    assert root == tmp_path / "media" / "local_doorbell"
    assert root.is_dir()
    assert list(root.iterdir()) == []  # the probe file is gone
    assert not inside_config_dir(root, config)


def test_the_real_mount_table_is_read(tmp_path: Path, config: Path) -> None:
    assert validate_root(tmp_path / "clips", config_dir=config, media_dirs=()) == tmp_path / "clips"


def test_not_absolute(config: Path) -> None:
    assert key_of(Path("media/local_doorbell"), config) == "not_absolute"


@pytest.mark.parametrize("relative", [".", "..", "../.."])
def test_the_config_folder_or_above(config: Path, relative: str) -> None:
    assert key_of(config / relative, config) == "config_dir"


@pytest.mark.parametrize(
    "relative",
    [".storage", ".storage/clips", "custom_components/x", "deps", "www/clips", "backups"],
)
def test_managed_folders(config: Path, relative: str) -> None:
    assert key_of(config / relative, config) == "managed_folder"


def test_a_symlink_into_a_managed_folder(tmp_path: Path, config: Path) -> None:
    link = tmp_path / "innocent"
    link.symlink_to(config / ".storage")
    assert key_of(link / "clips", config) == "managed_folder"


def test_inside_the_config_folder_is_allowed(config: Path) -> None:
    root = validate_root(default_root(config), config_dir=config, media_dirs=(), mounts="")
    assert inside_config_dir(root, config)


def test_not_creatable_under_a_file(tmp_path: Path, config: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    assert key_of(tmp_path / "a-file" / "clips", config) == "not_creatable"
    assert key_of(tmp_path / "a-file", config) == "not_creatable"


def test_not_writable(tmp_path: Path, config: Path) -> None:
    # Tests run as root here, which chmod does not stop; /proc/self is a folder that exists
    # and in which nobody, root included, can create a file.
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    probe = locked / "probe"
    try:
        probe.touch()
    except PermissionError:
        pass  # an ordinary user: the read-only folder serves
    else:
        probe.unlink()
        locked = Path("/proc/self")
    assert key_of(locked, config) == "not_writable"


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/mnt/cloud/clips", "cloud_mount"),  # fuse.rclone
        ("/mnt/cloud/bucket/clips", "cloud_mount"),  # fuse.gcsfuse below it
        ("/mnt/s3/clips", "cloud_mount"),  # plain fuse, the tool as source
        ("/mnt/my drive/clips", "cloud_mount"),  # an escaped space
        ("/mnt/cloud/local/clips", "not_creatable"),  # a tmpfs inside the rclone mount
        ("/mnt/nas/clips", "not_creatable"),  # NFS: a NAS at home is local
        ("/mnt/smb/clips", "not_creatable"),
        ("/mnt/sshfs/clips", "not_creatable"),
        ("/mnt/usb/clips", "not_creatable"),
        # A share this machine serves itself: rclone nfsmount, a WebDAV or SMB bridge.
        ("/mnt/nfsmount/clips", "loopback_mount"),
        ("/mnt/nfs-by-name/clips", "loopback_mount"),
        ("/mnt/nfs6/clips", "loopback_mount"),
        ("/mnt/nfs-named/clips", "loopback_mount"),
        ("/mnt/smb-loop/clips", "loopback_mount"),
        ("/mnt/webdav/clips", "loopback_mount"),
        ("/mnt/sshfs-loop/clips", "loopback_mount"),
    ],
)
def test_cloud_mounts(tmp_path: Path, config: Path, path: str, key: str) -> None:
    # A file where /mnt would be turns "allowed" into a cheap not_creatable, touching no /mnt.
    blocker = tmp_path / "mnt"
    blocker.write_text("")
    local = blocker / path.removeprefix("/mnt/")
    mounts = MOUNTS.replace(" /mnt", f" {blocker}")
    assert key_of(local, config, mounts) == key


def test_mount_table_lines_that_are_not_mounts(tmp_path: Path, config: Path) -> None:
    assert validate_root(tmp_path / "clips", config_dir=config, media_dirs=(), mounts="garbage\n\n")


def test_no_mount_table(tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "MOUNTS_FILE", tmp_path / "no-such-file")
    assert validate_root(tmp_path / "clips", config_dir=config, media_dirs=()) == tmp_path / "clips"


def test_default_roots(tmp_path: Path) -> None:
    config = tmp_path / "config"
    assert default_root(config) == config / "local_doorbell" / "recordings"
    media = {"local": "/media", "usb": "/media/usb"}
    assert legacy_default_root(media) == Path("/media/local_doorbell")
    assert legacy_default_root({}) is None


def test_media_folders_are_refused(tmp_path: Path, config: Path) -> None:
    # Home Assistant's local media source serves them to every user, past our checks.
    media = (str(tmp_path / "media"), str(config / "media"))
    for inside in (tmp_path / "media", tmp_path / "media" / "doorbell", config / "media" / "x"):
        assert key_of(inside, config, media=media) == "media_folder"
    # A media folder inside the root would serve the clips below it just the same.
    above = tmp_path / "clips"
    assert key_of(above, config, media=(str(above / "AB12"),)) == "media_folder"
    # Through a symlink too.
    link = tmp_path / "innocent"
    link.symlink_to(tmp_path / "media", target_is_directory=True)
    assert media_folder_of(link / "clips", media) == media[0]
    assert key_of(link / "clips", config, media=media) == "media_folder"
    assert media_folder_of(default_root(config), media) is None
    root = validate_root(default_root(config), config_dir=config, media_dirs=media, mounts="")
    assert root == default_root(config)


def test_free_bytes(tmp_path: Path) -> None:
    expected = shutil.disk_usage(tmp_path).free
    assert abs(free_bytes(tmp_path) - expected) < 1 << 30
    assert abs(free_bytes(tmp_path / "not" / "yet") - expected) < 1 << 30
