"""Bounded HTTP, shared by the harness's endpoints and clients: every input bounded in bytes and time.

- :mod:`~s1sr.bounded_http.server`: serving a Starlette app (request-head deadlines, body
  limits, Host and Origin checks, one access-log line per call, refusals in the server's own words);
- :mod:`~s1sr.bounded_http.client`: reading an answer within a size limit and a deadline;
- :mod:`~s1sr.bounded_http.lines`: log lines and one-line reasons.

The device endpoint (:mod:`s1sr.devices.server`), ``serve-s1sp`` (:mod:`s1sr.duis_http.server`)
and a User's response listener (:mod:`s1sr.duis_http.listener`) are served by it; the remote
adapter and the DUIS client read their answers with it.
"""
