"""Backup and restore (README, "Backup and restore"): one consistent snapshot of the database,
every stored file by its SHA-256 and a manifest that says what belongs to it.

A backup folder holds content-addressed files shared by all its snapshots, so that a nightly
backup copies only the files that are new:

    DEST/blobs/ab/ab12…          the stored files, named by their SHA-256
    DEST/snapshots/20261130T021500Z/
        manifest.json            version, migrations, counts, checksums
        database.jsonl.gz        every row, one a line, as Django's serializer writes it
        secrets.bin              only with --include-secrets, encrypted with a passphrase

It reads every app's models, hence its place on the top floor."""
