"""A batch upload: several files, each accepted or refused on its own (docs/courses.md).

Every file goes through the very path of a single upload (services.media.uploads.accept):
the same size limit, probe and storage, so a refused file leaves nothing stored, as there.
A refusal that is the file's (413 over MAX_UPLOAD_MB, 422 not media) is that file's result;
anything else (the database away, the account deleted meanwhile) fails the whole request,
as it would a single upload, after the files before it were accepted.
"""

from services.errors import InvalidInput
from services.media import uploads

# What the file itself is refused for: its own result, the other files go on.
FILE_REFUSALS = (uploads.TooLarge, uploads.UnsupportedMedia)


def check_titles(titles, files):
    """One title per file, in the same order (400 ``titles_mismatch`` otherwise)."""
    if len(titles) != len(files):
        message = f"Send one title per file: {len(titles)} titles for {len(files)} files."
        raise InvalidInput(message, code="titles_mismatch", details={"titles": [message]})


def accept_all(owner, files, titles, fields, shown=lambda video: video):
    """``files`` are (spooled path, client's filename) pairs; ``fields`` are shared by all
    the videos (description, category, tags, visibility). The results, in file order:
    ``{status: 202, video: shown(video)}`` or ``{status, error, code, details}``."""
    check_titles(titles, files)
    results = []
    for (path, filename), title in zip(files, titles, strict=True):
        try:
            video = uploads.accept(owner, path, filename, {**fields, "title": title})
        except FILE_REFUSALS as refusal:
            results.append({"status": refusal.status, **refusal.to_dict()})
        else:
            results.append({"status": 202, "video": shown(video)})
    return results
