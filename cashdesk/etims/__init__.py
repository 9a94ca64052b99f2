"""KRA eTIMS through OSCU: every completed sale and credit note signed by KRA, gap-free, queued through
outages. See docs/etims.md.

- `config.py`: the settings as one typed object (environments, URLs, the switches for what KRA has
  not settled);
- `client.py`: the one adapter that knows KRA's base URL, paths, headers and reply envelopes;
- `amounts.py`: the VAT-inclusive arithmetic of the payloads (pure);
- `models.py`, `services.py`, `selectors.py`: devices, code lists, items, the outbox, signatures;
- `simulator.py`: a local OSCU stand-in used by the demo and the tests.
"""
