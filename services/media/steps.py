"""The media half of processing, on local files only: probe, rendition, thumbnail.

It touches no database, so it can run in the sandbox child
(services.media.sandbox); the parent stores what it leaves in ``workdir``.
"""

from dataclasses import asdict

from services.media import renditions
from services.media.probe import probe

THUMBNAIL_NAME = "thumbnail.jpg"


def prepare(source, workdir, limits, report=None):
    """Probe ``source``, make its rendition and thumbnail in ``workdir``.

    ``report(stage, done)`` hears each stage as it starts (services.media.progress names
    them) and, during a transcode, the fraction done.

    Returns ``{"plan", "info", "stored", "thumbnail"}``: the plan and the MediaInfo of
    what is to be stored (as dicts), its path (``source`` itself when stored as is) and
    the thumbnail's path (None for audio)."""
    report = report or _silent
    report("probe")
    info = probe(source, limits)
    plan = renditions.plan_for(info)
    stored = source
    if plan.action != renditions.AS_IS:
        stored = workdir / f"rendition.{plan.extension}"
        _make_rendition(plan, info, source, stored, limits, report)
        info = probe(stored, limits)
    return {
        "plan": asdict(plan),
        "info": asdict(info),
        "stored": str(stored),
        "thumbnail": _thumbnail(info, stored, workdir, limits, report),
    }


def _silent(stage, done=0.0):
    pass


def _make_rendition(plan, info, source, target, limits, report):
    report("rendition")
    if plan.action == renditions.REMUX:
        container = "mp4" if info.kind == "video" else "ipod"
        renditions.remux_faststart(source, target, container)
    else:
        renditions.transcode(source, target, info.kind, limits, _transcoded(info, report))


def _transcoded(info, report):
    """``on_progress(seconds of media written)`` for transcode, as a fraction of the duration
    the probe found (which an upload's headers may overstate: the bar then ends early)."""
    if not info.duration:
        return None
    return lambda seconds: report("rendition", min(1.0, seconds / info.duration))


def _thumbnail(info, stored, workdir, limits, report):
    if info.kind != "video":
        return None
    report("thumbnail")
    # OpenCV is imported only here: it is big, and a probe or an audio file never needs it.
    from services.media import thumbnails

    target = workdir / THUMBNAIL_NAME
    target.write_bytes(thumbnails.thumbnail_jpeg(stored, limits))
    return str(target)
