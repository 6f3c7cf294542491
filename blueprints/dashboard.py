"""/dashboard: the feed the React Native app opens on."""

from blueprints.schemas.common import PaginationArgs
from blueprints.schemas.videos import DashboardSchema
from services import dashboard
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("dashboard", __name__, description="Home feed")


@blp.route("/dashboard", methods=["GET"])
@auth_required()
@blp.arguments(PaginationArgs, location="query")
@blp.response(200, DashboardSchema)
def feed(args):
    """Ready public videos, newest first, each with a fresh playback token and thumbnail URL.

    An item the caller may not watch is ``locked: true`` with ``access``, ``price`` (the
    creator's plan price for ``subscribers``) and ``currency``, and no playback token; its
    ``thumbnail_url`` (signed with a preview token) still loads.
    """
    items, pagination = dashboard.feed(current_caller(), **args)
    return {"videos": items, "pagination": pagination}
