"""Web stage: the client chat at ``/``, the staff page at ``/staff`` and the JSON API, on
one FastAPI app.

``app`` (both pages mounted, ``launch``) -> the client page: ``client`` (one Gradio HTML
component; its script and styles in ``static/``), ``chat`` (its routes), ``card`` (a
reply's fields as an answer card), ``passages``, ``suggest``, ``clinic``,
``article_page``; the staff page: ``staff_page``, ``handlers``, ``render``, ``articles``
(the articles as text); shared: ``api`` (input checks, rate limit, answer slots, staff
credentials), ``guard`` (request ids, JSON 500s, no uploads), ``staff`` (who is staff,
whether the app may start), ``ratelimit`` (who the client is, how often it may ask),
``sessions`` (what Gradio keeps per session), ``feedback``.
"""
