"""The archive of runs: every ``s1sr run`` kept, one folder per run, with a manifest of exactly what was run.

The archive folder (``--archive-dir DIR``, else ``S1SR_ARCHIVE_DIR``, else ``s1sr-runs/`` in the working
folder) holds one folder per run, named by the UTC time the run began and a short id
(``20261126T193512Z-3f9c2a``): the run's journal (``journal.jsonl``), its reports (``results.json``,
``junit.xml``, ``cucumber.json``, ``index.html``) and ``manifest.json`` (:mod:`~s1sr.archive.manifest`).
A run's folder is written beside its final name and renamed into place once whole, so it is complete or
absent.

- :mod:`~s1sr.archive.store`: the archive folder, its runs, a run found by id, id prefix, name or path;
- :mod:`~s1sr.archive.manifest`: what ``manifest.json`` holds, the hashes, the certificate fingerprints;
- :mod:`~s1sr.archive.recorder`: the run's side: a staging folder during the run, renamed in at its end;
- :mod:`~s1sr.archive.selection`: the pytest plugin that keeps only the scenarios a re-run asks for;
- :mod:`~s1sr.archive.rerun`: ``s1sr run --rerun RUN``: which scenarios, and the settings recorded;
- :mod:`~s1sr.archive.compare`: ``s1sr compare``: verdicts that changed between two runs;
- :mod:`~s1sr.archive.export`: ``s1sr export`` and ``s1sr verify-export``: one zip an auditor keeps.
"""
