"""ogmint's benchmarks: one runner (``python -m bench``, ``make bench``), a registry
(``bench/registry.py``), scripts in folders by kind, results in ``bench/results/`` and
``bench/RESULTS.md`` generated from them (``bench/results.py``)."""
