"""Data access: one module per kind of document (its collection, indexes and queries), the
shared pieces they use (db, keyset, keywords) and the stored words of access (vocabulary).
No HTTP."""
