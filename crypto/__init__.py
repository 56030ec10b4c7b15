"""wbs end-to-end encryption library, format version 1, envelopes v1/v2 (docs/crypto-format.md).

Importable on its own: it never imports `wbs`. Modules:

- `crypto.keys`: suites, key pairs, public keys, key ids, fingerprints, HPKE seal/open.
- `crypto.envelope`: report envelopes (v1 and v2), data-key wraps, messages, notes (boxes),
  identity release.
- `crypto.identity`: the identity key of envelope v2 (identity box, identity wraps, re-wrap).
- `crypto.attachment`: streaming attachment encryption and the metadata box.
- `crypto.staffkeys`: passphrase derivations, wrapped staff private keys, recovery keys.
- `crypto.receipt`: reporter receipts and their derivations.
- `crypto.directory`: signed key directories; `crypto.proof`: proofs of submission.
- `crypto.pow`: the anti-spam hash puzzle (solving and the check of a solution).
- `crypto.atrest`: the service's own secrets at rest (not report content).
"""

FORMAT_VERSION = 1
