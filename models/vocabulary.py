"""The words access is written in, defined once: roles and video visibilities.

They are stored values (a user's ``role``, a video's ``visibility``), so they live with
the documents; services/access.py says who may do what with them, and the request
schemas accept exactly these. Access levels of monetised videos belong here too.
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
