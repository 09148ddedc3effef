"""How sure an OCR reading is: the thresholds the OCR reader calibrates to and the later stages test.

Apart from readers.ocr so that reading and checking a text PDF does not import the OCR reader.
"""

REVIEW_THRESHOLD = 0.9  # a value cell read with less (calibrated) OCR confidence than this asks for review
RAW_REVIEW = 0.5  # the recogniser's own score that calibrates to REVIEW_THRESHOLD (set from data: docs/ocr.md)
SURE = 0.9  # a raw reading this sure is taken as it is (a label with one Chinese character, a digit over a shape)
DISAGREEMENT = 0.3  # the raw confidence of a value two readings (or a reading and the ink's shape) disagree on
