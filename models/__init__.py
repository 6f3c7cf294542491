"""Data access, no HTTP: the connection (db), one module per kind of document (its collection,
indexes and queries; GridFS files in media_file, their chunks read in media_chunks), the query
helpers they share (keyset, keywords) and the stored words of access (vocabulary)."""
