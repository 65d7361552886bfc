"""The device's encrypted local store.

Everything the device keeps lives in one :class:`EncryptedStore`: a msgpack mapping of named
sections, sealed with AES-256-GCM under a key from a :class:`KeyProvider`, saved atomically
with the previous generation kept for recovery.

Examples
--------
>>> store = EncryptedStore(data_dir / "store.bin")            # doctest: +SKIP
>>> result = store.open_or_recover()                           # doctest: +SKIP
>>> store.save({**result.state, "caps": {"hour": 3}})          # doctest: +SKIP
"""

from edge_client.store.errors import (
    StoreError,
    StoreIntegrityError,
    StoreKeyError,
    StoreValueError,
)
from edge_client.store.keys import (
    KEY_SIZE,
    FileKeyProvider,
    KeyProvider,
    StaticKeyProvider,
    key_fingerprint,
)
from edge_client.store.lock import DEFAULT_LOCK_TIMEOUT, StoreLockedError
from edge_client.store.recovery import DiscardedFile, RecoveryResult
from edge_client.store.state import State, validate_state
from edge_client.store.store import DEFAULT_MAX_STORE_BYTES, EncryptedStore

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_MAX_STORE_BYTES",
    "KEY_SIZE",
    "DiscardedFile",
    "EncryptedStore",
    "FileKeyProvider",
    "KeyProvider",
    "RecoveryResult",
    "State",
    "StaticKeyProvider",
    "StoreError",
    "StoreIntegrityError",
    "StoreKeyError",
    "StoreLockedError",
    "StoreValueError",
    "key_fingerprint",
    "validate_state",
]
