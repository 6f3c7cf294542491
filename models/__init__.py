"""Data access, no HTTP: the connection (db), one module per kind of document (GridFS files
in media_file, their chunks read in media_chunks), and the query helpers they share."""
