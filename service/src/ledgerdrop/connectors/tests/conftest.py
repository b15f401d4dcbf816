"""The connectors' tests act as delivery's accountant on the devices of their firm: the fixtures
are delivery's own (delivery sits a floor below and may not reach up here)."""

from ledgerdrop.delivery.tests.conftest import accountant, browser, device, firm

__all__ = ["accountant", "browser", "device", "firm"]
