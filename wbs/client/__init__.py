"""The reference client (`wbs client ...`): talks to a server over HTTP with the crypto library."""
