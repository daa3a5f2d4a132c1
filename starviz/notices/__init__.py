"""OCDS notices (Find a Tender, Contracts Finder) -> ``raw_notices`` and ``raw_notice_contracts``.

Find a Tender and Contracts Finder publish every notice as an Open Contracting Data Standard
(OCDS 1.1) release: release packages (``ocdsReleasePackages``), record packages
(``ocdsRecordPackages``), one JSON document or JSON Lines, often zipped. A file holds any buyer's
notices, so each release's buyer is matched to a configured council by its identifiers (the
council's PPON, org-ids, ``GB-LAC-<GSS code>``) or its name; releases of any other buyer are
counted and reported, never loaded as someone's.

Every release of a contracting process (OCID) is compiled into the latest state by the OCDS merge
rules, after cutting each release down to the fields we keep; the compiled awards and contracts become one row per
contract and supplier. Each release also stays as one row of ``raw_notices`` (notice type
UK1..UK17 where Find a Tender gives it, publication date, value, CPV, title).

Bad input loses nothing: a file that is no OCDS package fails with its reason; a release without
an OCID or a date, a line that is not JSON, a notice type we do not know, a buyer that is no
configured council are written to ``rejects`` with the file, the release (OCID/id) and the field.

Stages, one module each: ``packages`` (files and ZIP members -> releases, each checked, its notice
type and buyer read) -> ``merge`` (a process's releases compiled by the OCDS merge rules) ->
``rows`` (a release and a compiled process flattened into table rows) -> ``loader`` (the
``Loader`` that reads every file, matches buyers to councils, compiles, writes; ``discover`` and
``check_file``).
"""
