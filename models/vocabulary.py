"""The words access is written in, defined once: roles, video visibilities, access levels.

They are stored values (a user's ``role``, a video's ``visibility``), so they live with
the documents; services/access.py says who may do what with them, and the request
schemas accept exactly these.
"""

VIEWER = "viewer"
CREATOR = "creator"
ADMIN = "admin"
ROLES = (VIEWER, CREATOR, ADMIN)
# What signup may grant; admin comes only from another admin or the configured account.
SELF_SERVICE_ROLES = (VIEWER, CREATOR)

PUBLIC = "public"  # in the catalogue and the dashboard
UNLISTED = "unlisted"  # only with its share key
PRIVATE = "private"  # only its owner and admins
VISIBILITIES = (PUBLIC, UNLISTED, PRIVATE)

# Who may watch a video that one may see (services/access.py: may_watch).
FREE = "free"  # anyone who may see it
PAID = "paid"  # a buyer of the video, or of a course that contains it
SUBSCRIBERS = "subscribers"  # an active subscriber of its creator
ACCESS_LEVELS = (FREE, PAID, SUBSCRIBERS)

# What a payment buys, as ledger entries and purchases name it.
VIDEO_ITEM = "video"
COURSE_ITEM = "course"
SUBSCRIPTION_ITEM = "subscription"
PURCHASABLE_ITEMS = (VIDEO_ITEM, COURSE_ITEM)
