"""Storage for files no URL may serve (citizens' photos)."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """Files on disk outside the media root, with no public URL: a view that
    checks who asks streams them (see ``tracking.views``)."""

    def url(self, name):
        raise ValueError("private files have no public URL")
