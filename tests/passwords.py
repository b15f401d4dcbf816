"""Password hashing for the test process: PBKDF2 at one iteration."""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 at one iteration. The suite makes hundreds of users, and the real hasher spends a
    third of a second on each. A server process started by a test still verifies these hashes:
    PBKDF2 takes the iteration count written in the hash."""

    iterations = 1


def use_fast_password_hashing() -> None:
    from django.conf import global_settings, settings
    from django.core.signals import setting_changed

    hashers = [
        f"{__name__}.FastPasswordHasher",
        *global_settings.PASSWORD_HASHERS,  # what a server process wrote still verifies here
    ]
    settings.PASSWORD_HASHERS = hashers
    # As `override_settings` does, so that hashers looked up already are looked up again.
    setting_changed.send(sender=None, setting="PASSWORD_HASHERS", value=hashers, enter=True)
