"""Development and test infrastructure: the embedded database and the production server as
child processes, for tests/, bench/ and scripts/. The application never imports it."""
