"""Every blueprint of the API, in the order create_app registers them (the OpenAPI order)."""

from blueprints import (
    account,
    admin,
    analytics,
    auth,
    batch,
    courses,
    dashboard,
    earnings,
    hls,
    me,
    meta,
    payments,
    playback,
    progress,
    reactions,
    subscriptions,
    uploads,
    video,
)

API_BLUEPRINTS = (
    meta.blp,
    auth.blp,
    me.blp,
    account.blp,
    admin.blp,
    dashboard.blp,
    video.blp,
    uploads.blp,
    video.catalogue_blp,
    playback.blp,
    hls.blp,
    reactions.blp,
    courses.blp,
    batch.blp,
    earnings.blp,
    payments.blp,
    subscriptions.blp,
    progress.blp,
    analytics.blp,
)
# Plain Flask blueprints (no OpenAPI operations): the Swagger UI's own files.
PLAIN_BLUEPRINTS = (meta.docs_assets,)
