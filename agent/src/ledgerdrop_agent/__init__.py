"""The Ledgerdrop downloader: places delivered invoices in the accounting software's folders.

It speaks the device protocol (`ledgerdrop_protocol`) to the service and never imports the
service itself, so that it installs on an accountant's PC with three small dependencies.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ledgerdrop-agent")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
