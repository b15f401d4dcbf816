"""The secrets a backup leaves out unless asked (--include-secrets): the secret key, the SMTP
password, the access point's token, the object store's keys. Encrypted with Fernet under a key
that scrypt derives from the operator's passphrase; the salt travels in the manifest."""

from __future__ import annotations

import base64
import json
import os
import secrets as random
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings

from ledgerdrop.config.backup.manifest import BackupRefused
from ledgerdrop.core.files import write_durably

# The settings that come from the environment and hold a secret.
SECRET_VARIABLES = (
    "LEDGERDROP_SECRET_KEY",
    "LEDGERDROP_SMTP_PASSWORD",
    "LEDGERDROP_PEPPOL_AP_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)
# Where a restore puts the secrets of the environment, for the operator to set again.
RESTORED_ENVIRONMENT = "restored-secrets.env"


def _fernet(passphrase: str, salt: bytes) -> Fernet:
    # scrypt's cost (2**15, 8, 1): about a tenth of a second and 32 MiB per guess.
    key = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(passphrase: str, path: Path) -> str:
    """Write this server's secrets to `path`, encrypted; returns the salt (base64)."""
    salt = random.token_bytes(16)
    content = {
        "secret_key": settings.SECRET_KEY,
        "environment": {name: os.environ[name] for name in SECRET_VARIABLES if name in os.environ},
    }
    token = _fernet(passphrase, salt).encrypt(json.dumps(content).encode())
    write_durably(path, token)
    return base64.b64encode(salt).decode()


def open_sealed(passphrase: str, path: Path, salt: str) -> dict[str, object]:
    try:
        data = _fernet(passphrase, base64.b64decode(salt)).decrypt(path.read_bytes())
    except InvalidToken:
        raise BackupRefused("The passphrase does not open this backup's secrets.") from None
    content: dict[str, object] = json.loads(data)
    return content


def put_back(content: dict[str, object]) -> list[str]:
    """Put the secret key where this server reads it and the environment's secrets in a file
    of the data folder (both readable by their owner only: write_durably's temporary file
    is made so); returns what the operator is told."""
    told: list[str] = []
    data_dir = Path(settings.DATA_DIR)
    if "LEDGERDROP_SECRET_KEY" not in os.environ:
        write_durably(data_dir / "secret_key", str(content["secret_key"]).encode())
        told.append("the secret key is back in the data folder")
    environment = content.get("environment") or {}
    assert isinstance(environment, dict)
    if environment:
        path = data_dir / RESTORED_ENVIRONMENT
        lines = "".join(f"{name}={value}\n" for name, value in sorted(environment.items()))
        write_durably(path, lines.encode())
        told.append(f"set these variables again, then delete the file: {path}")
    return told
