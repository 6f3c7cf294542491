"""Who may see which video."""

from models import video as videos
from services.errors import NotFound


def can_manage(principal, video):
    return principal.role == "admin" or video["owner_id"] == principal.user["_id"]


def visible_to(principal, video_id):
    """The video if this caller may see it; 404 otherwise (not 403: no existence leak)."""
    video = videos.find(video_id)
    if video is None or video.get("deleted_at"):
        raise NotFound("No such video.", code="video_not_found")
    if can_manage(principal, video):
        return video
    if video["status"] != videos.READY or video["visibility"] == "private":
        raise NotFound("No such video.", code="video_not_found")
    return video
