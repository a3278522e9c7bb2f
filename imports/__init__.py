"""Loading a council's people and children from its HR and case-management exports.

The staff and children resources live in their apps (`staff/resources.py`,
`children/resources.py`); this package holds what they share: one authority per import,
matching by the source system's ID, errors in plain words, and the import log.
"""
