"""The formulary: FDA NDC Directory import, NDC forms, and medication search.

* :mod:`~medapp.formulary.ndc` — NDC / barcode parsing (pure);
* :mod:`~medapp.formulary.text` — search keys (case/accent/punctuation-free, pure);
* :mod:`~medapp.formulary.readers` — the FDA product and package files, both layouts;
* :mod:`~medapp.formulary.importer` — one-transaction upsert of a whole file;
* :mod:`~medapp.formulary.search` — ranked, grouped search, autocomplete, NDC lookup;
* :mod:`~medapp.formulary.manual` — hand-added items with NDC validation.

The GUI uses these through :mod:`medapp.services.search`.
"""
