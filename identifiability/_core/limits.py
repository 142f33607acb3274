"""Numeric limits that several layers share, each with its reason."""

# Past this a von Mises-Fisher law is a point mass to float32 precision (angles of 1e-4), and its
# samplers' and normalisers' arithmetic starts to overflow: a larger concentration (or a smaller
# temperature, its inverse) means nothing more.
MAX_CONCENTRATION = 1e8
