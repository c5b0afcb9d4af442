"""Input and output: the manifest converter, typed views, data frames and job arrays.

`manifest` holds the one cattrs converter that writes and reads every source;
`structured` views a source's cases as instances of a class; `frame` builds data
frames from ``columns()``; `jobarray` computes index ranges and pending sets. The
public paths are ``metalab.manifest``, ``metalab.structured`` and ``metalab.jobarray``.
"""
