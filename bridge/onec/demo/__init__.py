"""A 1C publication in a box: generated demo data served like 1C serves it.

Used by the tests as the faithful fake of 1C (built from the platform documentation
in `../shared/reference/1c-odata/`, not from our client) and by operators as a demo:
`python -m bridge.onec.demo --port 8580`.
"""
