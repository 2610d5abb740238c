"""Evidence readers: bytes and text in, model records out. Nothing here decides what is wrong.

- ``interface``: what a reader is (``EvidenceReader``: recognises a file, reads it as an iterator of records) and
  the file it is shown (``EvidenceFile``: name, bytes, text decoded once);
- ``registry``: the readers in the order they are asked (``READERS``) and the EvidenceSet field each kind of model
  record goes to (``FIELDS``);
- the readers: ``sniff`` (certificate files), ``saved_report`` (a saved hybridtls report), ``structured``
  (ConvertTo-Json, Export-Csv), ``console`` (Format-List text and default tables);
- ``kinds``: which cmdlet's object a PowerShell record is, and its builder, one module per family;
- ``loader``: the paths given to ``check`` read into one EvidenceSet.
"""
