"""The media cache: verified copies of GridFS files on local disk (docs/playback.md).

``MediaCacheComponent`` is what the app binds, as models.media_chunks.MediaChunks is:
``init_app(app)`` puts a MediaCache (or, with MEDIA_CACHE_MB=0 or a directory that cannot
be made, a NullCache) in ``app.extensions["media_cache"]``. The route then does::

    cache = media_cache.of(current_app)
    copy = cache.lookup(playable.file, playable.sha256)   # CachedFile or None
    if copy is None:
        cache.want(playable.file, playable.sha256, media_chunks.read)   # background fill
        ... serve from GridFS as today ...
    else:
        ... serve copy (seek + length; sendfile through wsgi.file_wrapper); close it ...

and ``cache.invalidate(file_ids)`` wherever GridFS files are deleted.
"""

import logging

from services.media_cache.cache import CachedFile, MediaCache, NullCache

__all__ = ["CachedFile", "MediaCache", "MediaCacheComponent", "NullCache", "build"]

log = logging.getLogger(__name__)
MB = 1024 * 1024


def build(config, app=None):
    """The cache ``config`` (MEDIA_CACHE_DIR, MEDIA_CACHE_MB) asks for."""
    size_mb = config.get("MEDIA_CACHE_MB") or 0
    if size_mb <= 0:
        return NullCache()
    try:
        return MediaCache(config["MEDIA_CACHE_DIR"], size_mb * MB, app=app)
    except OSError as error:  # an optimisation: the API serves from GridFS without it
        log.warning("media cache off: %s cannot be used (%s)", config["MEDIA_CACHE_DIR"], error)
        return NullCache()


class MediaCacheComponent:
    """Binds a cache to each app (tests create many apps in one process)."""

    def init_app(self, app):
        app.extensions["media_cache"] = build(app.config, app)

    @staticmethod
    def of(app):
        return app.extensions.get("media_cache") or NullCache()
