"""The ``users`` collection: accounts and their roles."""

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from models import keyset
from models.common import object_id, utcnow
from models.db import get_db
from models.vocabulary import ADMIN


class EmailTaken(Exception):
    """The unique index on ``email`` refused a second account."""


def collection():
    return get_db().users


def create_indexes(database):
    database.users.create_index([("email", ASCENDING)], unique=True, name="email_unique")
    newest = [("created_at", DESCENDING), ("_id", DESCENDING)]
    if "created_at" in database.users.index_information():
        database.users.drop_index("created_at")  # before the keyset's _id tiebreak
    database.users.create_index(newest, name="newest")
    database.users.create_index([("role", ASCENDING), *newest], name="role_newest")


def normalize_email(email):
    return email.strip().lower()


def insert(name, email, password_hash, role):
    """Insert a user; the unique index, not a prior lookup, decides races."""
    document = {
        "name": name,
        "email": normalize_email(email),
        "password_hash": password_hash,
        "role": role,
        "email_verified": False,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    try:
        document["_id"] = collection().insert_one(document).inserted_id
    except DuplicateKeyError as error:
        raise EmailTaken(document["email"]) from error
    return document


def find_by_email(email):
    if not isinstance(email, str):
        return None
    return collection().find_one({"email": normalize_email(email)})


def find_by_id(user_id):
    oid = object_id(user_id)
    return collection().find_one({"_id": oid}) if oid else None


def replace_password_hash(user_id, old_hash, new_hash):
    """Swap the stored hash, unless it is no longer ``old_hash`` (changed meanwhile); True
    when it was swapped."""
    result = collection().update_one(
        {"_id": user_id, "password_hash": old_hash},
        {"$set": {"password_hash": new_hash, "updated_at": utcnow()}},
    )
    return result.modified_count == 1


def is_verified(user):
    """An account from before verification has no ``email_verified``: it counts as
    verified (it could log in already), with no migration to run."""
    return user.get("email_verified", True)


def mark_verified(user_id, email):
    """Mark the address verified if it is still ``email``; True when the account matched."""
    result = collection().update_one(
        {"_id": user_id, "email": email}, {"$set": {"email_verified": True, "updated_at": utcnow()}}
    )
    return result.matched_count == 1


def change_email(user_id, from_email, to_email):
    """Move the account from ``from_email`` (if it still has it) to ``to_email``, verified;
    True when it moved. EmailTaken when another account has ``to_email``: the unique index
    decides a race."""
    update = {"email": to_email, "email_verified": True, "updated_at": utcnow()}
    try:
        result = collection().update_one({"_id": user_id, "email": from_email}, {"$set": update})
    except DuplicateKeyError as error:
        raise EmailTaken(to_email) from error
    return result.matched_count == 1


def set_password_hash(user_id, new_hash):
    """Set the hash whatever it was (a reset: the old password is not known); True when
    the account exists."""
    result = collection().update_one(
        {"_id": user_id}, {"$set": {"password_hash": new_hash, "updated_at": utcnow()}}
    )
    return result.matched_count == 1


def set_name(user_id, name):
    """The user renamed, or None when there is no such user."""
    result = collection().update_one(
        {"_id": user_id}, {"$set": {"name": name, "updated_at": utcnow()}}
    )
    return collection().find_one({"_id": user_id}) if result.matched_count else None


def set_role(user_id, role, current_role):
    """Change a role that is still ``current_role``; the updated user, or None when there is
    no such user or its role changed meanwhile (the caller's checks were for the old one)."""
    # update_one then find_one: the embedded server's find_one_and_update is slow.
    result = collection().update_one(
        {"_id": user_id, "role": current_role}, {"$set": {"role": role, "updated_at": utcnow()}}
    )
    return collection().find_one({"_id": user_id}) if result.matched_count else None


def insert_admin(name, email, password_hash):
    """Create an admin account under ``email``: its id, or None when an account has it."""
    email = normalize_email(email)
    now = utcnow()
    document = {
        "name": name,
        "email": email,
        "password_hash": password_hash,
        "role": ADMIN,
        "created_at": now,
        "updated_at": now,
    }
    try:
        # An upsert that only inserts: an account made meanwhile is matched and left alone.
        result = collection().update_one({"email": email}, {"$setOnInsert": document}, upsert=True)
    except DuplicateKeyError:  # another process inserted it at the same moment
        return None
    return result.upserted_id


def promote_to_admin(user_id):
    collection().update_one({"_id": user_id}, {"$set": {"role": ADMIN, "updated_at": utcnow()}})


def page(per_page, after=None, window=None, role=None):
    """A keyset page of accounts (models.keyset), newest first."""
    equality = {"role": role} if role else {}
    return keyset.newest_first(
        collection(), equality, per_page, after=after, window=window, fields={"password_hash": 0}
    )


def remove(user_id):
    """Delete the account's document (models.deleted_account keeps its tombstone)."""
    collection().delete_one({"_id": user_id})
