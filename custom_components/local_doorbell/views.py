"""Authenticated views that serve recorded clips and thumbnails, with HTTP Range for seeking."""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web
from homeassistant.components.http import KEY_HASS, KEY_HASS_USER, HomeAssistantView
from homeassistant.core import HomeAssistant, callback

from .clips import async_find_clip, may_see_clips
from .const import DOMAIN
from .recording.archive.layout import is_clip_id
from .recording.archive.library import UnsafePath

CLIP_URL = f"/api/{DOMAIN}/clips/{{clip_id}}.mp4"
THUMBNAIL_URL = f"/api/{DOMAIN}/thumbnails/{{clip_id}}.jpg"


def clip_url(clip_id: str) -> str:
    """Return the relative URL of a clip; core signs it for players."""
    return CLIP_URL.format(clip_id=clip_id)


def thumbnail_url(clip_id: str) -> str:
    """Return the relative URL of a clip's thumbnail."""
    return THUMBNAIL_URL.format(clip_id=clip_id)


class _ClipFileView(HomeAssistantView):
    """Serves one file of a clip to a user allowed to see the doorbell's camera."""

    requires_auth = True
    suffix = ""
    content_type = ""

    async def get(self, request: web.Request, clip_id: str) -> web.StreamResponse:
        """Stream the file; FileResponse answers Range requests."""
        if not is_clip_id(clip_id):
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        hass = request.app[KEY_HASS]
        found = await async_find_clip(hass, clip_id)
        if found is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        library, clip = found
        if not may_see_clips(hass, request[KEY_HASS_USER], clip.device):
            return web.Response(status=HTTPStatus.FORBIDDEN)
        try:
            path = library.path_of(clip) if self.suffix == ".mp4" else library.thumbnail_of(clip)
        except UnsafePath:
            return web.Response(status=HTTPStatus.FORBIDDEN)
        if path is None or not await hass.async_add_executor_job(path.is_file):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.FileResponse(path, headers={"Content-Type": self.content_type})


class ClipView(_ClipFileView):
    """A recorded clip as fragmented MP4."""

    url = CLIP_URL
    name = f"api:{DOMAIN}:clip"
    suffix = ".mp4"
    content_type = "video/mp4"


class ThumbnailView(_ClipFileView):
    """A clip's thumbnail: the first keyframe after the trigger."""

    url = THUMBNAIL_URL
    name = f"api:{DOMAIN}:thumbnail"
    suffix = ".jpg"
    content_type = "image/jpeg"


@callback
def async_register_views(hass: HomeAssistant) -> None:
    """Register both views."""
    hass.http.register_view(ClipView())
    hass.http.register_view(ThumbnailView())
