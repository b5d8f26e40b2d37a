"""DUIS over HTTP, as DCC Boxed speaks it: the served S1SP (``s1sr serve-s1sp``) and the DCC User's client.

- :mod:`~s1sr.duis_http.services`: the three web services, Command Variant routing, response codes;
- :mod:`~s1sr.duis_http.envelope`: acknowledgements, refusals, the signature over a whole message;
- :mod:`~s1sr.duis_http.trust`: User certificates, trusted signers, DCC Boxed's test key store;
- :mod:`~s1sr.duis_http.endpoint`: what the endpoint admits, refuses and answers (no HTTP);
- :mod:`~s1sr.duis_http.server`, :mod:`~s1sr.duis_http.delivery`: the endpoint on HTTP, asynchronous responses;
- :mod:`~s1sr.duis_http.configure`: ``serve-s1sp``'s settings checked and assembled;
- :mod:`~s1sr.duis_http.client`, :mod:`~s1sr.duis_http.listener`: a User sending requests and taking responses;
- :mod:`~s1sr.duis_http.target`: that client as an S1SP the harness can judge (``--target duis``).

See docs/duis-transport.md.
"""
