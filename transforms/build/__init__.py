"""The build: a run's page values -> its validated tables, in plain vectorized functions.

- ``plan``: where each model page's values come from (fetched, 304, carried forward, the
  archive), and which pages are reused as they were published;
- ``normalize``: the value grammar, raw text -> tokens, exact USD, booleans, dates, tiers;
- ``cells``: the reading steps every table shares; ``frames``: models; ``prices``: official
  prices and provider offers;
- ``checks``: contradictions, flagged; ``issues``: quality issue rows;
- ``validation``: the contract's checks (pandera), failing rows quarantined;
- ``tables``: the build itself, ``build_tables`` -> ``BuiltTables``.
"""
